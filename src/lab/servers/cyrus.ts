import { copyFile, chmod, chown, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LAB_ACCOUNTS, type LabAccount } from '../accounts.js';
import { LabError } from '../errors.js';
import { run, runToFile } from '../exec.js';
import { withLogTails } from '../logs.js';
import type { LabLayout } from '../paths.js';
import { ENDPOINTS, SERVER_HOST, type LabPorts } from '../ports.js';
import { commandLine, livePid, readPidFile, waitForPidFile } from '../procs.js';
import { renderTargetFile, type TargetProfile } from '../target-file.js';
import { renderTemplateFile, TEMPLATE_DIR } from '../templates.js';
import { requireUser } from '../users.js';
import { makeFolders } from '../../transport/private-files.js';
import { ownAddressGreetings, type LabServer, type PostfixPart, type ServerContext, type ServerPorts } from './types.js';

/** Cyrus's accounts live in their own mail domain, so the one lab Postfix can route them to Cyrus. */
export const CYRUS_DOMAIN = 'cyrus.lab.test';
export const CYRUS_HOST = SERVER_HOST.cyrus;

/**
 * Same users and the same password variables as Dovecot's accounts: one lab.env
 * serves every target file of the lab (`--secrets-file lab.env`), and the
 * domain alone tells the servers' mailboxes apart.
 */
export const CYRUS_ACCOUNTS: readonly LabAccount[] = LAB_ACCOUNTS.map((a) => ({ ...a, address: `${a.user}@${CYRUS_DOMAIN}` }));

/** Where Debian's cyrus-common puts the master, lmtpd and the tools. */
const COMMON_BIN = '/usr/lib/cyrus/bin';
/** Where cyrus-imapd and cyrus-pop3d put imapd, pop3d and idled, under the private root. */
const SERVER_BIN_IN_ROOT = 'usr/lib/cyrus/bin';
const SYSLOG_SINK = join(TEMPLATE_DIR, 'cyrus', 'syslog-sink.pl');
/** The SASL realm of the sasldb entries (saslpasswd2 -u) and of Postfix's lookups. */
const SASL_REALM = 'localhost';

/** Folders configdirectory needs before the first start (what Debian's postinst makes). */
const CONFIG_SUBDIRS = ['db', 'socket', 'log', 'msg', 'user', 'quota', 'sieve', 'ptclient', 'proc', 'lock', 'tls'];

export interface CyrusPaths {
  dir: string;
  /** cyrus-imapd and cyrus-pop3d, unpacked. */
  root: string;
  imapdConf: string;
  cyrusConf: string;
  startScript: string;
  configDir: string;
  spoolDir: string;
  runDir: string;
  procDir: string;
  lockDir: string;
  socketDir: string;
  hostDev: string;
  sasldb: string;
  tlsKey: string;
  masterPidFile: string;
  sinkPidFile: string;
  log: string;
  startLog: string;
  recipients: string;
  transport: string;
  saslDir: string;
}

export function cyrusPaths(layout: LabLayout): CyrusPaths {
  const dir = join(layout.stateDir, 'cyrus');
  const runDir = join(dir, 'run');
  return {
    dir,
    root: join(dir, 'root'),
    imapdConf: join(dir, 'imapd.conf'),
    cyrusConf: join(dir, 'cyrus.conf'),
    startScript: join(dir, 'start.sh'),
    configDir: join(dir, 'lib'),
    spoolDir: join(dir, 'spool'),
    runDir,
    procDir: join(runDir, 'proc'),
    lockDir: join(runDir, 'lock'),
    socketDir: join(runDir, 'socket'),
    hostDev: join(runDir, 'hostdev'),
    sasldb: join(dir, 'sasldb2'),
    tlsKey: join(dir, 'server.key'),
    masterPidFile: join(runDir, 'master.pid'),
    sinkPidFile: join(runDir, 'syslog-sink.pid'),
    log: join(layout.logDir, 'cyrus.log'),
    startLog: join(layout.logDir, 'cyrus-start.log'),
    recipients: join(layout.postfixConfDir, 'cyrus-recipients'),
    transport: join(layout.postfixConfDir, 'cyrus-transport'),
    // Debian's Postfix reads smtpd.conf from <config dir>/sasl/ (it ignored cyrus_sasl_config_path).
    saslDir: join(layout.postfixConfDir, 'sasl'),
  };
}

/** Cyrus's master carries its imapd.conf in argv (-C); PIDs get reused, so that is checked. */
async function isCyrusMaster(paths: CyrusPaths, pid: number): Promise<boolean> {
  const cmd = await commandLine(pid);
  return cmd.startsWith(`${COMMON_BIN}/master `) && cmd.includes(`-C ${paths.imapdConf}`);
}

