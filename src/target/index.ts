export { loadTargetFile, loadTargetSource, loadTargetText } from './load.js';
export { resolveAccountPassword, collectSecrets, missingSecrets, SecretError } from './secrets.js';
export { parseEnvFile } from './env-file.js';
export { targetSchema } from './schema.js';
export { isTargetText } from './kind.js';
export { DEFAULT_TIMEOUTS } from './model.js';
export type { Target, Endpoint, Account, TlsSettings, Timeouts } from './model.js';
export { ENDPOINT_NAMES, ENDPOINT_PROTOCOL, PROTOCOL_NAMES, SECURITY_MODES } from './endpoints.js';
export type { EndpointName, Security } from './endpoints.js';
