import { parse } from 'yaml';

/**
 * A small, strict reader of the TAP 14 mailprobe writes, so tests read a
 * report the way a harness does instead of matching text: the version line,
 * one plan, numbered test points in order, their directives (an unescaped
 * `#` starts one), and YAML diagnostics blocks (`  ---` … `  ...`) parsed as
 * YAML. Anything else that is not a comment throws.
 */
export interface TapPoint {
  readonly ok: boolean;
  readonly n: number;
  readonly description: string;
  readonly directive?: { readonly kind: 'SKIP' | 'TODO' | 'time'; readonly text: string };
  readonly diagnostics?: Record<string, unknown>;
}

export function parseTap(text: string): { plan: number; points: TapPoint[] } {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines[0] !== 'TAP version 14') throw new Error(`not TAP 14: ${lines[0]}`);
  let plan: number | undefined;
  const points: TapPoint[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#') || line.length === 0) continue;
    const planMatch = /^1\.\.(\d+)$/.exec(line);
    if (planMatch !== null) {
      if (plan !== undefined) throw new Error('two plans');
      plan = Number(planMatch[1]);
      continue;
    }
    const point = /^(not )?ok (\d+)(?: - )?((?:[^#\\]|\\.)*)(?:# (.*))?$/.exec(line);
    if (point === null) throw new Error(`line ${i + 1} is not TAP: ${line}`);
    const n = Number(point[2]);
    if (n !== points.length + 1) throw new Error(`test point ${n} out of order`);
    const directiveText = point[4];
    let directive: TapPoint['directive'];
    if (directiveText !== undefined) {
      const d = /^(SKIP|TODO|time=)\s*(.*)$/i.exec(directiveText);
      directive = d === null ? undefined : { kind: d[1]!.toLowerCase() === 'time=' ? 'time' : (d[1]!.toUpperCase() as 'SKIP' | 'TODO'), text: d[2]! };
    }
    let diagnostics: Record<string, unknown> | undefined;
    if (lines[i + 1] === '  ---') {
      const end = lines.indexOf('  ...', i + 2);
      if (end === -1) throw new Error(`unterminated YAML block after point ${n}`);
      diagnostics = parse(
        lines
          .slice(i + 2, end)
          .map((l) => l.replace(/^ {2}/, ''))
          .join('\n'),
      ) as Record<string, unknown>;
      i = end;
    }
    points.push({
      ok: point[1] === undefined,
      n,
      description: point[3]!.trim().replace(/\\(.)/g, '$1'),
      ...(directive === undefined ? {} : { directive }),
      ...(diagnostics === undefined ? {} : { diagnostics }),
    });
  }
  if (plan === undefined) throw new Error('no plan');
  if (plan !== points.length) throw new Error(`plan says ${plan}, ${points.length} test points`);
  return { plan, points };
}
