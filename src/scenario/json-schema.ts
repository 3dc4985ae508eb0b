import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ActionSignatures } from '../actions/define-action.js';
import { targetSchema } from '../target/schema.js';
import { MATCHER_NAMES } from './matchers.js';
import { buildScenarioSchema } from './schema.js';
import { makeFolders } from '../transport/private-files.js';

/**
 * Editor schemas (draft-07, what yaml-language-server reads), generated from
 * the same zod schemas the loader validates with. Two things zod cannot say
 * are added afterwards: "exactly one matcher per expectation", and that a
 * `${…}` string may stand for any typed value inside `with` and matcher operands.
 */
type Json = Record<string, unknown>;

const INTERPOLATED: Json = { type: 'string', pattern: '\\$\\{', description: 'A ${…} template; typed after interpolation.' };

function toJson(schema: z.ZodType): Json {
  return z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Json;
}

export function scenarioJsonSchema(actions: ActionSignatures): Json {
  const json = toJson(buildScenarioSchema(actions));
  visit(json, (node) => {
    const props = node.properties as Record<string, Json> | undefined;
    if (!props) return;
    if (props.that && props.equals) {
      node.oneOf = MATCHER_NAMES.map((m) => ({ required: [m] }));
      for (const m of MATCHER_NAMES) if (props[m]) props[m] = allowInterpolation(props[m]);
    }
    if (props.action && 'const' in props.action && props.with) props.with = allowInterpolation(props.with);
  });
  return { $schema: json.$schema, title: 'mailprobe scenario', ...shareDefinitions(json) };
}

/**
 * zod inlines every use of a schema; the step union (used by steps and
 * cleanup) and the expectation (used by every step variant) are moved to
 * `definitions` so the shipped file stays small enough for editors.
 */
function shareDefinitions(json: Json): Json {
  const props = json.properties as Record<string, Json> | undefined;
  const step = props?.steps?.items as Json | undefined;
  if (!props || !step) return json;
  let expectation: Json | undefined;
  visit(step, (node) => {
    const expect = (node.properties as Record<string, Json> | undefined)?.expect;
    if (expect?.type === 'array' && expect.items && !('$ref' in (expect.items as Json))) {
      expectation ??= expect.items as Json;
      expect.items = { $ref: '#/definitions/expectation' };
    }
  });
  const definitions: Json = { step };
  if (expectation) definitions.expectation = expectation;
  props.steps = { ...props.steps, items: { $ref: '#/definitions/step' } };
  if (props.cleanup) props.cleanup = { ...props.cleanup, items: { $ref: '#/definitions/step' } };
  return { ...json, definitions };
}

export function targetJsonSchema(): Json {
  const json = toJson(targetSchema);
  const endpoints = (json.properties as Record<string, Json> | undefined)?.endpoints;
  if (endpoints) endpoints.minProperties = 1;
  return { $schema: json.$schema, title: 'mailprobe target', ...json };
}

/** The exact text written to disk, so currency tests compare like with like. */
export function schemaText(schema: Json): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Writes scenario.schema.json and target.schema.json into `dir`; returns the paths written. */
export async function writeSchemas(dir: string, actions: ActionSignatures): Promise<string[]> {
  await makeFolders(dir, 0o755);
  const files: [string, Json][] = [
    [path.join(dir, 'scenario.schema.json'), scenarioJsonSchema(actions)],
    [path.join(dir, 'target.schema.json'), targetJsonSchema()],
  ];
  for (const [file, schema] of files) await writeFile(file, schemaText(schema));
  return files.map(([f]) => f);
}

function visit(node: unknown, fn: (n: Json) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) visit(n, fn);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  fn(node as Json);
  for (const v of Object.values(node)) visit(v, fn);
}

/**
 * Lets a `${…}` string stand wherever a typed value is expected, at every
 * depth. Plain, unconstrained strings already accept it and stay as they are.
 */
export function allowInterpolation(schema: Json): Json {
  const out: Json = { ...schema };
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.map((s) => allowInterpolation(s as Json));
  }
  const props = out.properties;
  if (props && typeof props === 'object') {
    out.properties = Object.fromEntries(Object.entries(props as Record<string, Json>).map(([k, v]) => [k, allowInterpolation(v)]));
  }
  if (out.items && typeof out.items === 'object' && !Array.isArray(out.items)) out.items = allowInterpolation(out.items as Json);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') out.additionalProperties = allowInterpolation(out.additionalProperties as Json);
  const typed = 'type' in out || 'const' in out || 'enum' in out;
  const plainString = out.type === 'string' && !('pattern' in out) && !('format' in out) && !('const' in out) && !('enum' in out);
  if (!typed || plainString) return out;
  // Keep annotations (description, default) visible on the outer node for editors.
  const { description, default: dflt, ...rest } = out;
  const wrapped: Json = { anyOf: [rest, INTERPOLATED] };
  if (description !== undefined) wrapped.description = description;
  if (dflt !== undefined) wrapped.default = dflt;
  return wrapped;
}
