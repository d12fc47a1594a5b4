import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cryptoRandom, manualClock } from '../src/shared/clock.js';
import { createSealer } from '../src/shared/seal.js';
import { createKeys } from '../src/store/keys.js';
import type { Store } from '../src/store/client.js';
import { createDidCodec } from '../src/verification/did.js';
import { createSessions, type Sessions } from '../src/verification/sessions.js';
import { freshPrefix } from './support/prefix.js';
import { STORE_KINDS, allKeys, openStore } from './support/store.js';

describe.each(STORE_KINDS)('verification sessions on the %s store', (kind) => {
  let store: Store;
  let sessions: Sessions;
  let clock: ReturnType<typeof manualClock>;
  let prefix: string;
  const call = { provider: 'twilio', callId: 'CA' + 'a'.repeat(32), channel: 'twilio' };

  beforeAll(async () => {
    store = await openStore(kind);
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(() => {
    clock = manualClock();
    prefix = freshPrefix('ses');
    const did = createDidCodec({ secret: Buffer.alloc(32, 7), length: 6, random: cryptoRandom });
    sessions = createSessions({ redis: store.redis, keys: createKeys(prefix), clock, random: cryptoRandom, did, tokenSealer: createSealer(Buffer.alloc(32, 8), 'call-token'), didTtlSeconds: 90 });
  });

  it('when a session is opened twice for one call, then the second returns the same session and DID', async () => {
    const a = await sessions.open(call);
    const b = await sessions.open(call);
    expect(a.kind).toBe('created');
    expect(b.kind).toBe('existing');
    if (a.kind !== 'created' || b.kind !== 'existing') return;
    expect(b.session.sessionId).toBe(a.session.sessionId);
    expect(b.did).toBe(a.did);
    expect(a.did).toMatch(/^\d{6}$/);
  });

  it('when a DID is looked up, then its holder names the session and its call', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    expect(await sessions.findDid(opened.did)).toMatchObject({ sessionId: opened.session.sessionId, callId: call.callId });
    expect(await sessions.findDid(opened.did === '000000' ? '111111' : '000000')).toMatchObject({ sessionId: null, callId: null });
  });

  it('when a DID claim was written by the version before call ids rode along, then it still confirms and is spent', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    const [didKey] = await allKeys(store, `${prefix}did:*`);
    if (!didKey) throw new Error('no DID claim');
    await store.redis.set(didKey, opened.session.sessionId, 'KEEPTTL');
    expect(await sessions.findDid(opened.did)).toMatchObject({ sessionId: opened.session.sessionId, callId: null });
    expect((await sessions.confirmByDid(opened.did, { customerId: 'cust_001', deviceId: 'dev_1' })).kind).toBe('confirmed');
    await expect.poll(() => allKeys(store, `${prefix}did:*`)).toHaveLength(0);
  });

  it('when 20 opens race for one call, then exactly one session and one DID exist', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => sessions.open(call)));
    const ids = new Set(results.map((r) => ('session' in r ? r.session.sessionId : 'none')));
    const dids = new Set(results.map((r) => ('did' in r ? r.did : 'none')));
    expect(ids.size).toBe(1);
    expect(dids.size).toBe(1);
    expect(results.filter((r) => r.kind === 'created')).toHaveLength(1);
    const keys = await allKeys(store, `${prefix}did:*`);
    expect(keys).toHaveLength(1);
  });

  it('when the DID is confirmed, then the session is confirmed once and the code is spent', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    const who = { customerId: 'cust_001', deviceId: 'dev_1' };
    const results = await Promise.all(Array.from({ length: 20 }, () => sessions.confirmByDid(opened.did, who)));
    expect(results.filter((r) => r.kind === 'confirmed')).toHaveLength(1);
    expect((await sessions.get(opened.session.sessionId))?.status).toBe('confirmed');
    expect((await sessions.confirmByDid(opened.did, who)).kind).toBe('not_recognized');
    expect(await sessions.verifiedCustomer(call.callId)).toEqual({ customerId: 'cust_001', sessionId: opened.session.sessionId });
  });

  it('when the DID lifetime passes, then the session is expired and its code is not recognized', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    clock.advance(90_000);
    expect((await sessions.confirmByDid(opened.did, { customerId: 'c', deviceId: 'd' })).kind).toBe('not_recognized');
    expect((await sessions.get(opened.session.sessionId))?.status).toBe('expired');
  });

  it('when an expired session is reissued, then a new session and DID come at most maxReissues times', async () => {
    const first = await sessions.open(call);
    if (first.kind !== 'created') throw new Error('expected created');
    expect((await sessions.reissue(call, 1)).kind).toBe('existing');
    clock.advance(91_000);
    const second = await sessions.reissue(call, 1);
    expect(second.kind).toBe('created');
    if (second.kind !== 'created') return;
    expect(second.session.sessionId).not.toBe(first.session.sessionId);
    expect((await sessions.get(first.session.sessionId))?.status).toBe('expired');
    clock.advance(91_000);
    expect((await sessions.reissue(call, 1)).kind).toBe('limit');
  });

  it('when a session is canceled, then it stays canceled and a confirmation is refused', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    expect(await sessions.cancel(opened.session.sessionId)).toBe('canceled');
    expect((await sessions.confirmByDid(opened.did, { customerId: 'c', deviceId: 'd' })).kind).toBe('not_recognized');
    expect(await sessions.cancel(opened.session.sessionId)).toBe('canceled');
  });

  it('when a confirmed session is canceled, then it stays confirmed (terminal states never change)', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    await sessions.confirmByDid(opened.did, { customerId: 'c', deviceId: 'd' });
    expect(await sessions.cancel(opened.session.sessionId)).toBe('confirmed');
    await sessions.endCall(call.callId, 'twilio');
    expect((await sessions.get(opened.session.sessionId))?.status).toBe('confirmed');
    expect(await sessions.verifiedCustomer(call.callId)).toBeNull();
  });

  it('when the call ends, then its pending session is call_ended, the code is refused and no session can open', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    expect((await sessions.endCall(call.callId, 'twilio')).firstTime).toBe(true);
    expect((await sessions.endCall(call.callId, 'twilio')).firstTime).toBe(false);
    expect((await sessions.get(opened.session.sessionId))?.status).toBe('call_ended');
    expect((await sessions.confirmByDid(opened.did, { customerId: 'c', deviceId: 'd' })).kind).toBe('not_recognized');
    expect((await sessions.open(call)).kind).toBe('ended');
  });

  it('when the DID store is read, then it holds neither the DID nor anything that reveals it in clear', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    const dump: string[] = [];
    for (const key of await allKeys(store, `${prefix}*`)) {
      dump.push(key);
      const type = await store.redis.type(key);
      if (type === 'hash') dump.push(...Object.values(await store.redis.hgetall(key)));
      if (type === 'string') dump.push((await store.redis.get(key)) ?? '');
    }
    expect(dump.join('|')).not.toContain(opened.did);
  });

  it('when a call token is kept on a confirmed session, then it comes back whole but is stored sealed', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjdXN0In0.c2lnbmF0dXJl';
    await sessions.storeToken(opened.session.sessionId, token);
    expect(await sessions.tokenOf(opened.session.sessionId)).toBe(token);
    const raw = await store.redis.hgetall(`${prefix}c:{${opened.session.sessionId.slice(4, 26)}}:ses:${opened.session.sessionId}`);
    expect(Object.keys(raw)).toContain('tokenSealed');
    expect(JSON.stringify(raw)).not.toContain(token);
  });

  it('when a session id is unknown or malformed, then get finds nothing', async () => {
    expect(await sessions.get('ses_nope')).toBeNull();
    expect(await sessions.get('ses_' + 'A'.repeat(22) + '_x')).toBeNull();
  });
});
