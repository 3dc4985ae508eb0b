import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setMaxListeners } from 'node:events';
import { defaultLabDir } from '../../lab/index.js';
import { escapeControls } from '../../reporters/escape.js';
import { newRunId } from '../../runner/execute.js';
import { loadTarget } from '../../runner/load-inputs.js';
import { readInputOrThrow } from '../../input/errors.js';
import { parseEnvFile, resolveAccountPassword, collectSecrets, type Endpoint, type Target } from '../../target/index.js';
import { Redactor } from '../../transport/redact.js';
import { runImapLoad, type LoadAccount } from '../../load/imap-load.js';
import { runPop3Load } from '../../load/pop3-load.js';
import { DEFAULT_MIX_TEXT, MixError, parseMix, type Mix } from '../../load/mix.js';
import { loadExitCode, renderLoadConsole, renderLoadJson } from '../../load/render.js';
import { EXIT } from '../exit-codes.js';
import type { CliContext } from '../run-context.js';

/** Load defaults: every client may hold its connection (the budget's bound is --clients), and new connections are not what is throttled. */
export const LOAD_DEFAULT_CONNECT_RATE = 500;
export const LOAD_DEFAULT_SESSION_COMMANDS = 6;

export interface LoadCommandOptions {
  readonly target?: string;
  readonly secretsFile?: string;
  readonly protocol: string;
  readonly clients: number;
  readonly duration: string;
  readonly mix?: string;
  readonly reconnect: boolean;
  readonly sessionCommands?: number;
  readonly pipeline?: number;
  readonly account: readonly string[];
  readonly json?: string;
  readonly maxConnectionsPerHost?: number;
  readonly connectRate?: number;
}

