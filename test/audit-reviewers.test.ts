import { describe, expect, it } from 'vitest';
import { createReviewerCheck } from '../src/audit/reviewers.js';

describe('reviewer credentials (AUDIT_REVIEWERS)', () => {
  const check = createReviewerCheck([
    { name: 'alice', secret: 'alice-secret-0123456789' },
    { name: 'bob', secret: 'bob-secret-0123456789' },
  ]);

  it('when a reviewer gives their own name and secret, then they are that reviewer', () => {
    expect(check('alice', 'alice-secret-0123456789')).toEqual({ name: 'alice' });
    expect(check('bob', 'bob-secret-0123456789')).toEqual({ name: 'bob' });
  });

  it.each([
    ['a wrong secret', 'alice', 'alice-secret-012345678X'],
    ['another reviewer’s secret', 'alice', 'bob-secret-0123456789'],
    ['an unknown name', 'carol', 'alice-secret-0123456789'],
    ['a name with its secret swapped', 'alice-secret-0123456789', 'alice'],
    ['empty parts', '', ''],
  ])('when given %s, then nobody, with nothing saying which part was wrong', (_what, name, secret) => {
    expect(check(name, secret)).toBeUndefined();
  });

  it('when no reviewer is configured, then nobody signs in', () => {
    expect(createReviewerCheck([])('alice', 'alice-secret-0123456789')).toBeUndefined();
  });
});
