import { randomUUID } from 'node:crypto';

/** A key prefix no other test uses, so tests share one Redis without touching each other's keys. */
export function freshPrefix(label = 't'): string {
  return `test:${label}:${randomUUID().slice(0, 8)}:`;
}
