import type { RunResult, ScenarioResult } from '../runner/results.js';
import type { Redactor } from '../transport/redact.js';

/**
 * Report-time redaction of the result model, done once per result before any
 * format renders it, so no renderer can forget a field.
 *
 * It walks every string leaf rather than listing fields: a field added to the
 * model later is redacted by default, which is the safe way round. Only
 * identifiers that the user wrote in files and that CI keys on are left
 * alone (ids, paths, tags, action and session names, verdicts, error codes).
 */
const IDENTITY_KEYS = new Set(['id', 'file', 'suite', 'classname', 'tags', 'action', 'session', 'direction', 'state', 'code', 'runId', 'mailprobeVersion']);

/**
 * Human-written titles. The Redactor's credential-command patterns are meant
 * for protocol lines: applied to a title such as "IMAP LOGIN with bad
 * password" they would eat its end, and two titles would collapse into one
 * (GitLab keys test cases by name). Titles get secret values scrubbed, not
 * command patterns.
 */
const TITLE_KEYS = new Set(['name', 'description', 'step']);

/**
 * Labelled remarks (results.ts Remark): the label is ours; the text is data,
 * or mailprobe's own prose where the remark says so.
 */
const REMARK_KEYS = new Set(['remarks']);

/** Free-form records: their keys name things, their values are all data. */
const RECORD_KEYS = new Set(['properties', 'capabilities']);

type Mode = 'full' | 'title' | 'none' | 'record';

export function redactRun(run: RunResult, redactor: Redactor): RunResult {
  return walk(run, redactor, 'full') as RunResult;
}

export function redactScenario(result: ScenarioResult, redactor: Redactor): ScenarioResult {
  return walk(result, redactor, 'full') as ScenarioResult;
}

/** Titles and names: known secret values only, so "IMAP LOGIN with a bad password" keeps its words. */
export function redactTitle(text: string, redactor: Redactor): string {
  return redactor.secrets(text);
}

function walk(value: unknown, redactor: Redactor, mode: Mode): unknown {
  if (typeof value === 'string') {
    if (mode === 'none') return value;
    return mode === 'title' ? redactTitle(value, redactor) : redactor.text(value);
  }
  if (Array.isArray(value)) return value.map((item) => walk(item, redactor, mode === 'record' ? 'full' : mode));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (REMARK_KEYS.has(key) && mode !== 'none' && Array.isArray(item)) {
        out[key] = item.map((remark) => walkRemark(remark, redactor));
        continue;
      }
      // Record keys (property names, session names in `capabilities`) are
      // written by us or the scenario author, never by a server; their values
      // are always data, whatever the key is called.
      out[key] = walk(item, redactor, childMode(mode, key));
    }
    return out;
  }
  return value;
}

function walkRemark(remark: unknown, redactor: Redactor): unknown {
  if (remark === null || typeof remark !== 'object') return walk(remark, redactor, 'full');
  const r = remark as Record<string, unknown>;
  const textMode: Mode = r['prose'] === true ? 'title' : 'full';
  return Object.fromEntries(Object.entries(r).map(([key, value]) => [key, walk(value, redactor, key === 'text' ? textMode : 'none')]));
}

function childMode(parent: Mode, key: string): Mode {
  if (parent === 'none') return 'none';
  if (parent === 'record') return 'full';
  if (RECORD_KEYS.has(key)) return 'record';
  if (IDENTITY_KEYS.has(key)) return 'none';
  if (TITLE_KEYS.has(key)) return 'title';
  return 'full';
}
