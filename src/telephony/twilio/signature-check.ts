import { createHmac, timingSafeEqual } from 'node:crypto';
import { parse, stringify } from 'node:querystring';

/**
 * The same verdict as `twilio.validateRequest` (twilio-node 6), at a third of the cost for a
 * forged request. The SDK accepts a signature made over any of six spellings of the URL (with and
 * without the default port, as received and WHATWG-normalised, with the legacy query-string
 * encoding) and computes one HMAC per spelling, sorting and joining the parameters each time. For
 * our URLs most spellings are the same string, so a forged webhook paid six HMACs for two distinct
 * URLs (bench: 26 µs of a 30 µs budget). Here the parameters are joined once and each distinct
 * spelling is tried once. The spellings below mirror node_modules/twilio/lib/webhooks/webhooks.js
 * (splitUrl, addPort, removePort, withLegacyQuerystring): check them again when upgrading twilio.
 */
export function validTwilioSignature(authToken: string, signature: string | undefined, url: string, params: Record<string, unknown>): boolean {
  const received = Buffer.from(signature ?? '');
  const joined = joinParams(params);
  const tried = new Set<string>();
  const matches = (candidate: string): boolean => {
    if (tried.has(candidate)) return false;
    tried.add(candidate);
    const expected = Buffer.from(createHmac('sha1', authToken).update(Buffer.from(candidate + joined, 'utf-8')).digest('base64'));
    return expected.length === received.length && timingSafeEqual(expected, received);
  };
  // As received first: what Twilio signs for the URLs we hand it.
  if (matches(removePort(url)) || matches(addPort(url))) return true;
  const normalized = new URL(url).toString();
  const without = removePort(normalized);
  const withPort = addPort(normalized);
  return matches(without) || matches(withPort) || matches(withLegacyQuerystring(without)) || matches(withLegacyQuerystring(withPort));
}

/** Sorted `name + value` pairs; a repeated field contributes each distinct value, sorted (as the SDK does). */
function joinParams(params: Record<string, unknown>): string {
  let data = '';
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (Array.isArray(value)) for (const v of Array.from(new Set(value)).sort()) data += key + String(v);
    else data += key + String(value);
  }
  return data;
}

function splitUrl(url: string) {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function addPort(url: string): string {
  const p = splitUrl(url);
  if (!p || p.port) return url;
  return p.scheme + p.userInfo + p.host + (p.scheme.toLowerCase() === 'https://' ? ':443' : ':80') + p.rest;
}

function removePort(url: string): string {
  const p = splitUrl(url);
  return p ? p.scheme + p.userInfo + p.host + p.rest : url;
}

function withLegacyQuerystring(url: string): string {
  const q = url.indexOf('?');
  if (q === -1 || q === url.length - 1) return url;
  return url.slice(0, q) + '?' + stringify(parse(url.slice(q + 1)));
}