async function isSink(paths: CyrusPaths, pid: number): Promise<boolean> {
  const cmd = await commandLine(pid);
  return cmd.includes(SYSLOG_SINK) && cmd.includes(paths.log);
}

async function ownedFolder(path: string, uid: number, gid: number, mode = 0o750): Promise<void> {
  await makeFolders(path, mode);
  await chown(path, uid, gid);
  await chmod(path, mode);
}

/** The Cyrus target profile: every endpoint, Postfix's included, on Cyrus's own address. */
const CYRUS_TARGET: TargetProfile = {
  name: 'mailprobe lab (Cyrus IMAP)',
  host: CYRUS_HOST,
  notes: [
    `Cyrus IMAP and its Postfix endpoints, all on ${CYRUS_HOST}; accounts in ${CYRUS_DOMAIN}.`,
    'Same users and password variables as target.yaml (Dovecot); each server has its own mailboxes.',
  ],
  hostOf: () => CYRUS_HOST,
  accounts: CYRUS_ACCOUNTS,
};

/** The lab's ports record for the target file: Cyrus's ports name every endpoint (plus lmtp). */
function endpointPorts(ports: ServerPorts): LabPorts {
  const out = {} as LabPorts;
  for (const e of ENDPOINTS) {
    const port = ports[e];
    if (port === undefined) throw new Error(`no port for cyrus ${e}`);
    out[e] = port;
  }
  return out;
}

