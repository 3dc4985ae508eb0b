import { resolve } from 'node:path';
import { parseReporterSpec, REPORTER_NAMES, ReporterSpecError, type ReporterSpec } from '../reporters/index.js';
import type { Matrix } from '../reporters/matrix.js';
import { MATRIX_FORMATS, renderMatrix, renderMatrixConsole, type MatrixFormat } from '../reporters/matrix-render.js';
import { escapeControls } from '../reporters/escape.js';
import { writePrivateFile } from '../transport/private-files.js';
import type { CliContext } from './run-context.js';

/**
 * `run --reporter …` names two kinds of output: reporters, written once per
 * target from that target's run, and matrices (`matrix-md`, `matrix-html`,
 * `matrix-json`), written once, after every target ran, from all of them.
 */
export interface MatrixSpec {
  readonly name: MatrixFormat;
  readonly file?: string;
}

export interface RunOutputs {
  readonly specs: readonly ReporterSpec[];
  readonly matrix: readonly MatrixSpec[];
}

const isMatrixFormat = (name: string): name is MatrixFormat => (MATRIX_FORMATS as readonly string[]).includes(name);

/** Splits and checks the --reporter values; a bad one throws ReporterSpecError with the reason. */
export function parseRunOutputs(raw: readonly string[]): RunOutputs {
  const specs: ReporterSpec[] = [];
  const matrix: MatrixSpec[] = [];
  for (const text of raw) {
    const eq = text.indexOf('=');
    const name = (eq === -1 ? text : text.slice(0, eq)).trim();
    const file = eq === -1 ? undefined : text.slice(eq + 1).trim();
    if (!isMatrixFormat(name)) {
      if (name !== '' && !(REPORTER_NAMES as readonly string[]).includes(name)) {
        throw new ReporterSpecError(`unknown reporter "${name}"; known reporters: ${[...REPORTER_NAMES, ...MATRIX_FORMATS].join(', ')}`);
      }
      specs.push(parseReporterSpec(text));
      continue;
    }
    if (file !== undefined && file.length === 0) throw new ReporterSpecError(`reporter spec "${text}" has an empty file name after "="`);
    if (name === 'matrix-html' && file === undefined) {
      throw new ReporterSpecError('the matrix-html reporter writes a page and needs a file: --reporter matrix-html=FILE, e.g. matrix-html=reports/matrix.html');
    }
    matrix.push(file === undefined ? { name } : { name, file });
  }
  return { specs, matrix };
}

/**
 * The matrix on the console (stderr, unless --quiet) and into each file asked
 * for. False when a file could not be written: the run then could not fully
 * happen, as for any report.
 */
export async function writeMatrix(
  m: Matrix,
  outputs: readonly MatrixSpec[],
  io: { readonly say: (line: string) => void; readonly ctx: CliContext; readonly stdout: NodeJS.WritableStream; readonly console: boolean },
): Promise<boolean> {
  // A terminal's width cuts long notes with …; a CI log has no width, and there every note is shown whole.
  const width = io.ctx.stderr.isTTY ? (io.ctx.stderr.columns ?? 100) : 1000;
  if (io.console) io.ctx.stderr.write(renderMatrixConsole(m, { color: io.ctx.color, width }));
  let ok = true;
  for (const spec of outputs) {
    const text = renderMatrix(spec.name, m);
    try {
      if (spec.file === undefined) {
        await new Promise<void>((done, fail) => io.stdout.write(text, (err) => (err ? fail(err) : done())));
      } else {
        await writePrivateFile(resolve(io.ctx.cwd, spec.file), text);
      }
    } catch (err) {
      io.say(`mailprobe: the ${spec.name} matrix could not be written to ${spec.file ?? 'stdout'}: ${escapeControls((err as Error).message)}`);
      ok = false;
    }
  }
  return ok;
}
