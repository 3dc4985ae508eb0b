import pc from 'picocolors';
import type { Verdict } from '../runner/results.js';
import { paint } from './console.js';
import { escapeDisguisingInJson, oneLine } from './escape.js';
import type { Matrix, MatrixCell } from './matrix.js';
import { CELL_SYMBOLS, cellHead, cellPhrase, cellTime, cellWord, columnSummary, LEGEND, MATRIX_STATES } from './matrix.js';
import { renderMatrixHtml } from './matrix-html.js';

/**
 * The matrix (matrix.ts) as a console table, a GitHub-flavoured Markdown
 * table and JSON. Every value that came from a server, a scenario or a target
 * file is escaped for the format it lands in.
 */

export const MATRIX_FORMATS = ['matrix-md', 'matrix-html', 'matrix-json'] as const;
export type MatrixFormat = (typeof MATRIX_FORMATS)[number];

/** `--reporter matrix-md=FILE` and its siblings: the text of the file. */
export function renderMatrix(format: MatrixFormat, m: Matrix): string {
  switch (format) {
    case 'matrix-md':
      return renderMatrixMarkdown(m);
    case 'matrix-html':
      return renderMatrixHtml(m);
    case 'matrix-json':
      return renderMatrixJson(m);
  }
}

// ---------------------------------------------------------------- console

/** Width in terminal columns, counting code points (every symbol used here is one column wide). */
function width(text: string): number {
  return [...text].length;
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return max <= 0 ? '' : `${chars.slice(0, max - 1).join('')}…`;
}

function pad(text: string, to: number): string {
  return text + ' '.repeat(Math.max(0, to - width(text)));
}

/**
 * Column widths: each target column as wide as its widest cell when that
 * fits in `available`; otherwise the room is shared out one column at a
 * time, never below a column's floor (its label, and every cell's verdict and
 * time), and the notes that no longer fit are cut with "…".
 */
function fitWidths(natural: readonly number[], floor: readonly number[], available: number): number[] {
  const widths = floor.map((f, i) => Math.min(f, natural[i]!));
  let room = available - widths.reduce((a, b) => a + b, 0);
  while (room > 0) {
    let grew = false;
    for (let i = 0; i < widths.length && room > 0; i++) {
      if (widths[i]! < natural[i]!) {
        widths[i]!++;
        room--;
        grew = true;
      }
    }
    if (!grew) break;
  }
  return widths;
}

const GAP = '  ';

/** The matrix for a person at a terminal (stderr): the scenario id first, a column per target, a summary line per target. */
export function renderMatrixConsole(m: Matrix, opts: { color: boolean; width?: number }): string {
  const colors = pc.createColors(opts.color);
  const total = opts.width ?? 100;
  const labels = m.columns.map((c) => oneLine(c.label));
  const ids = m.rows.map((r) => oneLine(r.id));
  const idWidth = Math.max(width('scenario'), ...ids.map(width));
  const cells = m.rows.map((r) => r.cells.map((cell) => ({ cell, phrase: cellPhrase(cell), time: cellTime(cell) })));
  const full = (c: { phrase: string; time: string }) => (c.time === '' ? c.phrase : `${c.phrase} ${c.time}`);
  const natural = labels.map((label, i) => Math.max(width(label), ...cells.map((row) => width(full(row[i]!)))));
  // The least a cell shows: its verdict, a "…" where a note was cut (so a note is never silently dropped), its time.
  const least = ({ cell, time }: { cell: MatrixCell; time: string }) =>
    width(cellHead(cell)) + (cell.note === undefined ? 0 : 1) + (time === '' ? 0 : 1 + width(time));
  const floor = labels.map((label, i) => Math.max(width(label), ...cells.map((row) => least(row[i]!))));
  const widths = fitWidths(natural, floor, total - idWidth - GAP.length * labels.length);

  const lines: string[] = [];
  lines.push(
    colors.bold(
      `matrix: ${m.rows.length} scenario${m.rows.length === 1 ? '' : 's'} × ${m.columns.length} target${m.columns.length === 1 ? '' : 's'} (mailprobe ${oneLine(m.version)})`,
    ),
  );
  lines.push([pad('scenario', idWidth), ...labels.map((label, i) => pad(label, widths[i]!))].join(GAP).trimEnd());
  m.rows.forEach((_row, r) => {
    const parts = cells[r]!.map(({ cell, phrase, time }, i) => {
      const w = widths[i]!;
      const room = time === '' ? w : w - 1 - width(time);
      // Only the note is cut: the verdict's word and symbol, and the time, always show.
      const head = cellHead(cell);
      const shown = head + truncate(phrase.slice(head.length), room - width(head));
      const plain = pad(time === '' ? shown : `${shown} ${time}`, w);
      // Colour the verdict only; its word and symbol say the same without colour.
      const painted = cell.state === 'not-run' ? colors.dim(head) : paint(colors, cell.state as Verdict, head);
      return painted + plain.slice(head.length);
    });
    lines.push([pad(ids[r]!, idWidth), ...parts].join(GAP).trimEnd());
  });
  lines.push('');
  for (const [i, col] of m.columns.entries()) lines.push(`${labels[i]}: ${oneLine(columnSummary(col))}`);
  return `\n${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- Markdown

/**
 * A value from a server, scenario or target file as literal Markdown text in
 * a table cell: control and bidi characters made visible (a newline becomes
 * `\n` and cannot end the row), then every character that means something in
 * GFM inline text or a table backslash-escaped, so `|` cannot split a cell,
 * `<script>` stays text and `[x](…)`/`![x](…)` cannot make a link or fetch an
 * image.
 */
export function escapeMarkdown(text: string): string {
  return oneLine(text).replace(/[\\`*_{}[\]<>|~&]/g, (ch) => `\\${ch}`);
}

