import { chmod, chown, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { generatePassword, LAB_ACCOUNTS, labEnvText, writePrivateFile, type LabAccount } from './accounts.js';
import { LabError } from './errors.js';
import { run, runToFile } from './exec.js';
import { waitForGreetings, type GreetingTarget } from './greeting.js';
import { ensurePackages, isRoot, LAB_PACKAGES } from './install.js';
import { withLock } from './lock.js';
import { withLogTails } from './logs.js';
import { defaultLabDir, labLayout, type LabLayout } from './paths.js';
import { choosePorts, ENDPOINT_HOST, ENDPOINTS, freePort, portIsFree, type LabPorts, type LabSocket } from './ports.js';
import { commandLine, descendants, environVar, isAlive, listenerPids, listeningSockets, livePid, readPidFile, signal, sleep, waitForPidFile } from './procs.js';
import { readState, writeState, type LabState, type ServerRecord } from './state.js';
import { createLabCertificates } from './tls.js';
import { ensureMailUser, requireUser } from './users.js';
import { ensureUnpacked } from './unpack.js';
import { dovecot, labInstance } from './servers/dovecot.js';
import { serverModule, type LabServer, type ServerName, type ServerPorts } from './servers/index.js';
import type { PostfixPart, ServerContext } from './servers/types.js';
import { renderTemplateFile } from './templates.js';
import { makeFolders } from '../transport/private-files.js';

export interface LabOptions {
  /** State directory; defaults to defaultLabDir() (MAILPROBE_LAB_DIR or /tmp/mailprobe-lab). */
  stateDir?: string;
  /** Progress lines for a human. Never receives a password. */
  log?: (line: string) => void;
  /** Servers to run (parseServerList); Dovecot always runs. Default: Dovecot alone. */
  servers?: readonly ServerName[];
}

/** One server of a running lab, as `lab up` reports it. */
export interface LabServerInfo {
  name: ServerName;
  targetFile: string;
  ports: Record<string, number>;
  /** listener -> the address it listens on */
  hosts: Record<string, string>;
}

export interface LabInfo {
  stateDir: string;
  /** Dovecot's target file (target.yaml); other servers' are in `servers`. */
  targetFile: string;
  envFile: string;
  caFile: string;
  ports: Record<string, number>;
  /** endpoint -> the address it listens on (plain imap/pop3 on 127.0.0.2, see ENDPOINT_HOST). */
  hosts: Record<string, string>;
  accounts: Array<{ role: string; user: string; address: string; passwordEnv: string }>;
  /** Every server that runs, Dovecot first. */
  servers: LabServerInfo[];
  alreadyRunning: boolean;
}

export interface LabStatus {
  running: boolean;
  stateDir: string;
  daemons: Array<{ name: string; pid: number | null; alive: boolean }>;
  ports: Array<{ endpoint: string; host: string; port: number; listening: boolean; server: ServerName }>;
}

/** Generous: the machines are shared and noisy; a healthy lab greets within ~1 s. */
const READY_DEADLINE_MS = 30_000;
const MASTER_EXIT_WAIT_MS = 8_000;
const CHILD_EXIT_WAIT_MS = 4_000;

function resolveLayout(options: LabOptions): LabLayout {
  return labLayout(options.stateDir ?? defaultLabDir());
}

/** The servers beside Dovecot that a state records, as modules. */
function extraServers(state: LabState | null): LabServer[] {
  const out: LabServer[] = [];
  for (const name of Object.keys(state?.servers ?? {})) {
    try {
      out.push(serverModule(name as ServerName));
    } catch {
      // A server this version does not know: nothing of it can be checked.
    }
  }
  return out;
}

function serverInfo(server: LabServer, layout: LabLayout, ports: ServerPorts): LabServerInfo {
  return {
    name: server.name,
    targetFile: server.targetFile(layout),
    ports: { ...ports },
    hosts: Object.fromEntries(Object.keys(ports).map((n) => [n, server.hostOf(n)])),
  };
}

function info(layout: LabLayout, ports: LabPorts, extras: ReadonlyArray<{ server: LabServer; ports: ServerPorts }>, alreadyRunning: boolean): LabInfo {
  return {
    stateDir: layout.stateDir,
    targetFile: layout.targetFile,
    envFile: layout.envFile,
    caFile: layout.caFile,
    ports: { ...ports },
    hosts: { ...ENDPOINT_HOST },
    accounts: LAB_ACCOUNTS.map((a: LabAccount) => ({ ...a })),
    servers: [serverInfo(dovecot, layout, ports), ...extras.map((e) => serverInfo(e.server, layout, e.ports))],
    alreadyRunning,
  };
}

/**
 * PID of a daemon master, trusted only if it is alive and is *this* lab's
 * master: PIDs get reused, and several labs (default, test) may run side by
 * side. Postfix's master has a bare argv but inherits MAIL_CONFIG=<config dir>
 * from `postfix -c`; each server module checks its own.
 */

function postfixMaster(layout: LabLayout) {
  return async (pid: number) => /(^|\/)master( |$)/.test(await commandLine(pid)) && (await environVar(pid, 'MAIL_CONFIG')) === layout.postfixConfDir;
}

interface RunningLab {
  dovecot: number | null;
  postfix: number | null;
  /** Live PIDs of each further server the state records, by role. */
  servers: Map<LabServer, Record<string, number | null>>;
}

async function masters(layout: LabLayout, state: LabState | null): Promise<RunningLab> {
  const isPostfix = postfixMaster(layout);
  const dovecotPids = await dovecot.livePids(layout, { master: state?.dovecotPid ?? null });
  const postfix = (await livePid(state?.postfixPid ?? null, isPostfix)) ?? (await livePid(await readPidFile(layout.postfixPidFile), isPostfix));
  const servers = new Map<LabServer, Record<string, number | null>>();
  for (const server of extraServers(state)) {
    servers.set(server, await server.livePids(layout, state?.servers[server.name]?.pids ?? {}));
  }
  return { dovecot: dovecotPids['master'] ?? null, postfix, servers };
}

function allAlive(pids: Record<string, number | null>): boolean {
  return Object.values(pids).every((p) => p !== null);
}

/** Every listener of the lab: Dovecot's and Postfix's (LabPorts), then each further server's. */
function greetingTargets(state: LabState, extras: readonly LabServer[]): GreetingTarget[] {
  return [...dovecot.greetings(state.ports), ...extras.flatMap((s) => s.greetings(state.servers[s.name]?.ports ?? {}))];
}

/** The listening sockets of every server in the state, to check at `status` and `down`. */
function allSockets(state: LabState): Array<LabSocket & { endpoint: string; server: ServerName }> {
  const out: Array<LabSocket & { endpoint: string; server: ServerName }> = ENDPOINTS.map((e) => ({
    endpoint: e,
    host: ENDPOINT_HOST[e],
    port: state.ports[e],
    server: 'dovecot' as ServerName,
  }));
  for (const server of extraServers(state)) {
    for (const [name, port] of Object.entries(state.servers[server.name]?.ports ?? {})) {
      out.push({ endpoint: name, host: server.hostOf(name), port, server: server.name });
    }
  }
  return out;
}

/**
 * Start the lab, or report the running one. Installs missing packages when
 * root (without starting system services), otherwise tells what to install.
 */
export async function labUp(options: LabOptions = {}): Promise<LabInfo> {
  const log = options.log ?? (() => {});
  const layout = resolveLayout(options);
  const wanted = (options.servers ?? ['dovecot']).filter((n) => n !== 'dovecot').map(serverModule);
  await prepareStateDir(layout);
  // Servers may share a package (Cyrus and Courier both need libsasl2-modules): each named once.
  const apt = [...new Set([...LAB_PACKAGES, ...wanted.flatMap((s) => s.aptPackages)])];
  const installed = await ensurePackages(layout.installLog, log, apt);
  if (installed.length > 0) log(`installed ${installed.join(', ')}`);
  if (!isRoot()) {
    throw new LabError('ELAB_NOT_ROOT', 'the mailprobe lab starts Dovecot and Postfix, which switch to their own users: run "mailprobe lab up" as root');
  }
  for (const server of wanted) {
    if (server.unpack === null) continue;
    const root = server.unpack.root(layout);
    const downloaded = await ensureUnpacked(
      { packages: server.unpack.packages, versionOf: server.unpack.versionOf, cacheDir: packageCache(layout), rootDir: root },
      log,
    );
    if (downloaded.length > 0) log(`unpacked ${downloaded.join(', ')} into ${root}`);
  }
  return withLock(layout.lockFile, async () => {
    const state = await readState(layout.stateFile);
    const running = await masters(layout, state);
    const runningExtras = [...running.servers.entries()].filter(([, pids]) => allAlive(pids)).map(([s]) => s);
    const hasAll = wanted.every((w) => runningExtras.includes(w));
    if (state && running.dovecot !== null && running.postfix !== null && hasAll && existsSync(layout.targetFile)) {
      const ready = await waitForGreetings(greetingTargets(state, runningExtras), layout.caFile, 5_000);
      if (ready.ready) {
        log(`lab already running in ${layout.stateDir}`);
        return info(
          layout,
          state.ports,
          runningExtras.map((server) => ({ server, ports: state.servers[server.name]?.ports ?? {} })),
          true,
        );
      }
      log('lab is running but not answering on every port; restarting it');
    }
    // A server asked for now, or one still running from before, starts with the rest.
    const servers = [...new Set([...runningExtras, ...wanted])];
    if (running.dovecot !== null || running.postfix !== null || [...running.servers.values()].some((p) => Object.values(p).some((x) => x !== null))) {
      const adding = wanted.filter((w) => !runningExtras.includes(w));
      // Postfix's config names every server's ports, so adding one restarts them all (new passwords in lab.env).
      if (adding.length > 0) log(`restarting the lab to add ${adding.map((s) => s.name).join(', ')}`);
      await stopLab(layout, state, log);
    }
    const started = await startLab(layout, state, servers, log);
    return info(
      layout,
      started.ports,
      servers.map((server) => ({ server, ports: started.servers[server.name]?.ports ?? {} })),
      false,
    );
  });
}

/** Downloaded .deb files, kept so that a second `lab up` downloads nothing. */
function packageCache(layout: LabLayout): string {
  return `${layout.stateDir}/packages`;
}

/** Stop every process the lab started, by PID, and make sure no lab port is left listening. */
export async function labDown(options: LabOptions = {}): Promise<{ stopped: string[] }> {
  const log = options.log ?? (() => {});
  const layout = resolveLayout(options);
  if (!existsSync(layout.stateDir)) return { stopped: [] };
  return withLock(layout.lockFile, async () => {
    const state = await readState(layout.stateFile);
    return { stopped: await stopLab(layout, state, log) };
  });
}

export async function labStatus(options: LabOptions = {}): Promise<LabStatus> {
  const layout = resolveLayout(options);
  const state = await readState(layout.stateFile);
  const running = await masters(layout, state);
  const daemons: LabStatus['daemons'] = [
    { name: 'dovecot', pid: running.dovecot ?? state?.dovecotPid ?? null, alive: running.dovecot !== null },
    { name: 'postfix', pid: running.postfix ?? state?.postfixPid ?? null, alive: running.postfix !== null },
  ];
  for (const [server, pids] of running.servers) {
    for (const [role, pid] of Object.entries(pids)) {
      daemons.push({
        name: role === 'master' ? server.name : `${server.name} ${role}`,
        pid: pid ?? state?.servers[server.name]?.pids[role] ?? null,
        alive: pid !== null,
      });
    }
  }
  const ports: LabStatus['ports'] = [];
  if (state) {
    // By address and port: a port free on 127.0.0.2 may be someone else's on 127.0.0.1.
    const sockets = allSockets(state);
    const listening = await listeningSockets(sockets);
    for (const s of sockets) {
      ports.push({ endpoint: s.endpoint, host: s.host, port: s.port, listening: listening.has(`${s.host}:${s.port}`), server: s.server });
    }
  }
  return {
    running: daemons.every((d) => d.alive) && ports.length > 0 && ports.every((p) => p.listening),
    stateDir: layout.stateDir,
    daemons,
    ports,
  };
}

// ---------------------------------------------------------------------------

async function prepareStateDir(layout: LabLayout): Promise<void> {
  // Every ancestor must be traversable by dovecot, vmail and postfix (LAB-NOTES 4):
  // a state dir under a mode-700 home fails in confusing ways much later.
  for (let dir = dirname(layout.stateDir); ; dir = dirname(dir)) {
    const st = await stat(dir).catch(() => null);
    if (st && (st.mode & 0o001) === 0) {
      throw new LabError(
        'ELAB_STATE_DIR',
        `${dir} is not traversable by other users (mode ${(st.mode & 0o777).toString(8)}); ` + 'choose a lab directory under /tmp (MAILPROBE_LAB_DIR)',
      );
    }
    if (dir === '/') break;
  }
  await makeFolders(layout.stateDir, 0o755);
  if (isRoot()) await chmod(layout.stateDir, 0o755);
  await makeFolders(layout.logDir, 0o755);
}

/** Ports for each further server on its own address, distinct from every other lab port; the previous ones when still free. */
async function chooseServerPorts(server: LabServer, previous: Record<string, number> | undefined, taken: Set<number>): Promise<Record<string, number>> {
  if (previous && server.portNames.every((n) => typeof previous[n] === 'number' && !taken.has(previous[n] as number))) {
    const free = await Promise.all(server.portNames.map((n) => portIsFree(server.hostOf(n), previous[n] as number)));
    const distinct = new Set(server.portNames.map((n) => previous[n])).size === server.portNames.length;
    if (free.every(Boolean) && distinct) {
      for (const n of server.portNames) taken.add(previous[n] as number);
      return Object.fromEntries(server.portNames.map((n) => [n, previous[n] as number]));
    }
  }
  const ports: Record<string, number> = {};
  for (const name of server.portNames) {
    let port = await freePort(server.hostOf(name));
    while (taken.has(port)) port = await freePort(server.hostOf(name));
    taken.add(port);
    ports[name] = port;
  }
  return ports;
}

async function startLab(layout: LabLayout, previous: LabState | null, extras: readonly LabServer[], log: (l: string) => void): Promise<LabState> {
  const mailUser = await ensureMailUser();
  const postfixUser = await requireUser('postfix');

  const ports = await choosePorts(previous?.ports);
  const taken = new Set<number>(Object.values(ports));
  const servers: Record<string, ServerRecord> = {};
  for (const server of extras) {
    servers[server.name] = { ports: await chooseServerPorts(server, previous?.servers[server.name]?.ports, taken), pids: {} };
  }
  const instance = labInstance(layout);
  log(`preparing lab in ${layout.stateDir} (ports ${ENDPOINTS.map((e) => `${e} ${ENDPOINT_HOST[e]}:${ports[e]}`).join(', ')})`);
  for (const server of extras) {
    const p = servers[server.name]?.ports ?? {};
    log(
      `${server.name}: ${Object.entries(p)
        .map(([n, port]) => `${n} ${server.hostOf(n)}:${port}`)
        .join(', ')}`,
    );
  }

  // A stale target file would point at ports nobody listens on; it is rewritten once ready.
  for (const server of [dovecot, ...extras]) await rm(server.targetFile(layout), { force: true });
  await rm(layout.postfixPidFile, { force: true });
  for (const dir of [layout.postfixConfDir, layout.postfixQueueDir]) {
    await makeFolders(dir, 0o755);
    await chmod(dir, 0o755);
  }
  await makeFolders(layout.postfixDataDir, 0o700);
  await chown(layout.postfixDataDir, postfixUser.uid, postfixUser.gid);
  // Fresh logs per lab, so the tail in an error message is about this start.
  for (const f of [layout.postfixLog, layout.postfixStartLog]) await rm(f, { force: true });

  await createLabCertificates(layout);

  const passwords = new Map(LAB_ACCOUNTS.map((a) => [a.passwordEnv, generatePassword()] as const));
  await writePrivateFile(layout.envFile, labEnvText(passwords));
  const ctx: ServerContext = { layout, passwords, log };
  const all: Array<{ server: LabServer; ports: ServerPorts }> = [
    { server: dovecot, ports },
    ...extras.map((server) => ({ server, ports: servers[server.name]?.ports ?? {} })),
  ];
  const parts: PostfixPart[] = [];
  for (const { server, ports: p } of all) {
    await server.prepare(ctx, p);
    parts.push(await server.postfix(ctx, p));
  }

  await writeFile(
    `${layout.postfixConfDir}/main.cf`,
    await renderTemplateFile('main.cf.tmpl', {
      config_dir: layout.postfixConfDir,
      queue_dir: layout.postfixQueueDir,
      data_dir: layout.postfixDataDir,
      log_file: layout.postfixLog,
      log_dir: layout.logDir,
      recipients_file: layout.postfixRecipients,
      mail_dir: layout.mailDir,
      mail_uid: mailUser.uid,
      mail_gid: mailUser.gid,
      tls_cert: layout.serverCert,
      tls_key: layout.serverKey,
      ...extraVirtualMailboxes(parts),
      server_main_cf: parts.map((p) => p.main).join(''),
    }),
    { mode: 0o644 },
  );
  await writeFile(
    `${layout.postfixConfDir}/master.cf`,
    await renderTemplateFile('master.cf.tmpl', {
      smtp_port: ports.smtp,
      submission_port: ports.submission,
      smtps_port: ports.smtps,
      auth_socket: layout.authSocket,
      server_master_cf: parts.map((p) => p.master).join(''),
    }),
    { mode: 0o644 },
  );
  await writeFile(layout.postfixRecipients, LAB_ACCOUNTS.map((a) => `${a.address} ${a.user}/Maildir/`).join('\n') + '\n', { mode: 0o644 });

  const state: LabState = { version: 1, instance, ports, dovecotPid: null, postfixPid: null, startedAt: new Date().toISOString(), servers };
  await writeState(layout.stateFile, state);

  try {
    for (const { server, ports: p } of all) {
      const started = Date.now();
      await server.start(ctx, p, async (pids) => {
        if (server === dovecot) state.dovecotPid = pids['master'] ?? null;
        else (servers[server.name] as ServerRecord).pids = { ...pids };
        await writeState(layout.stateFile, state);
      });
      log(`${server.name} started in ${Date.now() - started} ms`);
    }

    log('starting postfix');
    const postfixExit = await runToFile('postfix', ['-c', layout.postfixConfDir, 'start'], layout.postfixStartLog);
    state.postfixPid = postfixExit === 0 ? await waitForPidFile(layout.postfixPidFile, postfixMaster(layout)) : null;
    await writeState(layout.stateFile, state);
    if (postfixExit !== 0 || state.postfixPid === null) {
      throw new LabError(
        'ELAB_START',
        (await withLogTails(`postfix did not start (exit ${postfixExit}, config ${layout.postfixConfDir})`, [layout.postfixStartLog, layout.postfixLog])) +
          (await postfixCheck(layout)),
      );
    }

    const rootPids = (): number[] => [
      state.dovecotPid as number,
      state.postfixPid as number,
      ...Object.values(servers).flatMap((r) => Object.values(r.pids).filter((p): p is number => p !== null)),
    ];
    const stillRunning = async () => (await Promise.all(rootPids().map(isAlive))).every(Boolean);
    const ready = await waitForGreetings(greetingTargets(state, extras), layout.caFile, READY_DEADLINE_MS, stillRunning);
    if (!ready.ready) {
      const problems = Object.entries(ready.problems).map(([where, p]) => `  ${where}: ${p}`);
      throw new LabError(
        'ELAB_NOT_READY',
        await withLogTails(`the lab did not greet on every port:\n${problems.join('\n')}`, [
          ...all.flatMap(({ server }) => server.logFiles(layout)),
          layout.postfixLog,
        ]),
      );
    }
  } catch (err) {
    // Leave nothing half-running behind a failed start.
    await stopLab(layout, state, log).catch(() => {});
    throw err;
  }

  for (const { server, ports: p } of all) {
    await writeFile(server.targetFile(layout), server.renderTarget(p, layout.caFile), { mode: 0o644 });
  }
  log(`lab ready: target ${[dovecot, ...extras].map((s) => s.targetFile(layout)).join(', ')}, passwords in ${layout.envFile}`);
  return state;
}

/**
 * main.cf values for the servers whose mail Postfix's virtual(8) writes itself
 * (PostfixPart.virtualMailbox): appended to Dovecot's lab.test domain and map,
 * since a part that defined those parameters again would replace Dovecot's.
 */
export function extraVirtualMailboxes(parts: readonly PostfixPart[]): { extra_virtual_domains: string; extra_virtual_maps: string } {
  const boxes = parts.flatMap((p) => (p.virtualMailbox ? [p.virtualMailbox] : []));
  return {
    extra_virtual_domains: boxes.map((b) => `, ${b.domain}`).join(''),
    extra_virtual_maps: boxes.map((b) => `, texthash:${b.mapFile}`).join(''),
  };
}

/**
 * Postfix writes fatal start errors (bad main.cf, unknown user) only to a tty
 * or syslog, neither of which exists here (LAB-NOTES 9), so its log file can
 * be empty. `postfix check` under script(1) gets a pseudo-tty and prints the
 * reason; it does not daemonise, so this cannot hang on an open pty.
 */
async function postfixCheck(layout: LabLayout): Promise<string> {
  try {
    const res = await run('script', ['-qec', `postfix -c ${layout.postfixConfDir} check`, '/dev/null'], { timeoutMs: 15_000 });
    const out = res.stdout.replace(/\r/g, '').trim();
    return out
      ? `\npostfix check says:\n${out
          .split('\n')
          .map((l) => `  | ${l}`)
          .join('\n')}`
      : '';
  } catch {
    return '';
  }
}

async function waitUntilDead(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = [...pids];
  for (;;) {
    const next: number[] = [];
    for (const pid of alive) if (await isAlive(pid)) next.push(pid);
    alive = next;
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await sleep(100);
  }
}

async function describe(pid: number): Promise<string> {
  const cmd = (await commandLine(pid)).split(' ')[0] || 'process';
  return `${cmd} (pid ${pid})`;
}

/** Postfix's processes (the master and its services); each server module knows its own. */
const POSTFIX_EXE = /^(\/usr\/lib\/postfix\/|smtpd|master)/;

async function stopLab(layout: LabLayout, state: LabState | null, log: (l: string) => void): Promise<string[]> {
  const running = await masters(layout, state);
  const names = new Map<number, string>();
  if (running.dovecot !== null) names.set(running.dovecot, 'dovecot');
  if (running.postfix !== null) names.set(running.postfix, 'postfix');
  for (const [server, pids] of running.servers) {
    for (const [role, pid] of Object.entries(pids)) if (pid !== null) names.set(pid, role === 'master' ? server.name : `${server.name} ${role}`);
  }
  const roots = [...names.keys()];
  // Record the children first: once a master is gone they are re-parented and
  // can no longer be found (LAB-NOTES 8: imap/pop3 of connected clients outlive it).
  // Helpers that daemonised themselves are no one's children: each module names its own.
  const strays: number[] = [];
  for (const server of extraServers(state)) for (const pid of (await server.strayPids?.(layout)) ?? []) if (!roots.includes(pid)) strays.push(pid);
  const children = [...new Set([...(await descendants(roots)), ...strays])];
  const stopped: string[] = [];
  for (const pid of [...roots, ...children]) stopped.push(await describe(pid));

  if (roots.length > 0) log(`stopping ${roots.map((p) => `${names.get(p)} ${p}`).join(', ')}`);
  for (const pid of roots) signal(pid, 'SIGTERM');
  const mastersLeft = await waitUntilDead(roots, MASTER_EXIT_WAIT_MS);
  for (const pid of children) signal(pid, 'SIGTERM');
  const childrenLeft = await waitUntilDead(children, CHILD_EXIT_WAIT_MS);
  for (const pid of [...mastersLeft, ...childrenLeft]) signal(pid, 'SIGKILL');
  await waitUntilDead([...mastersLeft, ...childrenLeft], CHILD_EXIT_WAIT_MS);

  // Safety net: a daemon process we never saw (forked after the snapshot) still on a lab port.
  // Matched by address and port, so another lab's daemon on the same port number
  // but the other loopback address is never taken for ours; and only a process
  // of Postfix or of one of this lab's servers is ever ended.
  const sockets = state ? allSockets(state) : [];
  const servers = [dovecot, ...extraServers(state)];
  const ours = (cmd: string) => POSTFIX_EXE.test(cmd) || servers.some((s) => s.ownsCommand(layout, cmd));
  if (sockets.length > 0) {
    const deadline = Date.now() + CHILD_EXIT_WAIT_MS;
    for (;;) {
      const holders = await listenerPids(sockets);
      if (holders.length === 0) break;
      if (Date.now() > deadline) {
        const who = await Promise.all(holders.map(describe));
        throw new LabError('ELAB_STOP', `lab ports still in use after stopping the lab: ${who.join(', ')}`);
      }
      for (const pid of holders) {
        if (ours(await commandLine(pid))) {
          stopped.push(await describe(pid));
          signal(pid, 'SIGKILL');
        }
      }
      await sleep(100);
    }
  }

  if (state) {
    const servers = Object.fromEntries(
      Object.entries(state.servers).map(([name, r]) => [name, { ports: r.ports, pids: Object.fromEntries(Object.keys(r.pids).map((k) => [k, null])) }]),
    );
    await writeState(layout.stateFile, { ...state, dovecotPid: null, postfixPid: null, servers });
  }
  for (const server of servers) await rm(server.targetFile(layout), { force: true });
  return stopped;
}
