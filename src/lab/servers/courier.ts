import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LAB_ACCOUNTS, writePrivateFile, type LabAccount } from '../accounts.js';
import { LabError } from '../errors.js';
import { run, runToFile } from '../exec.js';
import { withLogTails } from '../logs.js';
import type { LabLayout } from '../paths.js';
import { ENDPOINTS, SERVER_HOST, type LabPorts } from '../ports.js';
import { commandLine, environVar, isAlive, livePid, readPidFile, waitForPidFile } from '../procs.js';
import { renderTargetFile, type TargetProfile } from '../target-file.js';
import { renderTemplateFile } from '../templates.js';
import { ensureMailUser, requireUser } from '../users.js';
import { makeFolders } from '../../transport/private-files.js';
import { ownAddressGreetings, type LabServer, type PostfixPart, type ServerContext, type ServerPorts } from './types.js';

/** Courier's accounts live in their own mail domain, so the one lab Postfix can route them to Courier's Maildirs. */
export const COURIER_DOMAIN = 'courier.lab.test';
export const COURIER_HOST = SERVER_HOST.courier;

/** Same users and password variables as Dovecot's (one lab.env for every target file); the domain tells them apart. */
export const COURIER_ACCOUNTS: readonly LabAccount[] = LAB_ACCOUNTS.map((a) => ({ ...a, address: `${a.user}@${COURIER_DOMAIN}` }));

/** Postfix's virtual(8) prepends virtual_mailbox_base (the lab's mail dir) to these paths. */
const MAIL_SUBDIR = 'courier';
/** The Cyrus SASL application name Postfix's Courier smtpd services use: <postfix dir>/sasl/<name>.conf. */
const SASL_NAME = 'courier-smtpd';
/** Courier's daemons from courier-base / courier-authdaemon (installed with apt). */
const COURIERTCPD = '/usr/sbin/couriertcpd';
const AUTHDAEMOND = '/usr/lib/courier/courier-authlib/authdaemond';
const GAM_SERVER = '/usr/libexec/gam_server';
/** Set in the start script: marks the processes of this lab's Courier, gam_server included. */
const MARK_VAR = 'MAILPROBE_LAB_COURIER';

/** The four couriertcpd listeners, by the role name `lab status` shows. */
const LISTENERS = ['imapd', 'imapd-ssl', 'pop3d', 'pop3d-ssl'] as const;
type Listener = (typeof LISTENERS)[number];

export interface CourierPaths {
  dir: string;
  /** courier-imap and courier-pop, unpacked. */
  root: string;
  /** Bind-mounted over /etc/courier in the start script's mount namespace. */
  etcDir: string;
  /** Bind-mounted over /run/courier; holds authdaemon/socket. */
  runDir: string;
  authSocket: string;
  userdb: string;
  tlsPem: string;
  startScript: string;
  pidFile: Record<Listener | 'authdaemond', string>;
  /** Where the Maildirs are: <mail dir>/courier/<user>/Maildir. */
  mailBase: string;
  imapdLog: string;
  pop3dLog: string;
  authdaemondLog: string;
  startLog: string;
  recipients: string;
  saslConf: string;
}

export function courierPaths(layout: LabLayout): CourierPaths {
  const dir = join(layout.stateDir, 'courier');
  const runDir = join(dir, 'run');
  const etcDir = join(dir, 'etc');
  return {
    dir,
    root: join(dir, 'root'),
    etcDir,
    runDir,
    authSocket: join(runDir, 'authdaemon', 'socket'),
    userdb: join(etcDir, 'userdb'),
    tlsPem: join(etcDir, 'server.pem'),
    startScript: join(dir, 'start.sh'),
    pidFile: {
      imapd: join(runDir, 'imapd.pid'),
      'imapd-ssl': join(runDir, 'imapd-ssl.pid'),
      pop3d: join(runDir, 'pop3d.pid'),
      'pop3d-ssl': join(runDir, 'pop3d-ssl.pid'),
      authdaemond: join(runDir, 'authdaemond.pid'),
    },
    mailBase: join(layout.mailDir, MAIL_SUBDIR),
    imapdLog: join(layout.logDir, 'courier-imapd.log'),
    pop3dLog: join(layout.logDir, 'courier-pop3d.log'),
    authdaemondLog: join(layout.logDir, 'courier-authdaemond.log'),
    startLog: join(layout.logDir, 'courier-start.log'),
    recipients: join(layout.postfixConfDir, 'courier-recipients'),
    saslConf: join(layout.postfixConfDir, 'sasl', `${SASL_NAME}.conf`),
  };
}

