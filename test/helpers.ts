import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { fileURLToPath } from 'node:url';
import { loadCaBundle, type CaBundle, type MtlsError } from '../src/index.js';

/** Where global-setup put the OpenSSL-made fixtures. */
export const FIXTURES = fileURLToPath(new URL('../.tmp/fixtures/', import.meta.url));
export const PASS = 'correct horse';
export const fixture = (name: string): string => `${FIXTURES}${name}`;
export const readFixture = (name: string): Buffer => readFileSync(fixture(name));
/** The test CA (it issued the test servers' certificates and the client certificates' intermediate). */
export const testCa = (): CaBundle => loadCaBundle({ file: fixture('ca.crt') });

/** The error `run` throws or rejects with (the test fails when it returns). */
export async function caught(run: () => unknown): Promise<MtlsError> {
  try {
    await run();
  } catch (err) {
    return err as MtlsError;
  }
  throw new Error('expected an error');
}

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

/**
 * `count` self-signed EC P-256 client certificates with their keys, made by the OpenSSL CLI (four
 * at a time): distinct renewals for rotation tests and benchmarks.
 */
export async function opensslPairs(dir: string, count: number): Promise<Array<{ cert: Buffer; key: Buffer }>> {
  mkdirSync(dir, { recursive: true });
  const run = promisify(execFile);
  const one = async (i: number) => {
    const [cert, key] = [join(dir, `renewal-${i}.crt`), join(dir, `renewal-${i}.key`)];
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=renewal-${i}`, '-days', '2']);
    return { cert: readFileSync(cert), key: readFileSync(key) };
  };
  const pairs: Array<{ cert: Buffer; key: Buffer }> = [];
  for (let i = 0; i < count; i += 4) pairs.push(...(await Promise.all(Array.from({ length: Math.min(4, count - i) }, (_, j) => one(i + j)))));
  return pairs;
}

/**
 * A directory laid out as the kubelet mounts a Kubernetes secret (`name -> ..data/name`,
 * `..data -> ..<timestamp>`), and `update`, which swaps it the way the kubelet's atomic writer
 * does: a new timestamped directory, `..data_tmp` pointing at it renamed over `..data`, the old
 * directory removed.
 */
export function secretMount(dir: string, files: Record<string, string | Buffer>): { update: (files: Record<string, string | Buffer>) => void } {
  let generation = 0;
  let current = '';
  const write = (content: Record<string, string | Buffer>) => {
    const next = `..2026_11_23_${String(++generation).padStart(4, '0')}`;
    mkdirSync(join(dir, next), { recursive: true });
    for (const [name, data] of Object.entries(content)) writeFileSync(join(dir, next, name), data);
    symlinkSync(next, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (current !== '') rmSync(join(dir, current), { recursive: true });
    current = next;
  };
  write(files);
  for (const name of Object.keys(files)) symlinkSync(`..data/${name}`, join(dir, name));
  return { update: write };
}

/**
 * `count` distinct client certificates for one shared EC P-256 key (or one key each, with
 * `distinctKeys`: `keys[i]` is tenant i's), issued by a tenant CA made here: forge builds each certificate (its public key spliced in as DER: forge only knows RSA
 * keys), node:crypto signs it (forge's RSA signing in JavaScript would take seconds per
 * hundred). Thousands of tenants in a few seconds.
 */
export function tenantCertificates(count: number, options: { distinctKeys?: boolean } = {}): { key: string; keys: string[]; certs: string[]; ca: string } {
  const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const tenant = newKey();
  const issuer = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const tbsOf = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate; // not in @types
  const spkiOf = (der: Buffer) => forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const tenantSpki = spkiOf(tenant.publicKey);
  const now = Date.now();
  const make = (serial: number, subject: string, ca: boolean, spki = tenantSpki): string => {
    const cert = forge.pki.createCertificate();
    cert.serialNumber = serial.toString(16).padStart(2, '0');
    cert.validity.notBefore = new Date(now - 86_400_000);
    cert.validity.notAfter = new Date(now + 30 * 86_400_000);
    cert.publicKey = forge.pki.publicKeyFromPem(issuer.publicKey);
    cert.setSubject([{ name: 'commonName', value: subject }]);
    cert.setIssuer([{ name: 'commonName', value: 'Tenant CA' }]);
    cert.setExtensions([{ name: 'basicConstraints', cA: ca }]);
    cert.siginfo.algorithmOid = cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption!;
    const tbs = tbsOf(cert);
    if (!ca) (tbs.value as forge.asn1.Asn1[])[6] = spki; // version, serial, algorithm, issuer, validity, subject, key
    (cert as unknown as { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
    cert.signature = sign('sha256', Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary'), issuer.privateKey).toString('binary');
    return forge.pki.certificateToPem(cert);
  };
  const ca = make(1, 'Tenant CA', true);
  const pairs = Array.from({ length: count }, () => (options.distinctKeys === true ? newKey() : tenant));
  return { key: tenant.privateKey, keys: pairs.map((p) => p.privateKey), ca, certs: pairs.map((p, i) => make(i + 2, `tenant-${i}`, false, p === tenant ? tenantSpki : spkiOf(p.publicKey))) };
}
