import { basename, dirname, extname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { labTargetFile, SERVER_NAMES, type ServerName } from '../lab/index.js';
import type { ReporterSpec } from '../reporters/index.js';

/**
 * Which targets one `mailprobe run` goes through, and what each is called.
 *
 * One run may name several targets: `--target a.yaml --target b.yaml`, or
 * `--servers dovecot,cyrus,courier` for the built-in lab's servers. They run
 * one after the other, each with its own run id and its own report files, and
 * together they make the matrix (scenario × server). With neither option the
 * run goes to the lab's Dovecot, as it always did.
 */
export interface RunTarget {
  /** Short name: the matrix column, and what a report file name is given. */
  readonly label: string;
  /** The target file, absolute. */
  readonly file: string;
  /** The lab's file: its passwords are in the lab's lab.env. */
  readonly fromLab: boolean;
}

export class TargetChoiceError extends Error {
  override readonly name = 'TargetChoiceError';
}

/**
 * --servers LIST -> the lab's target files for exactly those servers, in the
 * order given. Unlike `lab up --servers` (which always starts Dovecot, since
 * the lab's Postfix is its), a run goes only where it is told.
 */
export function labTargets(list: string, labDir: string): RunTarget[] {
  const names = list
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  if (names.length === 0) throw new TargetChoiceError(`--servers needs at least one name (known: ${SERVER_NAMES.join(', ')})`);
  for (const [i, name] of names.entries()) {
    if (!(SERVER_NAMES as readonly string[]).includes(name))
      throw new TargetChoiceError(`unknown server "${name}" in --servers (known: ${SERVER_NAMES.join(', ')})`);
    if (names.indexOf(name) !== i) throw new TargetChoiceError(`--servers names ${name} twice`);
  }
  const out: RunTarget[] = [];
  for (const name of names) {
    const file = labTargetFile(labDir, name as ServerName);
    if (!existsSync(file)) {
      throw new TargetChoiceError(
        `the lab in ${labDir} is not running ${name} (no ${basename(file)}); start it with \`mailprobe lab up --servers ${names.join(',')}\``,
      );
    }
    out.push({ label: name, file, fromLab: true });
  }
  return out;
}

/**
 * --target FILE… -> one target each, labelled by the file's name:
 * `staging.yaml` is "staging", the lab's `target-cyrus.yaml` is "cyrus". Two
 * files of one name get "-2", "-3" so that their report files stay apart.
 */
export function fileTargets(files: readonly string[], cwd: string): RunTarget[] {
  const out: RunTarget[] = [];
  const seen = new Set<string>();
  for (const given of files) {
    const file = resolve(cwd, given);
    if (seen.has(file)) throw new TargetChoiceError(`--target ${given} is given twice`);
    seen.add(file);
    const stem = basename(file, extname(file)).replace(/^target-(?=.)/, '');
    const base = safeLabel(stem);
    let label = base;
    for (let n = 2; out.some((t) => t.label === label); n++) label = `${base}-${n}`;
    out.push({ label, file, fromLab: false });
  }
  return out;
}

/** A label is part of a file name: only letters, digits, '.', '_' and '-' stay. */
function safeLabel(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return cleaned === '' ? 'target' : cleaned;
}

/**
 * A file reporter's file for one target of several: `reports/junit.xml` for
 * the target "cyrus" is `reports/junit-cyrus.xml`. A name with `{target}` in
 * it is filled in instead (`reports/{target}/junit.xml`). With one target the
 * name is kept as given.
 */
export function fileForTarget(file: string, label: string, targetCount: number): string {
  if (file.includes('{target}')) return file.replaceAll('{target}', label);
  if (targetCount === 1) return file;
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}-${label}${ext}`);
}

/** The reporters of one target: each file reporter with its own file. */
export function specsForTarget(specs: readonly ReporterSpec[], label: string, targetCount: number): ReporterSpec[] {
  return specs.map((s) => (s.file === undefined ? s : { ...s, file: fileForTarget(s.file, label, targetCount) }));
}
