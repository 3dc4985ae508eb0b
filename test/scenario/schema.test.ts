import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ActionSignatures } from '../../src/actions/define-action.js';
import { allowInterpolation, scenarioJsonSchema, schemaText, targetJsonSchema } from '../../src/scenario/json-schema.js';
import { MATCHER_NAMES } from '../../src/scenario/matchers.js';
import { testActions } from './test-actions.js';

const schemaDir = path.resolve('schema');
const registryFile = path.resolve('src/actions/registry.ts');
const REGENERATE = "regenerate with writeSchemas('schema', actionSignatures) from src/scenario/json-schema.ts (the CLI's `schema --write`)";

type Json = Record<string, unknown>;

describe('editor JSON Schemas', () => {
  it('committed schema/target.schema.json is current', () => {
    const committed = readFileSync(path.join(schemaDir, 'target.schema.json'), 'utf8');
    expect(committed, REGENERATE).toBe(schemaText(targetJsonSchema()));
  });

  // The scenario schema is built from the real action registry. That file is
  // written by another engineer; until it exists there is nothing to compare.
  it.skipIf(!existsSync(registryFile))('committed schema/scenario.schema.json is current', async () => {
    const mod = (await import(pathToFileURL(registryFile).href)) as { actionSignatures: ActionSignatures };
    const committed = readFileSync(path.join(schemaDir, 'scenario.schema.json'), 'utf8');
    expect(committed, REGENERATE).toBe(schemaText(scenarioJsonSchema(mod.actionSignatures)));
  });

  it('is draft-07, strict, with one step variant per action', () => {
    const s = scenarioJsonSchema(testActions) as Json & { properties: Record<string, Json> };
    expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(s.additionalProperties).toBe(false);
    expect(s.required).toEqual(['name', 'steps']);
    expect((s.properties.steps as Json).items).toEqual({ $ref: '#/definitions/step' });
    expect((s.properties.cleanup as Json).items).toEqual({ $ref: '#/definitions/step' });
    const variants = ((s.definitions as Record<string, Json>).step as Json).oneOf as Json[];
    expect(variants.map((v) => ((v.properties as Record<string, Json>).action as Json).const)).toEqual(Object.keys(testActions));
    const retr = variants.find((v) => ((v.properties as Record<string, Json>).action as Json).const === 'pop3.retr') as Json;
    expect(retr.required).toEqual(expect.arrayContaining(['action', 'with', 'session']));
    const sleep = variants.find((v) => ((v.properties as Record<string, Json>).action as Json).const === 'sleep') as Json;
    expect(Object.keys(sleep.properties as Json)).not.toContain('session');
    // pop3.stat takes no params, so `with` may be left out.
    const stat = variants.find((v) => ((v.properties as Record<string, Json>).action as Json).const === 'pop3.stat') as Json;
    expect(stat.required).not.toContain('with');
  });

  it('lets ${…} stand for typed params and operands, and demands exactly one matcher', () => {
    const s = scenarioJsonSchema(testActions);
    const text = JSON.stringify(s);
    const retr = ((s.definitions as Record<string, Json>).step as { oneOf: Json[] }).oneOf.find(
      (v) => ((v.properties as Record<string, Json>).action as Json).const === 'pop3.retr',
    ) as { properties: { with: { anyOf: [{ properties: Record<string, Json> }, Json] } } };
    // The whole `with` may be one template, and so may each typed leaf.
    expect(retr.properties.with.anyOf[1]).toMatchObject({ type: 'string', pattern: '\\$\\{' });
    expect(retr.properties.with.anyOf[0].properties.msg).toEqual({
      anyOf: [{ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }, expect.objectContaining({ type: 'string', pattern: '\\$\\{' })],
    });
    const expectation = (s.definitions as Record<string, Json & { properties: Record<string, Json> }>).expectation;
    expect(expectation?.oneOf).toEqual(MATCHER_NAMES.map((m) => ({ required: [m] })));
    expect(expectation?.properties.at_least).toEqual({ anyOf: [{ type: 'number' }, expect.objectContaining({ pattern: '\\$\\{' })] });
    expect(text.match(/"oneOf":\[\{"required"/g)).toHaveLength(1);
  });

  it('allowInterpolation leaves plain strings alone and wraps everything typed', () => {
    expect(allowInterpolation({ type: 'string' })).toEqual({ type: 'string' });
    const wrapped = allowInterpolation({ type: 'object', properties: { a: { type: 'boolean' }, b: { type: 'string', enum: ['x'] } }, description: 'd' });
    expect(wrapped.description).toBe('d');
    const inner = (wrapped.anyOf as Json[])[0] as { properties: Record<string, Json> };
    expect(inner.properties.a?.anyOf).toHaveLength(2);
    expect(inner.properties.b?.anyOf).toHaveLength(2);
  });

  it('target schema is strict draft-07 and needs at least one endpoint', () => {
    const t = targetJsonSchema() as Json & { properties: Record<string, Json> };
    expect(t.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(t.additionalProperties).toBe(false);
    expect(t.properties.endpoints?.minProperties).toBe(1);
    expect(t.required).toEqual(['name', 'host', 'endpoints', 'accounts']);
  });
});
