import { LoadError } from '../core/diagnostics.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { ENV_NAME_RE } from './schema.js';

/**
 * Parses `KEY=value` lines (the lab's 0600 env file, `--env-file`). Blank
 * lines and `#` comments are skipped, an `export ` prefix is allowed, and one
 * pair of matching outer quotes is removed. Nothing is expanded. Error
 * messages name the line, never its value: these files hold passwords.
 */
export function parseEnvFile(text: string, file = '<env file>'): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: Diagnostic[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    const key = eq < 0 ? body : body.slice(0, eq).trim();
    const col = raw.indexOf(key.charAt(0)) + 1 || 1;
    if (eq < 0) {
      problems.push({ pos: { file, line: i + 1, col }, message: "expected KEY=value (no '=' on this line)" });
      return;
    }
    if (!ENV_NAME_RE.test(key)) {
      problems.push({ pos: { file, line: i + 1, col }, message: "expected a variable name made of letters, digits and '_' before '='" });
      return;
    }
    let value = body.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) value = value.slice(1, -1);
    out[key] = value;
  });
  if (problems.length > 0) throw new LoadError('EENV_FILE', problems);
  return out;
}
