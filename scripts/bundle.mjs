// Bundles the CLI (src/cli/main.ts and what it imports, with zod, yaml and commander) over tsc's dist/cli/main.js,
// plus one chunk per lazily imported command under dist/chunks/. Why: Node 20 has no compile
// cache, and loading ~280 small ES modules (105 of mailprobe's, 95 of zod's, 72 of yaml's) cost more than half of
// `mailprobe validate`'s start (issue 12, cold start). The lazy imports stay lazy: each command's chunk loads only
// when its action runs, so --version and --help still load none of the protocol libraries.
//
// The CommonJS protocol libraries (imapflow, nodemailer, dns-packet, xmlbuilder2, picocolors) stay external: they
// load only for the commands that use them, and bundling them would change how they resolve their own files.
// Nothing is minified, so stack traces keep their function names. The bundler reads the TypeScript sources (as the
// tests' own transform does; tsc type-checks them and builds the rest of dist/), so running it twice is harmless.
// Without this step (tsc alone), dist/cli/main.js is tsc's own and works the same, only slower to start.
import { build } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const BUNDLED = new Set(['zod', 'yaml', 'commander']);
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name));

// zod re-exports all of its ~60 message locales (a third of a megabyte) through the namespace mailprobe imports, so
// the bundler cannot leave them out; mailprobe words its own messages and only zod's English default is used.
const onlyEnglishZodLocale = {
  name: 'only-english-zod-locale',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/') ? { path: 'zod-locales', namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: process.cwd(),
    }));
  },
};

// Chunk names carry a content hash: the last build's must not pile up beside this one's.
await rm(new URL('../dist/chunks/', import.meta.url), { recursive: true, force: true });
const result = await build({
  metafile: true,
  plugins: [onlyEnglishZodLocale],
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  tsconfig: 'tsconfig.build.json',
  outdir: 'dist',
  // Inside dist/ on purpose, at the depth of dist/cli/: modules find the package root as ../.. of import.meta.url.
  chunkNames: 'chunks/[name]-[hash]',
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external,
  // commander is CommonJS: its require() of Node's own modules needs a real require inside an ES module.
  banner: { js: "import { createRequire as __mailprobeRequire } from 'node:module'; const require = __mailprobeRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
// Which sources each output file holds: the cold-start test maps the chunks a command loaded back to the packages
// bundled in them (test/cli/cold-start.test.ts), since a bundled package is no longer loaded from node_modules/.
const holds = Object.fromEntries(Object.entries(result.metafile.outputs).map(([file, out]) => [file, Object.keys(out.inputs).sort()]));
await writeFile(new URL('../dist/chunks/sources.json', import.meta.url), `${JSON.stringify(holds, null, 1)}\n`);
