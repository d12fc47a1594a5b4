import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps, type Built } from '../src/compose.js';
import { loadConfig } from '../src/config/load.js';
import { FIXTURE_FLOWS_DIR } from './support/flows.js';
import { PUBLIC_BASE_URL } from './support/app.js';

/**
 * `npm start` (embedded store, embedded trail): the trail's tables are made when the first event is
 * drained, since PGlite is slow to start. A reviewer who opens the console before any call has
 * been made reads an empty trail, not a 503.
 */
describe('the embedded trail before its first event', () => {
  let built: Built;
  let adminKey: string;
  beforeAll(async () => {
    const config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL, FLOWS_DIR: FIXTURE_FLOWS_DIR, LOG_LEVEL: 'warn' });
    expect(config.store).toEqual({ kind: 'embedded' });
    expect(config.audit.databaseUrl).toBeUndefined();
    adminKey = config.adminApiKey;
    built = await buildDeps(config, { logDestination: new Writable({ write: (_c, _e, cb) => cb() }) });
  }, 120_000);
  afterAll(async () => {
    await built?.close();
  }, 120_000);

  it('when calls are searched, exported and checked, then each answers empty (200), not unavailable', async () => {
    const app = createApp(built.deps);
    const range = 'from=2026-11-01T00:00:00.000Z&to=2026-12-01T00:00:00.000Z';
    const search = await request(app).get(`/admin/v1/calls?${range}`).set('Authorization', `Bearer ${adminKey}`);
    expect(search.status).toBe(200);
    expect(search.body).toEqual({ calls: [] });
    const exported = await request(app).get(`/admin/v1/audit/export?${range}`).set('Authorization', `Bearer ${adminKey}`).buffer(true).parse((res, cb) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => cb(null, text));
    });
    expect(exported.status).toBe(200);
    expect(String(exported.body).trimEnd().split('\n')).toEqual(['{"type":"export_end","count":0}']);
    const verified = await request(app).get(`/admin/v1/audit/verify?${range}`).set('Authorization', `Bearer ${adminKey}`);
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ ok: true, checked: 0 });
  });
});
