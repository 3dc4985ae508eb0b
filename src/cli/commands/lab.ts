import { defaultLabDir, labDown, labStatus, labUp, LabError, parseServerList, type ServerName } from '../../lab/index.js';
import { EXIT } from '../exit-codes.js';
import type { CliContext } from '../run-context.js';
import { OutputFileError } from '../../transport/private-files.js';

export interface LabCommandOptions {
  /** `lab up --servers dovecot,cyrus,courier`; Dovecot alone when absent. */
  servers?: string;
}

export async function labCommand(verb: 'up' | 'down' | 'status', ctx: CliContext, options: LabCommandOptions = {}): Promise<number> {
  const log = (line: string) => ctx.stderr.write(`lab: ${line}\n`);
  try {
    // A bad --servers list is a usage error, found before anything is installed or started.
    const servers: ServerName[] | undefined = options.servers === undefined ? undefined : parseServerList(options.servers);
    const stateDir = defaultLabDir(ctx.env);
    switch (verb) {
      case 'up': {
        const info = await labUp({ stateDir, log, ...(servers ? { servers } : {}) });
        const names = info.servers.map((s) => s.name);
        const lines = [
          info.alreadyRunning ? 'The lab was already running.' : `The lab is up: ${names.map(title).join(', ')} and Postfix on loopback.`,
          `Passwords:   ${info.envFile} (mode 0600; mailprobe run reads it for the lab)`,
          `CA:          ${info.caFile}`,
        ];
        for (const server of info.servers) {
          lines.push(`${title(server.name)}: target file ${server.targetFile}`);
          for (const [name, port] of Object.entries(server.ports)) lines.push(`  ${name.padEnd(11)} ${server.hosts[name] ?? '127.0.0.1'}:${port}`);
        }
        if (names.length > 1) lines.push(`For a target other than target.yaml: mailprobe run --target FILE --secrets-file ${info.envFile}`);
        lines.push('Copy a target file as a template for a real host; put passwords in environment variables.', '');
        ctx.stdout.write(lines.join('\n'));
        return EXIT.OK;
      }
      case 'down': {
        const result = await labDown({ stateDir, log });
        ctx.stdout.write(result.stopped.length > 0 ? `Stopped: ${result.stopped.join(', ')}\n` : 'The lab was not running.\n');
        return EXIT.OK;
      }
      case 'status': {
        const status = await labStatus({ stateDir });
        const lines = [`Lab ${status.running ? 'running' : 'not running'} (${status.stateDir})`];
        // Dovecot's endpoints by their bare names (as before); other servers' prefixed with the server.
        const portName = (p: (typeof status.ports)[number]) => (p.server === 'dovecot' ? p.endpoint : `${p.server} ${p.endpoint}`);
        const width = Math.max(10, ...status.daemons.map((d) => d.name.length), ...status.ports.map((p) => portName(p).length));
        for (const d of status.daemons) lines.push(`  ${d.name.padEnd(width)} pid ${d.pid ?? '-'} ${d.alive ? 'alive' : 'not running'}`);
        for (const p of status.ports) lines.push(`  ${portName(p).padEnd(width)} ${p.host}:${p.port} ${p.listening ? 'listening' : 'closed'}`);
        ctx.stdout.write(`${lines.join('\n')}\n`);
        return status.running ? EXIT.OK : EXIT.ERRORED;
      }
    }
  } catch (err) {
    if (err instanceof LabError && err.code === 'ELAB_USAGE') {
      ctx.stderr.write(`mailprobe lab ${verb}: ${err.message}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof LabError || err instanceof OutputFileError) {
      ctx.stderr.write(`mailprobe lab ${verb}: ${err.message}\n`);
      return EXIT.ERRORED;
    }
    throw err;
  }
}

function title(name: ServerName): string {
  return { dovecot: 'Dovecot', cyrus: 'Cyrus IMAP', courier: 'Courier' }[name];
}
