import { defaultLabDir, labDown, labStatus, labUp, LabError } from '../../lab/index.js';
import { EXIT } from '../exit-codes.js';
import type { CliContext } from '../run-context.js';
import { OutputFileError } from '../../transport/private-files.js';

export async function labCommand(verb: 'up' | 'down' | 'status', ctx: CliContext): Promise<number> {
  const stateDir = defaultLabDir(ctx.env);
  const log = (line: string) => ctx.stderr.write(`lab: ${line}\n`);
  try {
    switch (verb) {
      case 'up': {
        const info = await labUp({ stateDir, log });
        ctx.stdout.write(
          [
            info.alreadyRunning ? 'The lab was already running.' : 'The lab is up: Dovecot and Postfix on 127.0.0.1.',
            `Target file: ${info.targetFile}`,
            `Passwords:   ${info.envFile} (mode 0600; mailprobe run reads it for the lab)`,
            `CA:          ${info.caFile}`,
            ...Object.entries(info.ports).map(([name, port]) => `  ${name.padEnd(11)} ${info.hosts[name as keyof typeof info.hosts] ?? '127.0.0.1'}:${port}`),
            'Copy the target file as a template for a real host; put passwords in environment variables.',
            '',
          ].join('\n'),
        );
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
        for (const d of status.daemons) lines.push(`  ${d.name.padEnd(10)} pid ${d.pid ?? '-'} ${d.alive ? 'alive' : 'not running'}`);
        for (const p of status.ports) lines.push(`  ${p.endpoint.padEnd(10)} ${p.host}:${p.port} ${p.listening ? 'listening' : 'closed'}`);
        ctx.stdout.write(`${lines.join('\n')}\n`);
        return status.running ? EXIT.OK : EXIT.ERRORED;
      }
    }
  } catch (err) {
    if (err instanceof LabError || err instanceof OutputFileError) {
      ctx.stderr.write(`mailprobe lab ${verb}: ${err.message}\n`);
      return EXIT.ERRORED;
    }
    throw err;
  }
}