/** "30s", "500ms", "2m", or a bare number of seconds; at most an hour. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw new Error(`--duration: '${text}' is not a duration such as 30s, 500ms or 2m`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (!(ms >= 100) || ms > 3_600_000) throw new Error('--duration: expected from 100ms to 60m');
  return Math.round(ms);
}

export async function loadCommand(options: LoadCommandOptions, ctx: CliContext): Promise<number> {
  const say = (line: string) => ctx.stderr.write(`${escapeControls(line, { keep: '\n' })}\n`);
  const usage = (why: string) => {
    say(`mailprobe load: ${why}`);
    return EXIT.USAGE;
  };
  // Every input is checked before the first connection.
  if (options.protocol !== 'imap' && options.protocol !== 'pop3') return usage(`--protocol: expected imap or pop3, not '${options.protocol}'`);
  if (
    options.protocol === 'pop3' &&
    (options.mix !== undefined || options.reconnect || options.sessionCommands !== undefined || options.pipeline !== undefined)
  )
    return usage(
      '--mix, --reconnect, --session-commands and --pipeline are for imap; a pop3 client repeats one cycle (APPEND, LOGIN, STAT, FIND, RETR, DELE, QUIT)',
    );
  let mix: Mix;
  let durationMs: number;
  try {
    mix = parseMix(options.mix ?? DEFAULT_MIX_TEXT);
    durationMs = parseDuration(options.duration);
  } catch (err) {
    if (err instanceof MixError || err instanceof Error) return usage(err.message);
    throw err;
  }
  if (options.pipeline !== undefined && options.pipeline > 1 && options.reconnect) return usage('--pipeline is for persistent clients, not with --reconnect');
  if (options.json !== undefined && options.json !== '-' && options.json.trim() === '') return usage('--json: give a file name, or - for stdout');

  const fromLab = options.target === undefined;
  const targetFile = fromLab ? join(defaultLabDir(ctx.env), 'target.yaml') : resolve(ctx.cwd, options.target as string);
  if (fromLab && !existsSync(targetFile)) return usage(`no --target given and no lab is running (looked for ${targetFile})`);
  const env: Record<string, string | undefined> = { ...ctx.env };
  try {
    if (fromLab) Object.assign(env, parseEnvFile(await readInputOrThrow(join(defaultLabDir(ctx.env), 'lab.env'), 'env'), 'lab.env'));
    if (options.secretsFile !== undefined) {
      const file = resolve(ctx.cwd, options.secretsFile);
      Object.assign(env, parseEnvFile(await readInputOrThrow(file, 'env'), file));
    }
  } catch (err) {
    return usage((err as Error).message);
  }
  const loaded = await loadTarget(targetFile);
  if (loaded.value === undefined) {
    for (const p of loaded.problems) say(p);
    return EXIT.USAGE;
  }
  const target: Target = loaded.value;
  const endpoint: Endpoint | undefined = target.endpoints.imap ?? target.endpoints.imaps;
  if (endpoint === undefined) return usage(`${targetFile}: the target has no imap or imaps endpoint`);
  const pop3: Endpoint | undefined = target.endpoints.pop3 ?? target.endpoints.pop3s;
  if (options.protocol === 'pop3' && pop3 === undefined) return usage(`${targetFile}: the target has no pop3 or pop3s endpoint`);
  const roles = options.account.length > 0 ? options.account : [Object.keys(target.accounts)[0] ?? ''];
  const accounts: LoadAccount[] = [];
  for (const role of roles) {
    const account = target.accounts[role];
    if (account === undefined) return usage(`--account ${role}: the target has no such account (it has ${Object.keys(target.accounts).join(', ') || 'none'})`);
    try {
      accounts.push({ role, user: account.user, password: resolveAccountPassword(account, env) });
    } catch (err) {
      return usage((err as Error).message);
    }
    // POP3 locks a maildrop per session (RFC 1939 §4): the account's stand-ins give the clients more maildrops.
    if (options.protocol === 'pop3') {
      for (const standIn of account.standIns ?? []) {
        try {
          accounts.push({ role, user: standIn.user, password: resolveAccountPassword(standIn, env) });
        } catch (err) {
          return usage((err as Error).message);
        }
      }
    }
  }
  const redactor = new Redactor(collectSecrets(target, env));

  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const imap = { host: endpoint.host, port: endpoint.port, security: endpoint.security, tls: endpoint.tls, timeouts: target.timeouts };
    const result =
      options.protocol === 'pop3' && pop3 !== undefined
        ? await runPop3Load({
            runId: newRunId(),
            pop3: { host: pop3.host, port: pop3.port, security: pop3.security, tls: pop3.tls, timeouts: target.timeouts },
            imap,
            accounts,
            clients: options.clients,
            durationMs,
            // Each client holds an IMAP connection and opens a POP3 one per cycle.
            maxConnectionsPerHost: options.maxConnectionsPerHost ?? options.clients * 2,
            connectRate: options.connectRate ?? LOAD_DEFAULT_CONNECT_RATE,
            signal: abort.signal,
          })
        : await runImapLoad({
            runId: newRunId(),
            endpoint: imap,
            accounts,
            clients: options.clients,
            durationMs,
            mix,
            reconnect: options.reconnect,
            sessionCommands: options.sessionCommands ?? LOAD_DEFAULT_SESSION_COMMANDS,
            pipeline: options.pipeline ?? 1,
            maxConnectionsPerHost: options.maxConnectionsPerHost ?? options.clients,
            connectRate: options.connectRate ?? LOAD_DEFAULT_CONNECT_RATE,
            signal: abort.signal,
          });
    const console = redactor.text(renderLoadConsole(result));
    const summary = { name: target.name, host: target.host, file: fromLab ? '(lab)' : target.file, insecure: endpoint.tls.insecure };
    const json = redactor.text(renderLoadJson(result, ctx.version, summary));
    if (options.json === '-') {
      ctx.stderr.write(escapeControls(console, { keep: '\n' }));
      ctx.stdout.write(json);
    } else {
      ctx.stdout.write(escapeControls(console, { keep: '\n' }));
      if (options.json !== undefined) {
        try {
          await writeFile(resolve(ctx.cwd, options.json), json, { mode: 0o600 });
        } catch (err) {
          say(`mailprobe load: could not write ${options.json}: ${(err as Error).message}`);
          return EXIT.ERRORED;
        }
      }
    }
    return loadExitCode(result);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
