import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProtocolName } from '../actions/define-action.js';
import { LoadError } from '../scenario/errors.js';
import type { Diagnostic } from '../scenario/errors.js';
import { isPlainObject, issuesToDiagnostics } from '../scenario/issues.js';
import { isSecretKey } from '../scenario/redact.js';
import { parseYamlWithPositions } from '../scenario/yaml-doc.js';
import type { DataPath, PositionMap } from '../scenario/yaml-doc.js';
import { ENDPOINT_NAMES, ENDPOINT_PROTOCOL } from './endpoints.js';
import type { EndpointName } from './endpoints.js';
import { DEFAULT_TIMEOUTS } from './model.js';
import type { Account, Endpoint, Target, TlsSettings } from './model.js';
import { targetSchema } from './schema.js';
import type { TargetInput, TlsInput } from './schema.js';

/** Reads and loads a target file; relative CA paths resolve against its folder. */
export async function loadTargetFile(file: string): Promise<Target> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'target file not found' : `cannot read target file: ${(err as Error).message}`;
    throw new LoadError('EFILE_READ', [{ pos: { file, line: 1, col: 1 }, message: reason }]);
  }
  return loadTargetSource(text, file, path.dirname(path.resolve(file)));
}

/** Loads a target from text. Reads the CA file(s) it names; never touches the network. */
export function loadTargetSource(text: string, file: string, baseDir: string): Target {
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
  return resolveTarget(result.data, file, baseDir, positions);
}

function resolveTarget(input: TargetInput, file: string, baseDir: string, positions: PositionMap): Target {
  const diagnostics: Diagnostic[] = [];
  const caCache = new Map<string, string | undefined>();
  // Messages name the path as written: the resolved one differs per machine.
  const readCa = (caFile: string, written: string, at: DataPath): string | undefined => {
    if (caCache.has(caFile)) return caCache.get(caFile);
    const shown = path.isAbsolute(written) ? `'${written}'` : `'${written}' (relative to the target file's folder)`;
    let pem: string | undefined;
    try {
      pem = readFileSync(caFile, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
        diagnostics.push({ pos: positions.posOf(at), message: `CA file ${shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
        pem = undefined;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      diagnostics.push({ pos: positions.posOf(at), message: `cannot read CA file ${shown}: ${why}` });
    }
    caCache.set(caFile, pem);
    return pem;
  };

  const resolveTls = (top: TlsInput | undefined, own: TlsInput | undefined, topPath: DataPath, ownPath: DataPath): TlsSettings => {
    for (const [block, p] of [[top, topPath], [own, ownPath]] as const) {
      if (block?.insecure === true && block.verify === true) {
        diagnostics.push({ pos: positions.keyPosOf([...p, 'insecure']), message: "'insecure: true' conflicts with 'verify: true'; keep one of them" });
      }
    }
    // An endpoint that says anything about verification decides it alone;
    // otherwise it inherits the top-level choice. verify:false means insecure.
    const decides = own !== undefined && (own.verify !== undefined || own.insecure !== undefined) ? own : top;
    const insecure = decides?.insecure === true || decides?.verify === false;
    const caFrom = own?.ca_file !== undefined ? { v: own.ca_file, p: [...ownPath, 'ca_file'] } : top?.ca_file !== undefined ? { v: top.ca_file, p: [...topPath, 'ca_file'] } : undefined;
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
    accounts[role] = { role, user: a.user, address: a.address, passwordEnv: a.password_env, source: positions.posOf(['accounts', role]) };
  }
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
    source: positions.posOf([]),
    positions,
  };
}
