import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiTestApp, type ApiTestApp } from './support/api-app.js';

const run = promisify(execFile);
const bin = (name: string) => resolve('node_modules/.bin', name);

type Operation = { operationId?: string };
type Document = { paths: Record<string, Record<string, Operation>>; webhooks?: Record<string, Record<string, Operation>> };

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
}

/**
 * `redocly lint` with the recommended rules, in an empty directory so no stray redocly.yaml applies.
 * It exits 1 on errors; the JSON report on stdout is what we judge either way.
 */
async function lint(dir: string, file: string): Promise<LintReport> {
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
  const out = await run(bin('redocly'), ['lint', '--extends', 'recommended', '--format', 'json', '--lint-config', 'off', file], { cwd: dir, env }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  return JSON.parse(out.stdout) as LintReport;
}

const operations = (doc: Document): Operation[] =>
  [...Object.values(doc.paths), ...Object.values(doc.webhooks ?? {})].flatMap((item) => Object.values(item));

describe('the served OpenAPI document is one client generators accept (issue 16)', () => {
  let api: ApiTestApp;
  let dir: string;
  let served: Document;
  let file: string;
  beforeAll(async () => {
    api = await startApiTestApp();
    const res = await request(api.t.app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    served = res.body as Document;
    dir = await mkdtemp(join(tmpdir(), 'vaultline-openapi-'));
    file = join(dir, 'openapi.json');
    await writeFile(file, res.text);
  });
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('when redocly lints it with the recommended rules, then it reports no error and no warning', async () => {
    const report = await lint(dir, file);
    expect(report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('when an operation loses its operationId, then the same lint reports it (the check can fail)', async () => {
    const broken = structuredClone(served);
    const first = operations(broken)[0];
    expect(first?.operationId).toBeDefined();
    delete first?.operationId;
    const brokenFile = join(dir, 'broken.json');
    await writeFile(brokenFile, JSON.stringify(broken));
    const report = await lint(dir, brokenFile);
    expect(report.problems.map((p) => p.ruleId)).toContain('operation-operationId');
  });

  it('when openapi-typescript reads it, then it writes types naming every operation by its operationId', async () => {
    const out = join(dir, 'api.d.ts');
    await run(bin('openapi-typescript'), [file, '-o', out], { cwd: dir });
    const types = await readFile(out, 'utf8');
    const ids = operations(served).map((o) => o.operationId);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(types).toMatch(new RegExp(`^\\s*"?${id}"?: \\{`, 'm'));
  });
});
