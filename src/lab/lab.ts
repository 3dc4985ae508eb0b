import { createHash } from 'node:crypto';
import { chmod, chown, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { generatePassword, LAB_ACCOUNTS, labEnvText, passwdFile, writePrivateFile, type LabAccount } from './accounts.js';
import { LabError } from './errors.js';
import { run, runToFile } from './exec.js';
import { waitForGreetings } from './greeting.js';
import { ensurePackages, isRoot } from './install.js';
import { withLock } from './lock.js';
import { withLogTails } from './logs.js';
import { defaultLabDir, labLayout, type LabLayout } from './paths.js';
import { choosePorts, dovecotAddresses, ENDPOINT_HOST, ENDPOINTS, labSockets, type LabPorts } from './ports.js';
import { commandLine, descendants, environVar, isAlive, listenerPids, listeningSockets, readPidFile, signal, sleep } from './procs.js';
import { readState, writeState, type LabState } from './state.js';
import { renderTargetFile } from './target-file.js';
import { renderTemplateFile } from './templates.js';
import { createLabCertificates } from './tls.js';
import { ensureMailUser, requireUser } from './users.js';
import { makeFolders } from '../transport/private-files.js';

export interface LabOptions {
  /** State directory; defaults to defaultLabDir() (MAILPROBE_LAB_DIR or /tmp/mailprobe-lab). */
  stateDir?: string;
  /** Progress lines for a human. Never receives a password. */
  log?: (line: string) => void;
}

export interface LabInfo {
  stateDir: string;
  targetFile: string;
  envFile: string;
  caFile: string;
  ports: Record<string, number>;
  /** endpoint -> the address it listens on (plain imap/pop3 on 127.0.0.2, see ENDPOINT_HOST). */
  hosts: Record<string, string>;
  accounts: Array<{ role: string; user: string; address: string; passwordEnv: string }>;
  alreadyRunning: boolean;
}

export interface LabStatus {
  running: boolean;
  stateDir: string;
  daemons: Array<{ name: string; pid: number | null; alive: boolean }>;
  ports: Array<{ endpoint: string; host: string; port: number; listening: boolean }>;
}

/** Generous: the machines are shared and noisy; a healthy lab greets within ~1 s. */
const READY_DEADLINE_MS = 30_000;
const MASTER_EXIT_WAIT_MS = 8_000;
const CHILD_EXIT_WAIT_MS = 4_000;

function resolveLayout(options: LabOptions): LabLayout {
  return labLayout(options.stateDir ?? defaultLabDir());
}

function info(layout: LabLayout, ports: LabPorts, alreadyRunning: boolean): LabInfo {
  return {
    stateDir: layout.stateDir,
    targetFile: layout.targetFile,
    envFile: layout.envFile,
    caFile: layout.caFile,
    ports: { ...ports },
    hosts: { ...ENDPOINT_HOST },
    accounts: LAB_ACCOUNTS.map((a: LabAccount) => ({ ...a })),
    alreadyRunning,
  };
}

/**
 * PID of a daemon master, trusted only if it is alive and is *this* lab's
 * master: PIDs get reused, and several labs (default, test) may run side by
 * side. Dovecot's master carries its config path in argv; Postfix's master
 * has a bare argv but inherits MAIL_CONFIG=<config dir> from `postfix -c`.
 */
async function livePid(pid: number | null, isOurs: (pid: number) => Promise<boolean>): Promise<number | null> {
  if (pid === null || !(await isAlive(pid))) return null;
  return (await isOurs(pid)) ? pid : null;
}

function dovecotMaster(layout: LabLayout) {
  return async (pid: number) => (await commandLine(pid)).includes(`-c ${layout.dovecotConf}`);
}

function postfixMaster(layout: LabLayout) {
  return async (pid: number) => /(^|\/)master( |$)/.test(await commandLine(pid)) && (await environVar(pid, 'MAIL_CONFIG')) === layout.postfixConfDir;
}

async function masters(layout: LabLayout, state: LabState | null) {
  const isDovecot = dovecotMaster(layout);
  const isPostfix = postfixMaster(layout);
  const dovecot = (await livePid(state?.dovecotPid ?? null, isDovecot)) ?? (await livePid(await readPidFile(layout.dovecotPidFile), isDovecot));
  const postfix = (await livePid(state?.postfixPid ?? null, isPostfix)) ?? (await livePid(await readPidFile(layout.postfixPidFile), isPostfix));
  return { dovecot, postfix };
}

/**
 * Start the lab, or report the running one. Installs missing packages when
 * root (without starting system services), otherwise tells what to install.
 */
export async function labUp(options: LabOptions = {}): Promise<LabInfo> {
  const log = options.log ?? (() => {});
  const layout = resolveLayout(options);
  await prepareStateDir(layout);
  const installed = await ensurePackages(layout.installLog, log);
  if (installed.length > 0) log(`installed ${installed.join(', ')}`);
  if (!isRoot()) {
    throw new LabError('ELAB_NOT_ROOT', 'the mailprobe lab starts Dovecot and Postfix, which switch to their own users: run "mailprobe lab up" as root');
  }
  return withLock(layout.lockFile, async () => {
    const state = await readState(layout.stateFile);
    const running = await masters(layout, state);
    if (state && running.dovecot !== null && running.postfix !== null && existsSync(layout.targetFile)) {
      const ready = await waitForGreetings(state.ports, layout.caFile, 5_000);
      if (ready.ready) {
        log(`lab already running in ${layout.stateDir}`);
        return info(layout, state.ports, true);
      }
      log('lab is running but not answering on every port; restarting it');
    }
    if (running.dovecot !== null || running.postfix !== null) {
      await stopLab(layout, state, log);
    }
    const ports = await startLab(layout, state?.ports, log);
    return info(layout, ports, false);
  });
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
  const daemons = [
    { name: 'dovecot', pid: running.dovecot ?? state?.dovecotPid ?? null, alive: running.dovecot !== null },
    { name: 'postfix', pid: running.postfix ?? state?.postfixPid ?? null, alive: running.postfix !== null },
  ];
  const ports: LabStatus['ports'] = [];
  if (state) {
    // By address and port: a port free on 127.0.0.2 may be someone else's on 127.0.0.1.
    const listening = await listeningSockets(labSockets(state.ports));
    for (const endpoint of ENDPOINTS) {
      const key = `${ENDPOINT_HOST[endpoint]}:${state.ports[endpoint]}`;
      ports.push({ endpoint, host: ENDPOINT_HOST[endpoint], port: state.ports[endpoint], listening: listening.has(key) });
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

async function startLab(layout: LabLayout, previousPorts: LabPorts | undefined, log: (l: string) => void): Promise<LabPorts> {
  const mailUser = await ensureMailUser();
  const dovecotUser = await requireUser('dovecot');
  const postfixUser = await requireUser('postfix');

  const ports = await choosePorts(previousPorts);
  const instance = `mailprobe-lab-${createHash('sha256').update(layout.stateDir).digest('hex').slice(0, 8)}`;
  log(`preparing lab in ${layout.stateDir} (ports ${ENDPOINTS.map((e) => `${e} ${ENDPOINT_HOST[e]}:${ports[e]}`).join(', ')})`);

  // A stale target file would point at ports nobody listens on; it is rewritten once ready.
  await rm(layout.targetFile, { force: true });
  await rm(layout.dovecotBaseDir, { recursive: true, force: true });
  await rm(layout.postfixPidFile, { force: true });
  for (const dir of [layout.dovecotDir, layout.dovecotBaseDir, layout.dovecotStateDir, layout.postfixConfDir, layout.postfixQueueDir]) {
    await makeFolders(dir, 0o755);
    await chmod(dir, 0o755);
  }
  await makeFolders(layout.mailDir, 0o700);
  await chown(layout.mailDir, mailUser.uid, mailUser.gid);
  await chmod(layout.mailDir, 0o700);
  await makeFolders(layout.postfixDataDir, 0o700);
  await chown(layout.postfixDataDir, postfixUser.uid, postfixUser.gid);
  // Fresh logs per lab, so the tail in an error message is about this start.
  for (const f of [layout.dovecotLog, layout.dovecotStartLog, layout.postfixLog, layout.postfixStartLog]) {
    await rm(f, { force: true });
  }

  await createLabCertificates(layout);

  const passwords = new Map(LAB_ACCOUNTS.map((a) => [a.passwordEnv, generatePassword()] as const));
  // The auth process reads the passwd file as user dovecot (LAB-NOTES 2).
  await writePrivateFile(layout.dovecotPasswd, passwdFile(passwords));
  await chown(layout.dovecotPasswd, 0, dovecotUser.gid);
  await chmod(layout.dovecotPasswd, 0o640);
  await writePrivateFile(layout.envFile, labEnvText(passwords));

  const dh = '/usr/share/dovecot/dh.pem';
  await writeFile(
    layout.dovecotConf,
    await renderTemplateFile('dovecot.conf.tmpl', {
      instance_name: instance,
      base_dir: layout.dovecotBaseDir,
      state_dir: layout.dovecotStateDir,
      log_file: layout.dovecotLog,
      tls_cert: layout.serverCert,
      tls_key: layout.serverKey,
      ssl_dh_line: existsSync(dh) ? `ssl_dh = <${dh}` : '',
      passwd_file: layout.dovecotPasswd,
      mail_uid: mailUser.uid,
      mail_gid: mailUser.gid,
      mail_dir: layout.mailDir,
      imap_port: ports.imap,
      imaps_port: ports.imaps,
      pop3_port: ports.pop3,
      pop3s_port: ports.pop3s,
      // Plain imap/pop3 on 127.0.0.2 so Dovecot does not see them as secured (ENDPOINT_HOST).
      ...dovecotAddresses(),
    }),
    { mode: 0o644 },
  );
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
    }),
    { mode: 0o644 },
  );
  await writeFile(layout.postfixRecipients, LAB_ACCOUNTS.map((a) => `${a.address} ${a.user}/Maildir/`).join('\n') + '\n', { mode: 0o644 });

  const state: LabState = { version: 1, instance, ports, dovecotPid: null, postfixPid: null, startedAt: new Date().toISOString() };
  await writeState(layout.stateFile, state);

  try {
    log('starting dovecot');
    const dovecotExit = await runToFile('dovecot', ['-c', layout.dovecotConf], layout.dovecotStartLog);
    state.dovecotPid = dovecotExit === 0 ? await waitForPidFile(layout.dovecotPidFile, dovecotMaster(layout)) : null;
    await writeState(layout.stateFile, state);
    if (dovecotExit !== 0 || state.dovecotPid === null) {
      throw new LabError(
        'ELAB_START',
        await withLogTails(`dovecot did not start (exit ${dovecotExit}, config ${layout.dovecotConf})`, [layout.dovecotStartLog, layout.dovecotLog]),
      );
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

    const pids = { dovecot: state.dovecotPid, postfix: state.postfixPid };
    const ready = await waitForGreetings(ports, layout.caFile, READY_DEADLINE_MS, async () => (await isAlive(pids.dovecot)) && (await isAlive(pids.postfix)));
    if (!ready.ready) {
      const problems = Object.entries(ready.problems).map(([e, p]) => `  ${e} (${ENDPOINT_HOST[e as keyof LabPorts]}:${ports[e as keyof LabPorts]}): ${p}`);
      throw new LabError(
        'ELAB_NOT_READY',
        await withLogTails(`the lab did not greet on every port:\n${problems.join('\n')}`, [layout.dovecotLog, layout.postfixLog]),
      );
    }
  } catch (err) {
    // Leave nothing half-running behind a failed start.
    await stopLab(layout, state, log).catch(() => {});
    throw err;
  }

  await writeFile(layout.targetFile, renderTargetFile(ports, layout.caFile), { mode: 0o644 });
  log(`lab ready: target ${layout.targetFile}, passwords in ${layout.envFile}`);
  return ports;
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

async function waitForPidFile(file: string, isOurs: (pid: number) => Promise<boolean>): Promise<number | null> {
  for (let i = 0; i < 50; i++) {
    const pid = await livePid(await readPidFile(file), isOurs);
    if (pid !== null) return pid;
    await sleep(100);
  }
  return null;
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

/** Processes that may hold a lab port: only Dovecot's and Postfix's, never anything else on the box. */
const DAEMON_EXE = /^(dovecot|\/usr\/sbin\/dovecot|\/usr\/lib\/dovecot\/|\/usr\/lib\/postfix\/|smtpd|master|imap|pop3|lmtp)/;

async function stopLab(layout: LabLayout, state: LabState | null, log: (l: string) => void): Promise<string[]> {
  const { dovecot, postfix } = await masters(layout, state);
  const roots = [dovecot, postfix].filter((p): p is number => p !== null);
  // Record the children first: once a master is gone they are re-parented and
  // can no longer be found (LAB-NOTES 8: imap/pop3 of connected clients outlive it).
  const children = await descendants(roots);
  const stopped: string[] = [];
  for (const pid of [...roots, ...children]) stopped.push(await describe(pid));

  if (roots.length > 0) log(`stopping ${roots.map((p) => (p === dovecot ? `dovecot ${p}` : `postfix ${p}`)).join(', ')}`);
  for (const pid of roots) signal(pid, 'SIGTERM');
  const mastersLeft = await waitUntilDead(roots, MASTER_EXIT_WAIT_MS);
  for (const pid of children) signal(pid, 'SIGTERM');
  const childrenLeft = await waitUntilDead(children, CHILD_EXIT_WAIT_MS);
  for (const pid of [...mastersLeft, ...childrenLeft]) signal(pid, 'SIGKILL');
  await waitUntilDead([...mastersLeft, ...childrenLeft], CHILD_EXIT_WAIT_MS);

  // Safety net: a daemon process we never saw (forked after the snapshot) still on a lab port.
  // Matched by address and port, so another lab's daemon on the same port number
  // but the other loopback address is never taken for ours.
  const ports = state ? labSockets(state.ports) : [];
  if (ports.length > 0) {
    const deadline = Date.now() + CHILD_EXIT_WAIT_MS;
    for (;;) {
      const holders = await listenerPids(ports);
      if (holders.length === 0) break;
      if (Date.now() > deadline) {
        const who = await Promise.all(holders.map(describe));
        throw new LabError('ELAB_STOP', `lab ports still in use after stopping the lab: ${who.join(', ')}`);
      }
      for (const pid of holders) {
        if (DAEMON_EXE.test(await commandLine(pid))) {
          stopped.push(await describe(pid));
          signal(pid, 'SIGKILL');
        }
      }
      await sleep(100);
    }
  }

  if (state) await writeState(layout.stateFile, { ...state, dovecotPid: null, postfixPid: null });
  await rm(layout.targetFile, { force: true });
  return stopped;
}
