/**
 * The built-in loopback lab: a private Dovecot + Postfix on 127.0.0.1 high
 * ports (plain IMAP and POP3 on 127.0.0.2, see ENDPOINT_HOST in ports.ts), started from configs under a state directory (default
 * /tmp/mailprobe-lab), with a target file and a 0600 env file of passwords.
 */
export { labUp, labDown, labStatus } from './lab.js';
export type { LabOptions, LabInfo, LabServerInfo, LabStatus } from './lab.js';
export { parseServerList, availableServers, labTargetFile, SERVER_NAMES } from './servers/index.js';
export type { ServerName } from './servers/index.js';
export { LabError } from './errors.js';
export type { LabErrorCode } from './errors.js';
export { defaultLabDir, DEFAULT_LAB_DIR } from './paths.js';
export { readLabEnv, LAB_ACCOUNTS } from './accounts.js';
export { LAB_PACKAGES, installCommandLine, missingPackages } from './install.js';
export { ENDPOINTS, ENDPOINT_HOST, SERVER_HOST } from './ports.js';
export type { EndpointName } from './ports.js';
