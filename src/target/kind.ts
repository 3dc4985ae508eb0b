import { parseDocument, isMap, isScalar } from 'yaml';

/**
 * Whether a YAML file is a target file, told by its content rather than its
 * name, since users keep `staging.yaml` beside their scenarios: a root map
 * with `kind: target`, or with both `host` and `endpoints` (keys a scenario
 * never has at its root; its schema is strict). A file that does not parse is
 * not a target: the scenario loader reports it with its position.
 */
export function isTargetText(text: string): boolean {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return false;
  const keys = new Map<unknown, unknown>();
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    keys.set(key, isScalar(pair.value) ? pair.value.value : pair.value);
  }
  return keys.get('kind') === 'target' || (keys.has('host') && keys.has('endpoints'));
}
