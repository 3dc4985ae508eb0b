import path from 'node:path';
import type { ProtocolName } from '../actions/define-action.js';
import { LoadError } from '../core/diagnostics.js';
import { readInputOrThrow } from '../input/errors.js';
import { InputFileError, readInputText } from '../input/input-file.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { isPlainObject, issuesToDiagnostics } from '../input/issues.js';
import { isSecretKey } from '../input/redact.js';
import { parseYamlWithPositions } from '../input/yaml-doc.js';
import type { DataPath, PositionMap } from '../input/yaml-doc.js';
import { ENDPOINT_NAMES, ENDPOINT_PROTOCOL } from './endpoints.js';
import type { EndpointName } from './endpoints.js';
import { DEFAULT_TIMEOUTS } from './model.js';
import type { Account, Endpoint, Target, TlsSettings } from './model.js';
import { targetSchema } from './schema.js';
import type { TargetInput, TlsInput } from './schema.js';

/** Reads and loads a target file; relative CA paths resolve against its folder. */
export async function loadTargetFile(file: string): Promise<Target> {
  return loadTargetText(await readInputOrThrow(file, 'target'), file);
}

/** Loads a target file's text, already read (`file` names it): the CA files it names are read here. */
export async function loadTargetText(text: string, file: string): Promise<Target> {
  const baseDir = path.dirname(path.resolve(file));
  const { input, positions } = checkTargetSource(text, file);
  // CA files are read here, asynchronously and bounded, so that loadTargetSource stays synchronous and reads no file.
  const cas = new Map<string, CaRead>();
  for (const written of caFilesNamed(input)) {
    const caFile = path.resolve(baseDir, written);
    if (!cas.has(caFile)) cas.set(caFile, await readCaFile(caFile));
  }
  return resolveTarget(input, file, baseDir, positions, cas);
}

/**
 * Loads a target from text, synchronously. Reads no file: the text of each
 * CA file it names must be in `cas` (loadTargetFile fills it), else that CA
 * is reported as not read. Never touches the network.
 */
export function loadTargetSource(text: string, file: string, baseDir: string, cas: ReadonlyMap<string, CaRead> = new Map()): Target {
  const { input, positions } = checkTargetSource(text, file);
  return resolveTarget(input, file, baseDir, positions, cas);
}

/** A CA file's text, or why it could not be used (worded to follow "cannot read CA file 'x': "). */
export type CaRead = { readonly pem: string } | { readonly problem: string };

async function readCaFile(caFile: string): Promise<CaRead> {
  try {
    return { pem: await readInputText(caFile, 'ca') };
  } catch (err) {
    if (err instanceof InputFileError)
      return { problem: err.problem === 'ENOENT' ? 'no such file' : err.problem === 'EACCES' ? 'permission denied' : err.message };
    throw err;
  }
}

function caFilesNamed(input: TargetInput): string[] {
  const named = [input.tls?.ca_file, ...Object.values(input.endpoints).map((e) => e?.tls?.ca_file)];
  return named.filter((v): v is string => typeof v === 'string');
}

function checkTargetSource(text: string, file: string): { input: TargetInput; positions: PositionMap } {
  const parsed = parseYamlWithPositions(text, file);
  if (parsed.diagnostics.length > 0) throw new LoadError('EYAML_SYNTAX', parsed.diagnostics);
  const { data, positions } = parsed;
  if (!isPlainObject(data)) {
    throw new LoadError('ETARGET_INVALID', [{ pos: positions.posOf([]), message: 'expected a target: a map with name, host, endpoints and accounts' }]);
  }
  const result = targetSchema.safeParse(data);
  if (!result.success) {
    throw new LoadError(
      'ETARGET_INVALID',
      issuesToDiagnostics(result.error.issues, {
        data,
        schema: targetSchema,
        positions,
        unknownKeyHint: (p, key) =>
          p[0] === 'accounts' && p.length === 2 && isSecretKey(key)
            ? "passwords never go in the target file: put it in an environment variable and name that variable with 'password_env'"
            : undefined,
      }),
    );
  }
  return { input: result.data, positions };
}

