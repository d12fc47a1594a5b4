/**
 * `npm run audit:schemas`: writes the JSON Schema of every audit event type into docs/audit-events/
 * from the zod map in src/audit/events.ts. `--check` writes nothing and exits 1 when a file differs.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditEventSchemaFiles, SCHEMA_DIR } from '../src/audit/json-schema.js';

const given = process.argv.slice(2);
if (given.includes('--help')) {
  console.log('usage: npm run audit:schemas [-- --check]   (re)generate docs/audit-events/*.schema.json from src/audit/events.ts');
  process.exit(0);
}
const unknown = given.filter((a) => a !== '--check');
if (unknown.length > 0) {
  console.error(`audit:schemas: unknown option ${unknown.join(' ')} (npm run audit:schemas -- --help)`);
  process.exit(2);
}
const check = given.includes('--check');
const files = auditEventSchemaFiles();
mkdirSync(SCHEMA_DIR, { recursive: true });
const stale: string[] = [];
for (const [name, content] of files) {
  const path = join(SCHEMA_DIR, name);
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  stale.push(name);
  if (!check) writeFileSync(path, content);
}
for (const name of readdirSync(SCHEMA_DIR)) {
  if (!name.endsWith('.schema.json') || files.has(name)) continue;
  stale.push(name);
  if (!check) rmSync(join(SCHEMA_DIR, name));
}
if (check && stale.length > 0) {
  console.error(`stale audit event schemas (run npm run audit:schemas): ${stale.join(', ')}`);
  process.exit(1);
}
console.log(check ? 'audit event schemas are current' : `${files.size} audit event schemas in ${SCHEMA_DIR}${stale.length ? ` (${stale.length} written)` : ''}`);
