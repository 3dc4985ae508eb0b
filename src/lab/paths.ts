import { isAbsolute, join, resolve } from 'node:path';
import { LabError } from './errors.js';

/** Default home of the lab: outside any checkout, traversable by dovecot, vmail and postfix (LAB-NOTES 4). */
export const DEFAULT_LAB_DIR = '/tmp/mailprobe-lab';

/**
 * The one place that reads MAILPROBE_LAB_DIR. The CLI calls it with its
 * environment and passes the result down as `stateDir`; library code never
 * reads process.env for this.
 */
export function defaultLabDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['MAILPROBE_LAB_DIR'];
  return fromEnv && fromEnv.trim() !== '' ? resolve(fromEnv.trim()) : DEFAULT_LAB_DIR;
}

/** Every path the lab uses, derived from its state directory. */
export interface LabLayout {
  stateDir: string;
  stateFile: string;
  lockFile: string;
  targetFile: string;
  envFile: string;
  tlsDir: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  dovecotDir: string;
  dovecotConf: string;
  dovecotPasswd: string;
  dovecotBaseDir: string;
  dovecotStateDir: string;
  dovecotPidFile: string;
  authSocket: string;
  postfixConfDir: string;
  postfixRecipients: string;
  postfixQueueDir: string;
  postfixDataDir: string;
  postfixPidFile: string;
  mailDir: string;
  logDir: string;
  dovecotLog: string;
  dovecotStartLog: string;
  postfixLog: string;
  postfixStartLog: string;
  installLog: string;
}

// Daemon config files are not quoted and Unix socket paths are limited to
// 108 bytes, so keep the state directory short and free of odd characters.
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
const MAX_STATE_DIR = 60;

export function labLayout(stateDirInput: string): LabLayout {
  if (!isAbsolute(stateDirInput)) {
    throw new LabError('ELAB_STATE_DIR', `lab state directory must be an absolute path, got "${stateDirInput}"`);
  }
  const stateDir = resolve(stateDirInput);
  if (!SAFE_PATH.test(stateDir) || stateDir.length > MAX_STATE_DIR || stateDir === '/') {
    throw new LabError(
      'ELAB_STATE_DIR',
      `lab state directory "${stateDir}" must be at most ${MAX_STATE_DIR} characters of [A-Za-z0-9._/-] ` +
        '(it goes unquoted into daemon configs and Unix socket paths)',
    );
  }
  const dovecotDir = join(stateDir, 'dovecot');
  const dovecotBaseDir = join(dovecotDir, 'run');
  const postfixQueueDir = join(stateDir, 'postfix-queue');
  const logDir = join(stateDir, 'log');
  const tlsDir = join(stateDir, 'tls');
  return {
    stateDir,
    stateFile: join(stateDir, 'state.json'),
    lockFile: join(stateDir, 'up.lock'),
    targetFile: join(stateDir, 'target.yaml'),
    envFile: join(stateDir, 'lab.env'),
    tlsDir,
    caFile: join(tlsDir, 'ca.pem'),
    serverCert: join(tlsDir, 'server.pem'),
    serverKey: join(tlsDir, 'server.key'),
    dovecotDir,
    dovecotConf: join(dovecotDir, 'dovecot.conf'),
    dovecotPasswd: join(dovecotDir, 'passwd'),
    dovecotBaseDir,
    dovecotStateDir: join(dovecotDir, 'lib'),
    dovecotPidFile: join(dovecotBaseDir, 'master.pid'),
    authSocket: join(dovecotBaseDir, 'auth-postfix'),
    postfixConfDir: join(stateDir, 'postfix'),
    postfixRecipients: join(stateDir, 'postfix', 'recipients'),
    postfixQueueDir,
    postfixDataDir: join(stateDir, 'postfix-data'),
    postfixPidFile: join(postfixQueueDir, 'pid', 'master.pid'),
    mailDir: join(stateDir, 'mail'),
    logDir,
    dovecotLog: join(logDir, 'dovecot.log'),
    dovecotStartLog: join(logDir, 'dovecot-start.log'),
    postfixLog: join(logDir, 'postfix.log'),
    postfixStartLog: join(logDir, 'postfix-start.log'),
    installLog: join(logDir, 'install.log'),
  };
}
