import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { SCHEMA_DIR } from '../../src/audit/json-schema.js';

/** Validates events against the committed JSON Schema files (docs/audit-events), as a SIEM would. */
export function auditSchemaValidator() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  for (const name of readdirSync(SCHEMA_DIR).filter((n) => n.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, name), 'utf8')) as object, name);
  }
  /** The problems of one event against its type's schema and against the union; [] when it is valid. */
  return (event: { type?: unknown }): string[] => {
    const problems: string[] = [];
    const byType = ajv.getSchema(`${String(event.type)}.schema.json`);
    if (!byType) return [`no schema for type ${String(event.type)}`];
    if (!byType(event)) problems.push(...(byType.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
    const any = ajv.getSchema('audit-event.schema.json');
    if (any && !any(event)) problems.push('not valid against audit-event.schema.json');
    return problems;
  };
}
