import { z } from 'zod';
import { AUDIT_EVENT_TYPES, storedEventSchema } from './events.js';

/** Where the generated files live (docs/audit-events.md points at them). */
export const SCHEMA_DIR = 'docs/audit-events';

/**
 * The published JSON Schema of every stored event type (A11), generated from the zod map: one file
 * per type, and `audit-event.schema.json` that is any one of them. `scripts/audit-schemas.ts` writes
 * them; a test checks the committed files are these and that what the app writes validates.
 */
export function auditEventSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const type of AUDIT_EVENT_TYPES) {
    const schema = z.toJSONSchema(storedEventSchema(type), { target: 'draft-2020-12' });
    files.set(`${type}.schema.json`, render({ ...schema, $id: `https://vaultline.example/schemas/audit-events/${type}.schema.json`, title: `audit event ${type}` }));
  }
  files.set(
    'audit-event.schema.json',
    render({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://vaultline.example/schemas/audit-events/audit-event.schema.json',
      title: 'any Vaultline audit event',
      oneOf: AUDIT_EVENT_TYPES.map((t) => ({ $ref: `${t}.schema.json` })),
    }),
  );
  return files;
}

const render = (o: object) => `${JSON.stringify(o, null, 2)}\n`;
