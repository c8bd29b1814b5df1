import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where global-setup put the OpenSSL-made fixtures. */
export const FIXTURES = fileURLToPath(new URL('../.tmp/fixtures/', import.meta.url));
export const PASS = 'correct horse';
export const fixture = (name: string): string => `${FIXTURES}${name}`;
export const readFixture = (name: string): Buffer => readFileSync(fixture(name));

/** What `openssl x509` prints for a certificate file, as the loader's fields. */
export function opensslX509(file: string): Record<string, string> {
  const out = execFileSync(
    'openssl',
    ['x509', '-in', file, '-noout', '-subject', '-issuer', '-serial', '-fingerprint', '-sha256', '-startdate', '-enddate', '-ext', 'subjectAltName', '-nameopt', 'sep_comma_plus,sname,esc_2253,utf8'],
    { encoding: 'utf8' },
  );
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(out)?.[1] ?? '';
  const san = /Subject Alternative Name: *\n\s+(.*)/.exec(out)?.[1] ?? '';
  return {
    subject: field('subject'),
    issuer: field('issuer'),
    serial: field('serial'),
    fingerprint: field('sha256 Fingerprint'),
    notBefore: new Date(field('notBefore')).toISOString(),
    notAfter: new Date(field('notAfter')).toISOString(),
    san,
  };
}