export const cyrus: LabServer = {
  name: 'cyrus',
  aptPackages: ['cyrus-common', 'sasl2-bin', 'libsasl2-modules', 'libsasl2-modules-db'],
  unpack: { packages: ['cyrus-imapd', 'cyrus-pop3d'], versionOf: 'cyrus-common', root: (layout) => cyrusPaths(layout).root },
  portNames: [...ENDPOINTS, 'lmtp'],
  hostOf: () => CYRUS_HOST,
  targetFile: (layout) => join(layout.stateDir, 'target-cyrus.yaml'),

  async prepare(ctx: ServerContext, ports: ServerPorts): Promise<void> {
    const paths = cyrusPaths(ctx.layout);
    const cyrusUser = await requireUser('cyrus');
    const postfixUser = await requireUser('postfix');
    const { uid, gid } = cyrusUser;

    // Mailboxes and databases survive a restart (like Dovecot's Maildirs); the run folder does not.
    await rm(paths.runDir, { recursive: true, force: true });
    await rm(paths.log, { force: true });
    await rm(paths.startLog, { force: true });
    await makeFolders(paths.dir, 0o755);
    await chmod(paths.dir, 0o755);
    await ownedFolder(paths.configDir, uid, gid);
    for (const sub of CONFIG_SUBDIRS) await ownedFolder(join(paths.configDir, sub), uid, gid);
    await ownedFolder(paths.spoolDir, uid, gid);
    await ownedFolder(paths.runDir, uid, gid, 0o755);
    for (const dir of [paths.procDir, paths.lockDir, paths.socketDir]) await ownedFolder(dir, uid, gid);
    // The mount point for the real /dev while the start script builds the private one.
    await makeFolders(paths.hostDev, 0o700);

    // imapd reads the key after dropping to user cyrus; the lab's own copy stays root's.
    await copyFile(ctx.layout.serverKey, paths.tlsKey);
    await chown(paths.tlsKey, uid, gid);
    await chmod(paths.tlsKey, 0o600);

    // sasldb: one entry per account, password on stdin (-p), never in argv.
    await rm(paths.sasldb, { force: true });
    for (const account of CYRUS_ACCOUNTS) {
      const password = ctx.passwords.get(account.passwordEnv);
      if (password === undefined) throw new Error(`no password generated for ${account.user}`);
      const res = await run('saslpasswd2', ['-f', paths.sasldb, '-u', SASL_REALM, '-c', '-p', account.user], { input: password });
      if (res.code !== 0) throw new LabError('ELAB_START', `saslpasswd2 for ${account.user} failed (exit ${res.code}): ${res.stderr.trim()}`);
    }
    // Read by Cyrus (user cyrus) and by Postfix's smtpd (user postfix) for SMTP AUTH.
    await chown(paths.sasldb, uid, postfixUser.gid);
    await chmod(paths.sasldb, 0o640);

    await writeFile(
      paths.imapdConf,
      await renderTemplateFile('cyrus/imapd.conf.tmpl', {
        config_dir: paths.configDir,
        spool_dir: paths.spoolDir,
        proc_dir: paths.procDir,
        lock_dir: paths.lockDir,
        socket_dir: paths.socketDir,
        syslog_prefix: 'mailprobe-cyrus',
        sasldb: paths.sasldb,
        tls_cert: ctx.layout.serverCert,
        tls_key: paths.tlsKey,
      }),
      { mode: 0o644 },
    );
    await writeFile(
      paths.cyrusConf,
      await renderTemplateFile('cyrus/cyrus.conf.tmpl', {
        host: CYRUS_HOST,
        common_bin: COMMON_BIN,
        server_bin: join(paths.root, SERVER_BIN_IN_ROOT),
        imapd_conf: paths.imapdConf,
        imap_port: ports['imap'] as number,
        imaps_port: ports['imaps'] as number,
        pop3_port: ports['pop3'] as number,
        pop3s_port: ports['pop3s'] as number,
        lmtp_port: ports['lmtp'] as number,
      }),
      { mode: 0o644 },
    );
    await writeFile(
      paths.startScript,
      await renderTemplateFile('cyrus/start.sh.tmpl', {
        host_dev: paths.hostDev,
        sink_script: SYSLOG_SINK,
        log_file: paths.log,
        sink_pid_file: paths.sinkPidFile,
        common_bin: COMMON_BIN,
        imapd_conf: paths.imapdConf,
        cyrus_conf: paths.cyrusConf,
        master_pid_file: paths.masterPidFile,
      }),
      { mode: 0o644 },
    );
  },

  async postfix(ctx: ServerContext, ports: ServerPorts): Promise<PostfixPart> {
    const paths = cyrusPaths(ctx.layout);
    await writeFile(paths.recipients, CYRUS_ACCOUNTS.map((a) => `${a.address} OK`).join('\n') + '\n', { mode: 0o644 });
    await writeFile(paths.transport, `${CYRUS_DOMAIN} lmtp:inet:${CYRUS_HOST}:${ports['lmtp']}\n`, { mode: 0o644 });
    await makeFolders(paths.saslDir, 0o755);
    await writeFile(
      join(paths.saslDir, 'smtpd.conf'),
      `# SMTP AUTH for Cyrus's accounts (submission/smtps on ${CYRUS_HOST}), against Cyrus's sasldb.\n` +
        `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: ${paths.sasldb}\nmech_list: PLAIN LOGIN\n`,
      { mode: 0o644 },
    );
    return {
      main: await renderTemplateFile('cyrus/main.cf.part.tmpl', {
        domain: CYRUS_DOMAIN,
        recipients_file: paths.recipients,
        transport_file: paths.transport,
      }),
      master: await renderTemplateFile('cyrus/master.cf.part.tmpl', {
        host: CYRUS_HOST,
        smtp_port: ports['smtp'] as number,
        submission_port: ports['submission'] as number,
        smtps_port: ports['smtps'] as number,
        sasl_realm: SASL_REALM,
      }),
    };
  },

  async start(ctx, _ports, record) {
    const paths = cyrusPaths(ctx.layout);
    ctx.log('starting cyrus (private mount namespace with its own /dev/log)');
    // unshare(1) runs the script in a new mount namespace; the master daemonises (-d),
    // so the command returns once it is in the background. Output to a file, never a pipe (LAB-NOTES 7).
    const exit = await runToFile('unshare', ['--mount', 'sh', paths.startScript], paths.startLog);
    const sink = await waitForPidFile(paths.sinkPidFile, (pid) => isSink(paths, pid), 5_000);
    const master = exit === 0 ? await waitForPidFile(paths.masterPidFile, (pid) => isCyrusMaster(paths, pid), 5_000) : null;
    const pids = { master, syslog: sink };
    await record(pids);
    if (exit !== 0 || master === null) {
      throw new LabError('ELAB_START', await withLogTails(`cyrus did not start (exit ${exit}, config ${paths.imapdConf})`, [paths.startLog, paths.log]));
    }
    return pids;
  },

  async livePids(layout, recorded) {
    const paths = cyrusPaths(layout);
    return {
      master:
        (await livePid(recorded['master'], (pid) => isCyrusMaster(paths, pid))) ??
        (await livePid(await readPidFile(paths.masterPidFile), (pid) => isCyrusMaster(paths, pid))),
      syslog:
        (await livePid(recorded['syslog'], (pid) => isSink(paths, pid))) ?? (await livePid(await readPidFile(paths.sinkPidFile), (pid) => isSink(paths, pid))),
    };
  },

  ownsCommand(layout, cmd) {
    const paths = cyrusPaths(layout);
    return (cmd.startsWith(`${paths.root}/`) || cmd.startsWith(`${COMMON_BIN}/`)) && cmd.includes(`-C ${paths.imapdConf}`);
  },

  greetings: (ports) => ownAddressGreetings(CYRUS_HOST, ports),

  renderTarget: (ports, caFile) => renderTargetFile(endpointPorts(ports), caFile, CYRUS_TARGET),

  logFiles(layout) {
    const paths = cyrusPaths(layout);
    return [paths.startLog, paths.log];
  },
};