function resolveTarget(input: TargetInput, file: string, baseDir: string, positions: PositionMap, cas: ReadonlyMap<string, CaRead>): Target {
  const diagnostics: Diagnostic[] = [];
  // Messages name the path as written: the resolved one differs per machine.
  const checked = new Map<string, string | undefined>();
  const readCa = (caFile: string, written: string, at: DataPath): string | undefined => {
    // One diagnostic per CA file, however many endpoints inherit it.
    if (checked.has(caFile)) return checked.get(caFile);
    const pem = checkCa(caFile, written, at);
    checked.set(caFile, pem);
    return pem;
  };
  const checkCa = (caFile: string, written: string, at: DataPath): string | undefined => {
    const shown = path.isAbsolute(written) ? `'${written}'` : `'${written}' (relative to the target file's folder)`;
    const read = cas.get(caFile) ?? { problem: 'not read (loadTargetSource reads no files; use loadTargetFile)' };
    if ('problem' in read) {
      diagnostics.push({ pos: positions.posOf(at), message: `cannot read CA file ${shown}: ${read.problem}` });
      return undefined;
    }
    if (!read.pem.includes('-----BEGIN CERTIFICATE-----')) {
      diagnostics.push({ pos: positions.posOf(at), message: `CA file ${shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
      return undefined;
    }
    return read.pem;
  };

  const resolveTls = (top: TlsInput | undefined, own: TlsInput | undefined, topPath: DataPath, ownPath: DataPath): TlsSettings => {
    for (const [block, p] of [
      [top, topPath],
      [own, ownPath],
    ] as const) {
      if (block?.insecure === true && block.verify === true) {
        diagnostics.push({ pos: positions.keyPosOf([...p, 'insecure']), message: "'insecure: true' conflicts with 'verify: true'; keep one of them" });
      }
    }
    // An endpoint that says anything about verification decides it alone;
    // otherwise it inherits the top-level choice. verify:false means insecure.
    const decides = own !== undefined && (own.verify !== undefined || own.insecure !== undefined) ? own : top;
    const insecure = decides?.insecure === true || decides?.verify === false;
    const caFrom =
      own?.ca_file !== undefined
        ? { v: own.ca_file, p: [...ownPath, 'ca_file'] }
        : top?.ca_file !== undefined
          ? { v: top.ca_file, p: [...topPath, 'ca_file'] }
          : undefined;
    const servername = own?.servername ?? top?.servername;
    let tls: TlsSettings = { verify: !insecure, insecure };
    if (caFrom) {
      const caFile = path.resolve(baseDir, caFrom.v);
      const ca = readCa(caFile, caFrom.v, caFrom.p);
      tls = { ...tls, caFile, ...(ca !== undefined ? { ca } : {}) };
    }
    return servername !== undefined ? { ...tls, servername } : tls;
  };

  const tls = resolveTls(input.tls, undefined, ['tls'], ['tls']);
  const endpoints: Partial<Record<EndpointName, Endpoint>> = {};
  for (const name of ENDPOINT_NAMES) {
    const e = input.endpoints[name];
    if (e === undefined) continue;
    const p = ['endpoints', name];
    endpoints[name] = {
      name,
      protocol: ENDPOINT_PROTOCOL[name],
      host: e.host ?? input.host,
      port: e.port,
      security: e.security,
      tls: e.tls === undefined ? tls : resolveTls(input.tls, e.tls, ['tls'], [...p, 'tls']),
      source: positions.posOf(p),
    };
  }
  const accounts: Record<string, Account> = {};
  for (const [role, a] of Object.entries(input.accounts)) {
    const standIns = (a.stand_ins ?? []).map((m, i) => ({
      role,
      user: m.user,
      address: m.address,
      passwordEnv: m.password_env,
      source: positions.posOf(['accounts', role, 'stand_ins', i]),
    }));
    accounts[role] = {
      role,
      user: a.user,
      address: a.address,
      passwordEnv: a.password_env,
      source: positions.posOf(['accounts', role]),
      ...(standIns.length > 0 ? { standIns } : {}),
    };
  }
  for (const account of Object.values(accounts)) {
    const seen = new Set([account.user.toLowerCase()]);
    for (const standIn of account.standIns ?? []) {
      if (seen.has(standIn.user.toLowerCase()))
        diagnostics.push({
          pos: standIn.source,
          message: `stand-in '${standIn.user}' of account '${account.role}' is already that account or one of its stand-ins; list each mailbox once`,
        });
      seen.add(standIn.user.toLowerCase());
    }
  }
  const deviations = (input.deviations ?? []).map((d, i) => ({
    check: d.check,
    reason: d.reason,
    rfc: d.rfc,
    source: positions.posOf(['deviations', i, 'check']),
  }));
  const listedAt = new Map<string, number>();
  deviations.forEach((d, i) => {
    const first = listedAt.get(d.check);
    if (first === undefined) listedAt.set(d.check, i);
    else
      diagnostics.push({ pos: d.source, message: `deviation '${d.check}' is already listed at line ${deviations[first]!.source.line}; list each check once` });
  });
  if (diagnostics.length > 0) throw new LoadError('ETARGET_INVALID', diagnostics);
  const caps: Partial<Record<ProtocolName, string[]>> = {};
  for (const [proto, list] of Object.entries(input.capabilities_required ?? {})) if (list) caps[proto as ProtocolName] = list;
  return {
    file,
    name: input.name,
    host: input.host,
    tls,
    endpoints,
    accounts,
    timeouts: { ...DEFAULT_TIMEOUTS, ...input.timeouts },
    capabilitiesRequired: caps,
    deviations,
    source: positions.posOf([]),
    positions,
  };
}
