import type { Request } from 'express';
import type { Actor } from './events.js';

/** The two fields an event caused by an HTTP actor carries. */
export interface HttpActorFields {
  actor: Actor;
  sourceIp: string;
}

/**
 * `actor` and `sourceIp` of an event an HTTP caller other than Twilio caused (A9; PCI DSS 10.2.1,
 * 10.2.2: who and from where). The address is Express's `req.ip`, which follows TRUST_PROXY.
 */
export function httpActor(req: Request, actor: Actor): HttpActorFields {
  return { actor, sourceIp: sourceIpOf(req) };
}

/** The client address, an IPv4-mapped IPv6 address written as IPv4. */
export function sourceIpOf(req: Request): string {
  const ip = req.ip ?? req.socket.remoteAddress ?? '';
  const v4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  // No address at all (a socket already gone) is recorded as the unspecified address, never left out.
  return v4?.[1] ?? (ip || '0.0.0.0');
}
