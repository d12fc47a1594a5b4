import { createHash, timingSafeEqual } from 'node:crypto';

export interface Reviewer {
  name: string;
  secret: string;
}

/** Who a reviewer credential belongs to: the name is the audit actor's id (`{type: 'reviewer', id: name}`). */
export interface ReviewerIdentity {
  name: string;
}

export type ReviewerCheck = (name: string, secret: string) => ReviewerIdentity | undefined;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Checks an `AUDIT_REVIEWERS` credential (DESIGN A11), for the audit routes' HTTP Basic and the
 * console's sign-in alike. Name and secret are hashed first, so every comparison has the same length,
 * and every reviewer is compared on both parts with no early exit: the time taken says neither which
 * names exist nor which part was wrong, and the answer (undefined) does not either.
 */
export function createReviewerCheck(list: readonly Reviewer[]): ReviewerCheck {
  const expected = list.map((r) => ({ name: r.name, nameDigest: sha256(r.name), secretDigest: sha256(r.secret) }));
  return (name, secret) => {
    const nameDigest = sha256(name);
    const secretDigest = sha256(secret);
    let match: ReviewerIdentity | undefined;
    for (const e of expected) {
      // Both compared every time (`&` not `&&`), so a right name with a wrong secret takes as long as neither.
      const same = Number(timingSafeEqual(nameDigest, e.nameDigest)) & Number(timingSafeEqual(secretDigest, e.secretDigest));
      if (same === 1 && match === undefined) match = { name: e.name };
    }
    return match;
  };
}
