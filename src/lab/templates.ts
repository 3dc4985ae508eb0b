import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The daemon configs are templates in fixtures/lab/ so an admin can read them
 * as plain config files. The URL resolves from src/lab (tests) and from
 * dist/lab (built package, which ships fixtures/lab) alike.
 */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../fixtures/lab/', import.meta.url));

export class TemplateError extends Error {
  readonly code = 'ELAB_TEMPLATE';
}

/**
 * Replace {{name}} placeholders. A placeholder without a value, or a value
 * that is never used, is a bug in the caller, so both throw instead of
 * leaving a half-rendered config for the daemon to misread.
 */
export function renderTemplate(name: string, text: string, values: Readonly<Record<string, string | number>>): string {
  const used = new Set<string>();
  const out = text.replace(/\{\{([a-z0-9_]+)\}\}/g, (_m, key: string) => {
    const value = values[key];
    if (value === undefined) throw new TemplateError(`template ${name}: no value for {{${key}}}`);
    used.add(key);
    return String(value);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new TemplateError(`template ${name}: values never used: ${unused.join(', ')}`);
  return out;
}

export async function renderTemplateFile(file: string, values: Readonly<Record<string, string | number>>): Promise<string> {
  const text = await readFile(join(TEMPLATE_DIR, file), 'utf8');
  return renderTemplate(file, text, values);
}
