import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FLOW_JSON_SCHEMA_FILE, flowJsonSchema } from '../src/flows/json-schema.js';

const SCHEMA_HEADER = /^# yaml-language-server: \$schema=(\S+)$/m;
const flowFiles = readdirSync('flows').filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join('flows', f));

describe('the JSON Schema of flow files', () => {
  it('when the zod schema changes, then docs/flow.schema.json must be regenerated (npm run flows -- schema)', () => {
    expect(readFileSync(FLOW_JSON_SCHEMA_FILE, 'utf8'), 'docs/flow.schema.json is stale: npm run flows -- schema').toBe(flowJsonSchema());
  });

  it('when an editor opens a shipped flow, then the file names the schema and the schema accepts it', () => {
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(flowJsonSchema()) as object);
    expect(flowFiles.length).toBeGreaterThan(0);
    for (const file of flowFiles) {
      const text = readFileSync(file, 'utf8');
      const ref = SCHEMA_HEADER.exec(text)?.[1];
      expect(ref, `${file} has no yaml-language-server $schema line`).toBeDefined();
      expect(path.resolve(path.dirname(file), ref ?? '')).toBe(path.resolve(FLOW_JSON_SCHEMA_FILE));
      expect(validate(parse(text)), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('when an action is misspelled or a field has a typo, then the editor is told by the schema too', () => {
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(flowJsonSchema()) as object);
    const flow = parse(readFileSync(flowFiles[0] ?? '', 'utf8')) as { nodes: Record<string, Record<string, unknown>> };
    const action = Object.values(flow.nodes).find((n) => n.kind === 'action');
    if (!action) throw new Error('the shipped flow has no action node');
    action.action = 'balanse';
    expect(validate(flow)).toBe(false);
    action.action = 'balance';
    action.nxt = 'main-menu';
    expect(validate(flow)).toBe(false);
  });
});
