// Preload for `node --import`: records every module the process loads, one resolved URL or path a line, in the
// file named by MAILPROBE_LOAD_LOG. ESM resolutions come from a resolve hook (it runs on the loader thread);
// CommonJS modules are read from require's cache at exit, because in Node 20 a require() inside a CommonJS
// package does not pass through the ESM hooks.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const log = process.env.MAILPROBE_LOAD_LOG;
if (log) {
  register(new URL('./load-recorder-hooks.mjs', import.meta.url), { data: { log } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    const paths = Object.keys(cache);
    if (paths.length > 0) appendFileSync(log, `${paths.join('\n')}\n`);
  });
}