/** A couriertcpd carries its own -pid= file in argv; PIDs get reused, so that is checked. */
function isListener(paths: CourierPaths, role: Listener) {
  return async (pid: number) => (await commandLine(pid)).startsWith(`${COURIERTCPD} -pid=${paths.pidFile[role]} `);
}

/** authdaemond has a bare argv: it is this lab's when it carries the start script's mark. */
function isMarked(paths: CourierPaths, exe: string) {
  return async (pid: number) => (await commandLine(pid)) === exe && (await environVar(pid, MARK_VAR)) === paths.dir;
}

function checker(paths: CourierPaths, role: string): (pid: number) => Promise<boolean> {
  return role === 'authdaemond' ? isMarked(paths, AUTHDAEMOND) : isListener(paths, role as Listener);
}

/** SHA-512 crypt(3) ("$6$"), which authlib checks with crypt(3); the password goes to openssl on stdin, never in argv. */
async function cryptSha512(password: string): Promise<string> {
  const res = await run('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n` });
  const hash = res.stdout.trim();
  if (res.code !== 0 || !hash.startsWith('$6$')) throw new LabError('ELAB_START', `openssl passwd -6 failed (exit ${res.code}): ${res.stderr.trim()}`);
  return hash;
}

async function ownedFolder(path: string, uid: number, gid: number, mode = 0o700): Promise<void> {
  await makeFolders(path, mode);
  await chown(path, uid, gid);
  await chmod(path, mode);
}

const COURIER_TARGET: TargetProfile = {
  name: 'mailprobe lab (Courier-IMAP)',
  host: COURIER_HOST,
  notes: [
    `Courier-IMAP, Courier POP3 and their Postfix endpoints, all on ${COURIER_HOST}; accounts in ${COURIER_DOMAIN}.`,
    'Same users and password variables as target.yaml (Dovecot); each server has its own mailboxes.',
  ],
  hostOf: () => COURIER_HOST,
  accounts: COURIER_ACCOUNTS,
  // Evidence: test/lab/courier.test.ts (SELECT and re-SELECT on two connections carry no [UIDNEXT]; STATUS does).
  // RFC 3501 §6.3.1 is the clause Courier (an IMAP4rev1 server) departs from.
  deviations: (['uidnext-in-select', 'uidnext-in-phone-select', 'uidnext-in-reselect'] as const).map((id) => ({
    check: `imap/uid-stability#${id}`,
    reason: 'Courier sends UIDNEXT only in STATUS, never in the SELECT response',
    rfc: 'RFC 3501 §6.3.1: UIDNEXT is among the REQUIRED OK untagged responses to SELECT',
  })),
};

function endpointPorts(ports: ServerPorts): LabPorts {
  const out = {} as LabPorts;
  for (const e of ENDPOINTS) {
    const port = ports[e];
    if (port === undefined) throw new Error(`no port for courier ${e}`);
    out[e] = port;
  }
  return out;
}

/** gamin's socket name for this lab: one gam_server per lab, never shared with another lab's Courier. */
function gamClientId(layout: LabLayout): string {
  return `mailprobe-${createHash('sha256').update(layout.stateDir).digest('hex').slice(0, 8)}`;
}

export const courier: LabServer = {
  name: 'courier',
  // libsasl2-modules: the PLAIN and LOGIN mechanisms of Postfix's Cyrus SASL, which asks Courier's authdaemond.
  aptPackages: ['courier-base', 'courier-authdaemon', 'courier-authlib-userdb', 'gamin', 'libsasl2-modules'],
  unpack: { packages: ['courier-imap', 'courier-pop'], versionOf: 'courier-base', root: (layout) => courierPaths(layout).root },
  portNames: ENDPOINTS,
  hostOf: () => COURIER_HOST,
  targetFile: (layout) => join(layout.stateDir, 'target-courier.yaml'),

  async prepare(ctx: ServerContext, ports: ServerPorts): Promise<void> {
    const paths = courierPaths(ctx.layout);
    const mailUser = await ensureMailUser();
    const courierUser = await requireUser('courier');
    const postfixUser = await requireUser('postfix');

    // Maildirs survive a restart (like Dovecot's); config, run folder and logs do not.
    await rm(paths.runDir, { recursive: true, force: true });
    await rm(paths.etcDir, { recursive: true, force: true });
    for (const f of [paths.imapdLog, paths.pop3dLog, paths.authdaemondLog, paths.startLog]) await rm(f, { force: true });
    await makeFolders(paths.dir, 0o755);
    await chmod(paths.dir, 0o755);
    await makeFolders(paths.etcDir, 0o755);
    await chmod(paths.etcDir, 0o755);
    await makeFolders(paths.runDir, 0o755);
    await chmod(paths.runDir, 0o755);
    // Postfix's smtpd (user postfix) asks authdaemond through this socket for SMTP AUTH.
    await ownedFolder(join(paths.runDir, 'authdaemon'), 0, postfixUser.gid, 0o750);

    // Courier never creates a Maildir; Postfix's virtual(8) would only at the first delivery.
    await ownedFolder(paths.mailBase, mailUser.uid, mailUser.gid);
    for (const a of COURIER_ACCOUNTS) {
      const home = join(paths.mailBase, a.user);
      await ownedFolder(home, mailUser.uid, mailUser.gid);
      for (const sub of ['Maildir', 'Maildir/cur', 'Maildir/new', 'Maildir/tmp']) await ownedFolder(join(home, sub), mailUser.uid, mailUser.gid);
    }

    // userdb: hashed passwords only, 0600 (makeuserdb refuses anything wider), then userdb.dat/userdbshadow.dat.
    const lines: string[] = [];
    for (const a of COURIER_ACCOUNTS) {
      const password = ctx.passwords.get(a.passwordEnv);
      if (password === undefined) throw new Error(`no password generated for ${a.user}`);
      const home = join(paths.mailBase, a.user);
      lines.push(`${a.user}\tuid=${mailUser.uid}|gid=${mailUser.gid}|home=${home}|mail=${join(home, 'Maildir')}|systempw=${await cryptSha512(password)}`);
    }
    await writePrivateFile(paths.userdb, lines.join('\n') + '\n');
    const made = await run('makeuserdb', ['-f', paths.userdb]);
    if (made.code !== 0) throw new LabError('ELAB_START', `makeuserdb failed (exit ${made.code}): ${made.stderr.trim()}`);

    // couriertls reads key and certificate from one file, after dropping to user courier.
    const pem = (await readFile(ctx.layout.serverKey, 'utf8')) + (await readFile(ctx.layout.serverCert, 'utf8'));
    await writePrivateFile(paths.tlsPem, pem);
    await chown(paths.tlsPem, 0, courierUser.gid);
    await chmod(paths.tlsPem, 0o640);
    // Debian's courier-base makes dhparams.pem at install; the bind mount hides the machine's copy, so it is copied.
    const dhparams = existsSync('/etc/courier/dhparams.pem');
    if (dhparams) {
      await copyFile('/etc/courier/dhparams.pem', join(paths.etcDir, 'dhparams.pem'));
      await chown(join(paths.etcDir, 'dhparams.pem'), 0, courierUser.gid);
      await chmod(join(paths.etcDir, 'dhparams.pem'), 0o640);
    }
    const dhparamsLine = dhparams ? 'TLS_DHPARAMS=/etc/courier/dhparams.pem' : '# no dhparams.pem on this machine: GnuTLS defaults';

    const write = async (name: string, values: Record<string, string | number>) =>
      writeFile(join(paths.etcDir, name), await renderTemplateFile(`courier/${name}.tmpl`, values), { mode: 0o644 });
    await write('authdaemonrc', { daemons: 3 });
    await write('imapd', { host: COURIER_HOST, imap_port: ports['imap'] as number, gam_client_id: gamClientId(ctx.layout) });
    await write('imapd-ssl', { host: COURIER_HOST, imaps_port: ports['imaps'] as number, dhparams_line: dhparamsLine });
    await write('pop3d', { host: COURIER_HOST, pop3_port: ports['pop3'] as number });
    await write('pop3d-ssl', { host: COURIER_HOST, pop3s_port: ports['pop3s'] as number, dhparams_line: dhparamsLine });

    await writeFile(
      paths.startScript,
      await renderTemplateFile('courier/start.sh.tmpl', {
        run_dir: paths.runDir,
        etc_dir: paths.etcDir,
        courier_dir: paths.dir,
        root: paths.root,
        authdaemond_log: paths.authdaemondLog,
        authdaemond_pid_file: paths.pidFile.authdaemond,
        imapd_pid_file: paths.pidFile.imapd,
        imapd_ssl_pid_file: paths.pidFile['imapd-ssl'],
        pop3d_pid_file: paths.pidFile.pop3d,
        pop3d_ssl_pid_file: paths.pidFile['pop3d-ssl'],
        imapd_log: paths.imapdLog,
        pop3d_log: paths.pop3dLog,
      }),
      { mode: 0o644 },
    );
  },

  async postfix(ctx: ServerContext, ports: ServerPorts): Promise<PostfixPart> {
    const paths = courierPaths(ctx.layout);
    // Courier has no LMTP: Postfix's virtual(8) writes the Maildirs Courier serves.
    await writeFile(paths.recipients, COURIER_ACCOUNTS.map((a) => `${a.address} ${MAIL_SUBDIR}/${a.user}/Maildir/`).join('\n') + '\n', { mode: 0o644 });
    await makeFolders(join(ctx.layout.postfixConfDir, 'sasl'), 0o755);
    await writeFile(
      paths.saslConf,
      `# SMTP AUTH for Courier's accounts (submission/smtps on ${COURIER_HOST}): asks Courier's authdaemond,\n` +
        `# so Courier's userdb is the only password store for them.\n` +
        `pwcheck_method: authdaemond\nauthdaemond_path: ${paths.authSocket}\nmech_list: PLAIN LOGIN\n`,
      { mode: 0o644 },
    );
    return {
      main: `# Courier's accounts (${COURIER_DOMAIN}) are virtual mailboxes: see virtual_mailbox_domains above.\n`,
      master: await renderTemplateFile('courier/master.cf.part.tmpl', {
        host: COURIER_HOST,
        smtp_port: ports['smtp'] as number,
        submission_port: ports['submission'] as number,
        smtps_port: ports['smtps'] as number,
        sasl_name: SASL_NAME,
      }),
      virtualMailbox: { domain: COURIER_DOMAIN, mapFile: paths.recipients },
    };
  },

  async start(ctx, _ports, record) {
    const paths = courierPaths(ctx.layout);
    ctx.log('starting courier (private mount namespace over /etc/courier and /run/courier)');
    // Output to a file, never a pipe (LAB-NOTES 7): couriertcpd daemonises and keeps it.
    const exit = await runToFile('unshare', ['--mount', 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'sh', paths.startScript], paths.startLog);
    const pids: Record<string, number | null> = {};
    for (const role of ['authdaemond', ...LISTENERS]) {
      pids[role] = await waitForPidFile(paths.pidFile[role as Listener | 'authdaemond'], checker(paths, role), exit === 0 ? 5_000 : 0);
    }
    await record(pids);
    if (exit !== 0 || Object.values(pids).some((p) => p === null)) {
      throw new LabError(
        'ELAB_START',
        await withLogTails(`courier did not start (exit ${exit}, settings in ${paths.etcDir})`, [
          paths.startLog,
          paths.authdaemondLog,
          paths.imapdLog,
          paths.pop3dLog,
        ]),
      );
    }
    return pids;
  },

  async livePids(layout, recorded) {
    const paths = courierPaths(layout);
    const out: Record<string, number | null> = {};
    for (const role of ['authdaemond', ...LISTENERS]) {
      const isOurs = checker(paths, role);
      out[role] = (await livePid(recorded[role], isOurs)) ?? (await livePid(await readPidFile(paths.pidFile[role as Listener | 'authdaemond']), isOurs));
    }
    return out;
  },

  ownsCommand(layout, cmd) {
    const paths = courierPaths(layout);
    // couriertcpd names its pid file, imaplogin/imapd/pop3d run from the private root.
    return cmd.startsWith(`${COURIERTCPD} -pid=${paths.runDir}/`) || cmd.startsWith(`${paths.root}/`);
  },

  async strayPids(layout) {
    // gam_server (IMAP_ENHANCEDIDLE) is started by imapd through libgamin and daemonises itself.
    const isOurs = isMarked(courierPaths(layout), GAM_SERVER);
    const out: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (/^\d+$/.test(entry) && (await isAlive(Number(entry))) && (await isOurs(Number(entry)))) out.push(Number(entry));
    }
    return out;
  },

  greetings: (ports) => ownAddressGreetings(COURIER_HOST, ports),

  renderTarget: (ports, caFile) => renderTargetFile(endpointPorts(ports), caFile, COURIER_TARGET),

  logFiles(layout) {
    const paths = courierPaths(layout);
    return [paths.startLog, paths.authdaemondLog, paths.imapdLog, paths.pop3dLog];
  },
};
