import type { Express } from 'express';
import request from 'supertest';

/** Reviewers of the console tests (AUDIT_REVIEWERS): secrets of 16+ characters. */
export const REVIEWERS = { alice: 'alice-secret-0123456789', bob: 'bob-secret-0123456789ab' } as const;
export const AUDIT_REVIEWERS = Object.entries(REVIEWERS)
  .map(([name, secret]) => `${name}:${secret}`)
  .join(',');

/** `name=value` of every Set-Cookie of a response, by name ('' for a cleared one). */
export function setCookies(res: request.Response): Map<string, { value: string; attributes: string[]; raw: string }> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  const out = new Map<string, { value: string; attributes: string[]; raw: string }>();
  for (const line of raw ?? []) {
    const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
    const i = pair.indexOf('=');
    out.set(pair.slice(0, i), { value: pair.slice(i + 1), attributes, raw: line });
  }
  return out;
}

/**
 * A reviewer's browser as the console sees it over HTTP: its cookies (kept by hand, since
 * supertest's jar would not send Secure cookies over plain HTTP), its CSRF token and its address
 * (X-Forwarded-For, the app trusting one proxy).
 */
export function reviewerBrowser(app: Express, address = '203.0.113.10') {
  const cookies = new Map<string, string>();
  let csrf = '';
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res: request.Response) => {
    for (const [name, c] of setCookies(res)) {
      if (c.value === '' || c.attributes.some((a) => /^Expires=Thu, 01 Jan 1970/i.test(a))) cookies.delete(name);
      else cookies.set(name, c.value);
    }
    return res;
  };
  const withHeaders = (r: request.Test, headers: Record<string, string> = {}) => r.set('X-Forwarded-For', address).set('Cookie', cookieHeader()).set(headers);

  return {
    cookies,
    get csrf() {
      return csrf;
    },
    set csrf(value: string) {
      csrf = value;
    },
    async get(path: string, headers: Record<string, string> = {}) {
      return keep(await withHeaders(request(app).get(path), headers));
    },
    /** A GET of the console's API, with the session's CSRF token. */
    async api(path: string) {
      return keep(await withHeaders(request(app).get(path), { 'X-CSRF-Token': csrf }));
    },
    async post(path: string, body: object | string, headers: Record<string, string> = {}) {
      const r = withHeaders(request(app).post(path), headers);
      return keep(await (typeof body === 'string' ? r.type('form').send(body) : r.send(body)));
    },
    /** The sign-in page's steps: its token, then the form. */
    async signIn(name: string, secret: string) {
      const token = await this.get('/console/api/sign-in-token');
      const res = await this.post('/console/api/sign-in', { name, secret }, { 'X-CSRF-Token': (token.body as { csrf: string }).csrf });
      if (res.status === 200) csrf = (res.body as { csrf: string }).csrf;
      return res;
    },
    async signOut() {
      return this.post('/console/api/sign-out', {}, { 'X-CSRF-Token': csrf });
    },
  };
}

export type ReviewerBrowser = ReturnType<typeof reviewerBrowser>;
