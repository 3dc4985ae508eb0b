/**
 * Whether a YAML file is a target file, told by its content rather than its
 * name, since users keep `staging.yaml` beside their scenarios: a root map
 * with `kind: target`, or with both `host` and `endpoints` (keys a scenario
 * never has at its root; its schema is strict).
 *
 * Read from the root's keys as lines at column 0, not by parsing: the file is
 * parsed once, by the loader it turns out to be for, so a hostile file (deep
 * nesting, alias floods) meets only that loader's guards, and is reported
 * the same way whichever it is (parsing it twice also made where a parser
 * ran out of stack differ between runs). A root written as a flow map
 * (`{host: …}`) is not recognised, and is read as a scenario.
 */
export function isTargetText(text: string): boolean {
  const rootKeys = new Map<string, string>();
  for (const m of text.matchAll(/^(["']?)([A-Za-z_][A-Za-z0-9_-]*)\1[ \t]*:(?:[ \t]+([^#\r\n]*?))?[ \t]*(?:#.*)?$/gm)) {
    const key = m[2] ?? '';
    if (!rootKeys.has(key)) rootKeys.set(key, (m[3] ?? '').replace(/^(["'])(.*)\1$/, '$2'));
  }
  return rootKeys.get('kind') === 'target' || (rootKeys.has('host') && rootKeys.has('endpoints'));
}
