import type { z } from 'zod';
import { hasInterpolation } from '../interpolate/template.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { issuesToDiagnostics } from '../input/issues.js';
import type { DataPath, PositionMap } from '../input/yaml-doc.js';

export type ParamsResult = { readonly ok: true; readonly data: unknown } | { readonly ok: false; readonly diagnostics: Diagnostic[] };

/** True when `path` points at, or into, a string leaf that holds `${…}`. */
export function pointsIntoInterpolated(data: unknown, path: DataPath): boolean {
  let cur: unknown = data;
  for (let i = 0; ; i++) {
    if (typeof cur === 'string') return hasInterpolation(cur);
    if (i >= path.length) return false;
    const seg = path[i];
    if (Array.isArray(cur) && typeof seg === 'number') cur = cur[seg];
    else if (typeof cur === 'object' && cur !== null && seg !== undefined) cur = (cur as Record<string, unknown>)[String(seg)];
    else return false;
  }
}

/**
 * Load time: validates params as written. A `${…}` string may stand where any
 * type is expected (it is typed only after interpolation), so issues at or
 * inside such a leaf are dropped; everything else is reported with positions.
 */
export function validateParamsStatic(schema: z.ZodType, value: unknown, positions: PositionMap, basePath: DataPath): Diagnostic[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return issuesToDiagnostics(result.error.issues, {
    data: value,
    schema,
    positions,
    basePath,
    ignore: (path) => pointsIntoInterpolated(value, path),
  });
}

/**
 * Run time: validates the interpolated params, returning the parsed value
 * (defaults applied) or diagnostics positioned at the leaves as written.
 */
export function validateParams(schema: z.ZodType, value: unknown, positions: PositionMap, basePath: DataPath): ParamsResult {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, diagnostics: issuesToDiagnostics(result.error.issues, { data: value, schema, positions, basePath }) };
}
