import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, rm, writeFile } from 'node:fs/promises';
import { passwdFile, writePrivateFile } from '../accounts.js';
import { LabError } from '../errors.js';
import { runToFile } from '../exec.js';
import { withLogTails } from '../logs.js';
import type { LabLayout } from '../paths.js';
import { dovecotAddresses, ENDPOINT_HOST, ENDPOINTS, type EndpointName, type LabPorts } from '../ports.js';
import { commandLine, livePid, readPidFile, waitForPidFile } from '../procs.js';
import { renderTargetFile } from '../target-file.js';
import { renderTemplateFile } from '../templates.js';
import { ensureMailUser, requireUser } from '../users.js';
import { makeFolders } from '../../transport/private-files.js';
import type { LabServer } from './types.js';

/** Dovecot's master carries its config path in argv: PIDs get reused, and several labs may run side by side. */
export function isDovecotMaster(layout: LabLayout) {
  return async (pid: number) => (await commandLine(pid)).includes(`-c ${layout.dovecotConf}`);
}

/** Dovecot's processes (master, and imap/pop3 sessions that can outlive it, LAB-NOTES 8). */
const DOVECOT_EXE = /^(dovecot|\/usr\/sbin\/dovecot|\/usr\/lib\/dovecot\/|imap|pop3|lmtp)/;

/**
 * The lab's base server: target.yaml is Dovecot's, and the lab's ports record
 * (LabPorts) is its endpoints plus the Postfix ones in front of it. Postfix
 * delivers into its Maildirs itself (virtual(8), see main.cf.tmpl), so Dovecot
 * adds nothing to Postfix's config.
 */
export const dovecot: LabServer = {
  name: 'dovecot',
  aptPackages: ['dovecot-core', 'dovecot-imapd', 'dovecot-pop3d'],
  unpack: null,
  portNames: ENDPOINTS,
  hostOf: (name) => ENDPOINT_HOST[name as EndpointName],
  targetFile: (layout) => layout.targetFile,

  async prepare(ctx, ports) {
    const { layout } = ctx;
    const mailUser = await ensureMailUser();
    const dovecotUser = await requireUser('dovecot');
    await rm(layout.dovecotBaseDir, { recursive: true, force: true });
    for (const dir of [layout.dovecotDir, layout.dovecotBaseDir, layout.dovecotStateDir]) {
      await makeFolders(dir, 0o755);
      await chmod(dir, 0o755);
    }
    await makeFolders(layout.mailDir, 0o700);
    await chown(layout.mailDir, mailUser.uid, mailUser.gid);
    await chmod(layout.mailDir, 0o700);
    for (const f of [layout.dovecotLog, layout.dovecotStartLog]) await rm(f, { force: true });

    // The auth process reads the passwd file as user dovecot (LAB-NOTES 2).
    await writePrivateFile(layout.dovecotPasswd, passwdFile(ctx.passwords));
    await chown(layout.dovecotPasswd, 0, dovecotUser.gid);
    await chmod(layout.dovecotPasswd, 0o640);

    const dh = '/usr/share/dovecot/dh.pem';
    await writeFile(
      layout.dovecotConf,
      await renderTemplateFile('dovecot.conf.tmpl', {
        instance_name: labInstance(layout),
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
        imap_port: ports['imap'] as number,
        imaps_port: ports['imaps'] as number,
        pop3_port: ports['pop3'] as number,
        pop3s_port: ports['pop3s'] as number,
        // Plain imap/pop3 on 127.0.0.2 so Dovecot does not see them as secured (ENDPOINT_HOST).
        ...dovecotAddresses(),
      }),
      { mode: 0o644 },
    );
  },

  async postfix() {
    return { main: '', master: '' };
  },

  async start(ctx, _ports, record) {
    const { layout } = ctx;
    ctx.log('starting dovecot');
    const exit = await runToFile('dovecot', ['-c', layout.dovecotConf], layout.dovecotStartLog);
    const master = exit === 0 ? await waitForPidFile(layout.dovecotPidFile, isDovecotMaster(layout)) : null;
    await record({ master });
    if (exit !== 0 || master === null) {
      throw new LabError(
        'ELAB_START',
        await withLogTails(`dovecot did not start (exit ${exit}, config ${layout.dovecotConf})`, [layout.dovecotStartLog, layout.dovecotLog]),
      );
    }
    return { master };
  },

  async livePids(layout, recorded) {
    const isOurs = isDovecotMaster(layout);
    return { master: (await livePid(recorded['master'], isOurs)) ?? (await livePid(await readPidFile(layout.dovecotPidFile), isOurs)) };
  },

  ownsCommand: (_layout, cmd) => DOVECOT_EXE.test(cmd),

  greetings: (ports) => ENDPOINTS.map((endpoint) => ({ endpoint, host: ENDPOINT_HOST[endpoint], port: ports[endpoint] as number })),

  renderTarget: (ports, caFile) => renderTargetFile(ports as LabPorts, caFile),

  logFiles: (layout) => [layout.dovecotStartLog, layout.dovecotLog],
};

/** Dovecot's instance_name must differ between labs on one machine; derived from the state dir. */
export function labInstance(layout: LabLayout): string {
  return `mailprobe-lab-${createHash('sha256').update(layout.stateDir).digest('hex').slice(0, 8)}`;
}
