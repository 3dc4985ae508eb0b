import type { DataPath } from './interpolate.js';
import { parseTemplate, TemplateSyntaxError } from './template.js';
import type { Reference } from './template.js';

export interface FoundReference {
  /** Path of the string leaf that holds the reference (including basePath). */
  readonly path: DataPath;
  readonly ref: Reference;
}

export interface TemplateProblem {
  readonly path: DataPath;
  readonly message: string;
}

/**
 * Every reference in the string leaves of `tree`, for load-time checks
 * (captures defined earlier, declared vars, required accounts) without
 * evaluating anything.
 */
export function findReferences(tree: unknown, basePath: DataPath = []): { references: FoundReference[]; problems: TemplateProblem[] } {
  const references: FoundReference[] = [];
  const problems: TemplateProblem[] = [];
  const walk = (node: unknown, path: DataPath): void => {
    if (typeof node === 'string') {
      try {
        for (const part of parseTemplate(node)) if (part.kind === 'ref') references.push({ path, ref: part.ref });
      } catch (err) {
        if (!(err instanceof TemplateSyntaxError)) throw err;
        problems.push({ path, message: err.message });
      }
    } else if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, [...path, i]);
    } else if (typeof node === 'object' && node !== null && !Buffer.isBuffer(node) && !(node instanceof Date)) {
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
    }
  };
  walk(tree, basePath);
  return { references, problems };
}
