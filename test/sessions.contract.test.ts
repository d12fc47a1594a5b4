import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cryptoRandom } from '../src/shared/clock.js';
import { createSealer } from '../src/shared/seal.js';
import { createKeys, ttl } from '../src/store/keys.js';
import type { Store } from '../src/store/client.js';
import { createDidCodec } from '../src/verification/did.js';
import { createSessions, type Sessions } from '../src/verification/sessions.js';
import { beginSlotMove, ownerOf } from './support/cluster-reshard.js';
import { freshPrefix } from './support/prefix.js';
import { STORE_KINDS, allKeys, openStore } from './support/store.js';
import { startRedisWithMovableClock, type ClockedRedis } from './support/store-clock.js';
import { createStore } from '../src/store/client.js';

describe.each(STORE_KINDS)('verification sessions on the %s store', (kind) => {
  let store: Store;
  let sessions: Sessions;
  let prefix: string;
  const call = { provider: 'twilio', callId: 'CA' + 'a'.repeat(32), channel: 'twilio' };

  beforeAll(async () => {
    store = await openStore(kind);
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(() => {
    prefix = freshPrefix('ses');
    sessions = makeSessions(store, prefix);
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
    // Spent: it matches no live session again. Its claim stays taken (not handed to another
    // session) while the device's double-submit marker lives.
    expect((await sessions.confirmByDid(opened.did, { customerId: 'cust_002', deviceId: 'dev_2' })).kind).toBe('not_recognized');
    await expect.poll(() => store.redis.pttl(didKey)).toBeGreaterThan(ttl.codeConfirmedMs - 60_000);
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
    await sessions.storeToken(opened.session.sessionId, token, 'jti-1');
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

/**
 * DESIGN B6: a Cluster moves slots while calls run. The keys of one call share a hash tag, so they
 * sit in one slot and move together (one MIGRATE); between a use case's scripts ioredis follows the
 * ASK of a slot being migrated and the MOVED after it, and every script finds all its keys on one
 * node. (While a slot is migrating, Redis answers TRYAGAIN to a script that would create a key of
 * it beside existing ones — an open, a confirmation — until the move ends; ioredis retries it every
 * 100 ms within the command's budget, so a reshard moves a call's slot at once, as redis-cli does.)
 */
describe("a call's slot resharded on the Redis Cluster between a use case's scripts", () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore('cluster');
  });
  afterAll(async () => {
    await store.close();
  });

  it('when the slot moves twice (MIGRATING, all its keys in one MIGRATE, then NODE) between open, confirm, token and end of call, under other calls\' writes, then each step works on the node that holds the keys', async () => {
    const { redis } = store;
    if (!(redis instanceof Cluster)) throw new Error('expected a Cluster client');
    const prefix = freshPrefix('reshard');
    const keys = createKeys(prefix);
    const sessions = makeSessions(store, prefix);
    const call = { provider: 'twilio', callId: `CA${cryptoRandom.bytes(16).toString('hex')}`, channel: 'twilio' };
    const who = { customerId: 'cust_001', deviceId: 'dev_1' };
    const slotOfCall = calculateSlot(keys.call(call.callId));
    // Other calls' writes at the same moment, in other slots (some on the same nodes): a redirect
    // must be followed for a command sent beside others that succeeded.
    const others = Array.from({ length: 80 }, (_, i) => `CA${String(i).padStart(32, '0')}`).filter((id) => calculateSlot(keys.call(id)) !== slotOfCall);
    let next = 0;
    const otherCalls = () => Promise.all(Array.from({ length: 12 }, () => sessions.open({ ...call, callId: others[next++ % others.length] as string })));
    const keysOn = async (port: number, slot: number) => Number(await redis.nodes('master').find((n) => n.options.port === port)?.call('CLUSTER', 'COUNTKEYSINSLOT', slot));

    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    const { sessionId } = opened.session;
    expect(calculateSlot(keys.session(sessionId))).toBe(slotOfCall);

    // First move, between the open and the confirmation.
    const first = await beginSlotMove(redis, keys.call(call.callId));
    expect(first.slot).toBe(slotOfCall);
    // MIGRATING, keys still on the owner: it serves them.
    const [pending] = await Promise.all([sessions.get(sessionId), otherCalls()]);
    expect(pending?.status).toBe('pending');
    // All the slot's keys in one MIGRATE: the owner answers ASK for them, the client follows it.
    expect(await first.migrateKeys()).toBeGreaterThanOrEqual(2);
    expect(await keysOn(first.from, slotOfCall)).toBe(0);
    const [stillPending, notYet] = await Promise.all([sessions.get(sessionId), sessions.verifiedCustomer(call.callId), otherCalls()]);
    expect(stillPending?.status).toBe('pending');
    expect(notYet).toBeNull();
    await first.finish();
    expect(await ownerOf(redis, slotOfCall)).toBe(first.to);
    // The old owner answers MOVED: the confirmation (three keys of the slot) runs on the new one.
    const [confirmed] = await Promise.all([sessions.confirmByDid(opened.did, who), otherCalls()]);
    expect(confirmed.kind).toBe('confirmed');

    // Second move, between the confirmation and the end of the call.
    const second = await beginSlotMove(redis, keys.call(call.callId));
    expect(second.from).toBe(first.to);
    const [verified] = await Promise.all([sessions.verifiedCustomer(call.callId), otherCalls()]);
    expect(verified).toEqual({ customerId: who.customerId, sessionId });
    expect(await second.migrateKeys()).toBeGreaterThanOrEqual(2);
    // ASK for a script over two keys of the call (the session and the call), both moved together.
    await Promise.all([sessions.storeToken(sessionId, 'token-of-the-call', 'jti-1'), otherCalls()]);
    const [token, verifiedThere] = await Promise.all([sessions.tokenOf(sessionId), sessions.verification(call.callId), otherCalls()]);
    expect(token).toBe('token-of-the-call');
    expect(verifiedThere).toMatchObject({ verified: { customerId: who.customerId, sessionId }, tokenJti: 'jti-1', ended: false });
    await second.finish();
    expect(await ownerOf(redis, slotOfCall)).toBe(second.to);
    const [ended] = await Promise.all([sessions.endCall(call.callId, call.provider), otherCalls()]);
    expect(ended.firstTime).toBe(true);
    expect((await sessions.get(sessionId))?.status).toBe('confirmed');
    expect(await sessions.verifiedCustomer(call.callId)).toBeNull();
    expect((await sessions.open(call)).kind).toBe('ended');

    // The call's keys live where its slot now is; none were left behind.
    expect(await keysOn(second.from, slotOfCall)).toBe(0);
    expect(await keysOn(second.to, slotOfCall)).toBeGreaterThanOrEqual(2);
  });
});

function makeSessions(store: Store, prefix = freshPrefix('ses')): Sessions {
  const did = createDidCodec({ secret: Buffer.alloc(32, 7), length: 6, random: cryptoRandom });
  return createSessions({ redis: store.redis, keys: createKeys(prefix), random: cryptoRandom, did, tokenSealer: createSealer(Buffer.alloc(32, 8), 'call-token'), didTtlSeconds: 90 });
}

/**
 * A session's life is the store's clock (DESIGN B2): these move the store's clock, never the
 * app's. Real Redis runs under libfaketime; the embedded store lives in this process, so its clock
 * is this process's Date. (The Cluster's nodes are not moved: a jump of their wall clocks would
 * also trip the cluster's failure detection; the scripts are the same on every kind.)
 */
describe.each(['redis', 'embedded'] as const)("a session's life by the %s store's clock", (kind) => {
  let store: Store;
  let server: ClockedRedis | undefined;
  let sessions: Sessions;
  let storeClock: { advance(ms: number): void };
  const call = { provider: 'twilio', callId: 'CA' + 'b'.repeat(32), channel: 'twilio' };

  beforeAll(async () => {
    if (kind === 'redis') {
      server = await startRedisWithMovableClock();
      store = await createStore({ kind: 'redis', url: server.url });
      storeClock = server;
    } else {
      store = await createStore({ kind: 'embedded' });
      storeClock = { advance: (ms) => vi.setSystemTime(Date.now() + ms) };
    }
  });
  afterAll(async () => {
    await store.close();
    await server?.stop();
  });
  beforeEach(() => {
    if (kind === 'embedded') vi.useFakeTimers({ toFake: ['Date'] });
    sessions = makeSessions(store);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('when the DID lifetime passes, then the session is expired and its code is not recognized', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    storeClock.advance(90_000);
    expect((await sessions.confirmByDid(opened.did, { customerId: 'c', deviceId: 'd' })).kind).toBe('not_recognized');
    expect((await sessions.get(opened.session.sessionId))?.status).toBe('expired');
  });

  it('when an expired session is reissued, then a new session and DID come at most maxReissues times', async () => {
    const first = await sessions.open(call);
    if (first.kind !== 'created') throw new Error('expected created');
    expect((await sessions.reissue(call, 1)).kind).toBe('existing');
    storeClock.advance(91_000);
    const second = await sessions.reissue(call, 1);
    expect(second.kind).toBe('created');
    if (second.kind !== 'created') return;
    expect(second.session.sessionId).not.toBe(first.session.sessionId);
    expect((await sessions.get(first.session.sessionId))?.status).toBe('expired');
    storeClock.advance(91_000);
    expect((await sessions.reissue(call, 1)).kind).toBe('limit');
  });

  it('when a session is read, then what is left of it is told by the store, and it is none once the store says it expired', async () => {
    const opened = await sessions.open(call);
    if (opened.kind !== 'created') throw new Error('expected created');
    expect(opened.session.remainingMs).toBeGreaterThan(85_000);
    expect(opened.session.remainingMs).toBeLessThanOrEqual(90_000);
    storeClock.advance(60_000);
    const later = await sessions.get(opened.session.sessionId);
    expect(later?.remainingMs).toBeLessThanOrEqual(31_000);
    storeClock.advance(31_000);
    expect(await sessions.repeatDid(opened.session.sessionId)).toBeNull();
    expect(await sessions.get(opened.session.sessionId)).toMatchObject({ status: 'expired', remainingMs: 0 });
  });
});
