/**
 * What the replay reads of the lab: the target's endpoints, accounts and CA (target.yaml), the passwords (the
 * secrets file, KEY=VALUE), and each scenario's sessions and steps (its YAML), to know whose login a line is.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { Credentials, PlanContext, Protocol, ReportStep } from './replay-plan.js';

interface TargetFile {
  host: string;
  tls?: { ca_file?: string; servername?: string };
  endpoints: Record<string, { host?: string; port: number; security: string }>;
  accounts: Record<string, { user: string; password_env: string }>;
}

export interface Lab {
  readonly target: TargetFile;
  readonly ca: string;
  readonly servername: string;
}

export async function readLab(targetFile: string): Promise<Lab> {
  const target = parse(await readFile(targetFile, 'utf8')) as TargetFile;
  const caFile = target.tls?.ca_file;
  if (caFile === undefined) throw new Error(`${targetFile} names no tls.ca_file: the replay verifies TLS as the harness does`);
  return { target, ca: await readFile(caFile, 'utf8'), servername: target.tls?.servername ?? target.host };
}

export async function readSecrets(file: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m !== null) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

const protocolOfEndpoint = (name: string): Protocol | undefined =>
  name.startsWith('pop3') ? 'pop3' : name.startsWith('imap') ? 'imap' : ['smtp', 'smtps', 'submission'].includes(name) ? 'smtp' : undefined;

export function endpointOf(lab: Lab, name: string): { host: string; port: number; security: string } | undefined {
  const e = lab.target.endpoints[name];
  return e === undefined ? undefined : { host: e.host ?? lab.target.host, port: e.port, security: e.security };
}

interface ScenarioFile {
  sessions?: Record<string, { account?: string }>;
  steps?: Array<{ name?: string; with?: { account?: string } }>;
  cleanup?: Array<{ name?: string; with?: { account?: string } }>;
}

/** The plan's context for one scenario: its sessions' accounts, an SMTP step's account, the target's ports. */
export async function planContext(lab: Lab, scenarioFile: string, runId: string): Promise<PlanContext> {
  const scenario = parse(await readFile(scenarioFile, 'utf8')) as ScenarioFile;
  const credentials = (account: string | undefined): Credentials | undefined => {
    const a = account === undefined ? undefined : lab.target.accounts[account];
    return a === undefined ? undefined : { user: a.user, passwordEnv: a.password_env };
  };
  return {
    runId,
    credentialsFor(session: string, step: ReportStep) {
      // A named session's account; otherwise (SMTP sessions, an action's own connections) the step's `with.account`.
      const base = session.split('~', 1)[0]!;
      const own = scenario.sessions?.[base]?.account;
      if (own !== undefined) return credentials(own);
      const yamlStep = [...(scenario.steps ?? []), ...(scenario.cleanup ?? [])].find((s) => s.name === step.name);
      return credentials(yamlStep?.with?.account);
    },
    credentialsOfUser(user: string) {
      const found = Object.entries(lab.target.accounts).find(([, a]) => a.user === user);
      return found === undefined ? undefined : credentials(found[0]);
    },
    protocolOf(host: string, port: number) {
      for (const [name, e] of Object.entries(lab.target.endpoints)) if (e.port === port && (e.host ?? lab.target.host) === host) return protocolOfEndpoint(name);
      return undefined;
    },
  };
}
