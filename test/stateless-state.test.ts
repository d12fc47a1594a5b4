import { describe, expect, it } from 'vitest';
import type { CallState } from '../src/engine/types.js';
import { createStatelessState } from '../src/ivr/stateless-state.js';
import { manualClock } from '../src/shared/clock.js';
import { createSealer } from '../src/shared/seal.js';
import { ttl } from '../src/store/keys.js';

/** DESIGN A10 / decision 0018: the state a degraded call carries in its URLs, as a case table. */
const secret = Buffer.from('a data secret of at least thirty-two characters');
const clock = manualClock();
const codec = createStatelessState({ sealer: createSealer(secret, 'degraded-state'), clock });
const CALL = 'CA00000000000000000000000000000001';
const verifiedAtMenu: CallState = {
  flowId: 'main',
  node: 'main-menu',
  locale: 'es-US',
  turn: 4,
  attempts: 1,
  verified: true,
  verify: { sessionId: 'ses_abcdefgh', reissues: 0, loops: 2 },
  accountIndex: 2,
};

describe('the sealed stateless state', () => {
  it('when sealed and opened on the same call, route and turn, then it gives back where the call was — always unverified, with no session or account', () => {
    const sealed = codec.seal(CALL, '/step', verifiedAtMenu);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('main-menu');
    expect(codec.open(CALL, '/step', 4, sealed)).toEqual({ flowId: 'main', node: 'main-menu', locale: 'es-US', turn: 4, attempts: 1, verified: false });
  });

  it.each([
    ['another call', 'CA00000000000000000000000000000002', '/step', 4],
    ['another route', CALL, '/resume', 4],
    ['another turn', CALL, '/step', 5],
  ])('when opened on %s, then it does not open', (_what, callId, route, turn) => {
    expect(codec.open(callId, route, turn, codec.seal(CALL, '/step', verifiedAtMenu))).toBeUndefined();
  });

  it('when sealed under another DATA_SECRET, truncated or not base64url, then it does not open', () => {
    const other = createStatelessState({ sealer: createSealer(Buffer.from('another data secret, also long enough to use'), 'degraded-state'), clock });
    const sealed = codec.seal(CALL, '/step', verifiedAtMenu);
    expect(codec.open(CALL, '/step', 4, other.seal(CALL, '/step', verifiedAtMenu))).toBeUndefined();
    expect(codec.open(CALL, '/step', 4, sealed.slice(0, -4))).toBeUndefined();
    expect(codec.open(CALL, '/step', 4, `${sealed}!`)).toBeUndefined();
  });

  it('when older than a call can last, then it does not open', () => {
    const sealed = codec.seal(CALL, '/step', verifiedAtMenu);
    clock.advance(ttl.callMs);
    expect(codec.open(CALL, '/step', 4, sealed)).toBeDefined();
    clock.advance(1);
    expect(codec.open(CALL, '/step', 4, sealed)).toBeUndefined();
  });
});