/** A code span for ids made of plain characters only; anything else is escaped text, since a code span cannot escape. */
function mdCode(text: string): string {
  return /^[\w./:@+-]+$/.test(text) ? `\`${text}\`` : escapeMarkdown(text);
}

function mdRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** A GitHub-flavoured table, scenario × target, then the legend and each column's run. */
export function renderMatrixMarkdown(m: Matrix): string {
  const lines = [
    mdRow(['scenario', ...m.columns.map((c) => escapeMarkdown(c.label))]),
    mdRow(['---', ...m.columns.map(() => '---')]),
    ...m.rows.map((row) =>
      mdRow([
        `${mdCode(row.id)} ${escapeMarkdown(row.name)}`,
        ...row.cells.map((cell) => {
          const time = cellTime(cell);
          return `${escapeMarkdown(cellPhrase(cell))}${time === '' ? '' : ` · ${time}`}`;
        }),
      ]),
    ),
    '',
    `${escapeMarkdown(MATRIX_STATES.map((s) => `${CELL_SYMBOLS[s]} ${cellWord(s)}`).join(' · '))}. ${escapeMarkdown(LEGEND)}`,
    '',
    ...m.columns.map((col) => `- ${escapeMarkdown(col.label)}: ${escapeMarkdown(columnSummary(col))}`),
  ];
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- JSON

export const MATRIX_JSON_SCHEMA = 'mailprobe-matrix/1';

/**
 * The matrix as JSON, every field of the model, numbers as numbers:
 *
 *   {
 *     "schema": "mailprobe-matrix/1",
 *     "version": "0.1.0",
 *     "columns": [ { "label": "dovecot", "targetName": "lab-dovecot", "host": "127.0.0.1", "file": "…/target-dovecot.yaml",
 *                    "runId": "mp-…", "startedAt": 1714557600000, "durationMs": 12345, "interrupted": false,
 *                    "counts": { "total": 29, "passed": 29, "failed": 0, "errored": 0, "skipped": 0, "inconclusive": 0 },
 *                    "knownDeviations": 0, "fixedDeviations": 0 } ],
 *     "rows": [ { "id": "imap/uid-stability", "name": "…",
 *                 "cells": [ { "state": "passed", "durationMs": 812, "note": "3 known deviations (RFC 3501 §6.3.1)",
 *                              "deviations": { "known": 3, "fixed": 0 } } ] } ]
 *   }
 *
 * `cells[i]` belongs to `columns[i]`. A cell's state is a verdict or "not-run"
 * (no durationMs then). `note` is absent on a plain pass. Times are
 * milliseconds, `startedAt` epoch milliseconds. Bump the schema on any change
 * a reader could trip on.
 */
export function renderMatrixJson(m: Matrix): string {
  const doc = {
    schema: MATRIX_JSON_SCHEMA,
    version: m.version,
    columns: m.columns.map((c) => ({
      label: c.label,
      targetName: c.targetName,
      host: c.host,
      file: c.file,
      runId: c.runId,
      startedAt: c.startedAt,
      durationMs: c.durationMs,
      interrupted: c.interrupted,
      counts: { ...c.counts },
      knownDeviations: c.knownDeviations,
      fixedDeviations: c.fixedDeviations,
    })),
    rows: m.rows.map((r) => ({
      id: r.id,
      name: r.name,
      cells: r.cells.map((cell) => ({
        state: cell.state,
        ...(cell.durationMs !== undefined ? { durationMs: cell.durationMs } : {}),
        ...(cell.note !== undefined ? { note: cell.note } : {}),
        deviations: { known: cell.deviations.known, fixed: cell.deviations.fixed },
      })),
    })),
  };
  return `${escapeDisguisingInJson(JSON.stringify(doc, null, 2))}\n`;
}
