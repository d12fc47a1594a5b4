import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisServerTls } from '../../scripts/lib/redis-server.js';

/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1 and localhost, made by
 * the openssl CLI (node:crypto makes keys but no X.509 certificates). For servers the tests start.
 */
export function makeTestCertificates(): RedisServerTls & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vl-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=vaultline-test-ca');
  openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.crt'), '-days', '2', '-extfile', file('ext.cnf'));
  return { dir, certFile: file('server.crt'), keyFile: file('server.key'), caFile: file('ca.crt'), ca: readFileSync(file('ca.crt'), 'utf8') };
}
