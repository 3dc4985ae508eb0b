import { fileURLToPath } from 'node:url';
import { LAB_ACCOUNTS, type LabAccount } from './accounts.js';
import { ENDPOINT_HOST, ENDPOINT_SECURITY, ENDPOINTS, LAB_HOST, type EndpointName, type LabPorts } from './ports.js';

/**
 * The editor schema of target files (`npm run schema`), which the package ships. An absolute path: the file
 * is a template users copy elsewhere, and a relative one would break in the copy. Resolves from src/lab
 * (tests) and dist/lab (the built or installed package) alike.
 */
export const TARGET_SCHEMA_FILE = fileURLToPath(new URL('../../schema/target.schema.json', import.meta.url));

/** What differs between the lab's target files: one per server (target.yaml is Dovecot's). */
export interface TargetProfile {
  name: string;
  host: string;
  /** Header lines after the common ones, without the leading "# ". */
  notes: readonly string[];
  hostOf: (endpoint: EndpointName) => string;
  accounts: readonly LabAccount[];
  /** Known deviations of this server (`deviations:`), each with its wire evidence in the server's lab test. */
  deviations?: readonly LabDeviation[];
}

export interface LabDeviation {
  /** `<scenario id>#<check id>`. */
  readonly check: string;
  readonly reason: string;
  readonly rfc: string;
}

/** Dovecot's target.yaml: plain imap and pop3 on 127.0.0.2 (ENDPOINT_HOST). */
export const DOVECOT_TARGET: TargetProfile = {
  name: 'mailprobe lab',
  host: LAB_HOST,
  notes: [
    `Plain imap and pop3 live on ${ENDPOINT_HOST.imap}: Dovecot treats ${LAB_HOST} -> ${LAB_HOST} as secured`,
    'and would allow plaintext login before STARTTLS/STLS there, unlike a real host.',
  ],
  hostOf: (e) => ENDPOINT_HOST[e],
  accounts: LAB_ACCOUNTS,
};

/**
 * The target file the lab writes. Its shape is a contract with the target
 * loader (src/target): exactly these keys, no others. Written by hand rather
 * than through a YAML library so the layout stays the readable, copyable
 * template that the header promises.
 *
 * The top-level host is 127.0.0.1; the plain IMAP and POP3 endpoints carry
 * their own `host: 127.0.0.2`, where Dovecot does not treat the connection
 * as secured and so hides plaintext login until STARTTLS/STLS (ENDPOINT_HOST).
 * Other servers' files (`target-<server>.yaml`) have the same shape, with their own profile.
 */
export function renderTargetFile(ports: LabPorts, caFile: string, profile: TargetProfile = DOVECOT_TARGET): string {
  const accounts = profile.accounts;
  const width = Math.max(...ENDPOINTS.map((e) => e.length)) + 1;
  const roleWidth = Math.max(...accounts.map((a) => a.role.length)) + 1;
  const userWidth = Math.max(...accounts.map((a) => a.user.length)) + 1;
  const addrWidth = Math.max(...accounts.map((a) => a.address.length)) + 1;
  const endpointHost = (endpoint: EndpointName) => (profile.hostOf(endpoint) === profile.host ? '' : `host: ${profile.hostOf(endpoint)}, `);
  const lines = [
    `# yaml-language-server: $schema=${TARGET_SCHEMA_FILE}`,
    '# Written by `mailprobe lab up` for the built-in loopback lab (ports change between labs).',
    '# Copy it as a template for a real host: change host, ports, tls and accounts.',
    '# Passwords are never stored here: each account names the environment variable that holds it',
    '# (for the lab, see lab.env beside this file).',
    ...profile.notes.map((n) => `# ${n}`),
    `name: ${profile.name}`,
    `host: ${profile.host}`,
    'tls:',
    '  verify: true',
    `  ca_file: ${caFile}`,
    '  servername: localhost',
    'endpoints:',
    ...ENDPOINTS.map((e) => `  ${`${e}:`.padEnd(width)} { ${endpointHost(e)}port: ${ports[e]}, security: ${ENDPOINT_SECURITY[e]} }`),
    'accounts:',
    ...accounts
      .filter((a) => a.standIn !== true)
      .flatMap((a) => {
        const fields = `user: ${`${a.user},`.padEnd(userWidth)} address: ${`${a.address},`.padEnd(addrWidth)} password_env: ${a.passwordEnv}`;
        const standIns = accounts.filter((s) => s.standIn === true && s.role === a.role);
        if (standIns.length === 0) return [`  ${`${a.role}:`.padEnd(roleWidth)} { ${fields} }`];
        // A flow mapping may go on over lines: the table of roles stays one line per account.
        return [
          `  ${`${a.role}:`.padEnd(roleWidth)} { ${fields},`,
          `    # other mailboxes that may take this role when scenarios run at once (run --concurrency)`,
          '    stand_ins: [',
          ...standIns.map(
            (s) => `      { user: ${`${s.user},`.padEnd(userWidth)} address: ${`${s.address},`.padEnd(addrWidth)} password_env: ${s.passwordEnv} },`,
          ),
          '    ] }',
        ];
      }),
    // JSON strings are YAML double-quoted scalars: a reason may hold ':' or '#'.
    ...(profile.deviations?.length
      ? [
          'deviations:',
          ...profile.deviations.flatMap((d) => [`  - check: ${d.check}`, `    reason: ${JSON.stringify(d.reason)}`, `    rfc: ${JSON.stringify(d.rfc)}`]),
        ]
      : []),
  ];
  return lines.join('\n') + '\n';
}
