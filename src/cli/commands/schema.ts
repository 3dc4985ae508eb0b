import { join, resolve } from 'node:path';
import { actionSignatures } from '../../actions/registry.js';
import { EXIT } from '../exit-codes.js';
import { scenarioJsonSchema, schemaText, targetJsonSchema, writeSchemas } from '../../scenario/json-schema.js';
import type { CliContext } from '../run-context.js';

/** Prints the editor JSON Schema, or writes both schemas into a folder (the repo's schema/ by default). */
export async function schemaCommand(kind: 'scenario' | 'target', options: { write?: string | boolean }, ctx: CliContext): Promise<number> {
  if (options.write !== undefined && options.write !== false) {
    const dir = typeof options.write === 'string' ? resolve(ctx.cwd, options.write) : join(ctx.packageRoot, 'schema');
    const written = await writeSchemas(dir, actionSignatures);
    ctx.stderr.write(`wrote ${written.join(', ')}\n`);
    return EXIT.OK;
  }
  ctx.stdout.write(schemaText(kind === 'target' ? targetJsonSchema() : scenarioJsonSchema(actionSignatures)));
  return EXIT.OK;
}
