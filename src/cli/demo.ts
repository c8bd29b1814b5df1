// `mtls-resolver demo`: everything made in memory — a CA, a server certificate, client
// certificates (exact host, wildcard, port-specific as PFX, expired) — two mTLS servers on
// 127.0.0.1, and for several URLs: the certificate the resolver chose, and the one the server got.
import { generateKeyPairSync } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createFetch } from '../adapter/undici/index.js';
import { loadCaBundle } from '../loader/ca.js';
import { issueCertificate, makePfx } from './issue.js';
import { loadCertificate } from '../loader/load.js';
import { CertificateStore } from '../store/store.js';
import { styleFor, table } from './output.js';

const DAY = 86_400_000;

function rsaKey(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** Every demo host name goes to 127.0.0.1: the demo needs no DNS and sends nothing elsewhere. */
const lookup: LookupFunction = (_host, options, callback) => {
  const cb = callback as (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;
  if ((options as { all?: boolean }).all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

export interface DemoRow {
  url: string;
  chosen: string;
  why: string;
  received: string;
  agree: boolean;
}

/** Runs the demo; returns its rows (the CLI prints them). */
export async function runDemo(): Promise<DemoRow[]> {
  const now = Date.now();
  const ca = rsaKey();
  const caPem = issueCertificate({ commonName: 'Demo Root CA', publicKeyPem: ca.publicKeyPem, issuerKeyPem: ca.privateKeyPem, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY), isCA: true });
  const issue = (commonName: string, extra: Partial<Parameters<typeof issueCertificate>[0]> = {}) => {
    const key = rsaKey();
    const cert = issueCertificate({
      commonName,
      publicKeyPem: key.publicKeyPem,
      issuerKeyPem: ca.privateKeyPem,
      issuerCertPem: caPem,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 90 * DAY),
      extendedKeyUsage: 'clientAuth',
      ...extra,
    });
    return { cert, key: key.privateKeyPem };
  };
  const server = issue('demo server', { subjectAltNames: ['DNS:*.demo.test', 'DNS:localhost', 'IP:127.0.0.1'], extendedKeyUsage: 'serverAuth' });
  const api = issue('api client');
  const wildcard = issue('wildcard client');
  const admin = issue('admin client (PFX)');
  const expired = issue('expired client', { notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - 30 * DAY) });

  const store = new CertificateStore();
  store.add({ host: 'api.demo.test', port: '*', name: 'api (exact host, any port)', certificate: await loadCertificate({ cert: api.cert, key: api.key }) });
  store.add({ host: '*.demo.test', port: '*', name: 'wildcard *.demo.test', certificate: await loadCertificate({ cert: wildcard.cert, key: wildcard.key }) });
  store.add({ host: 'legacy.demo.test', port: '*', name: 'legacy (expired)', certificate: await loadCertificate({ cert: expired.cert, key: expired.key }) });

  // Two mTLS servers that answer with the fingerprint of the client certificate they received.
  const servers: Array<Server | HttpServer> = [];
  const mtlsServer = () => {
    const s = createServer({ cert: server.cert, key: server.key, ca: caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerX509Certificate?.();
      res.end(JSON.stringify({ fingerprint256: peer?.fingerprint256 ?? null }));
    });
    servers.push(s);
    return listen(s);
  };
  const plain = createHttpServer((_req, res) => res.end(JSON.stringify({ fingerprint256: null })));
  servers.push(plain);
  const [portA, portB, httpPort] = await Promise.all([mtlsServer(), mtlsServer(), listen(plain)]);
  const adminCert = await loadCertificate({ pfx: makePfx(admin.key, [admin.cert, caPem], 'demo'), passphrase: 'demo' });
  store.add({ host: 'api.demo.test', port: portB!, name: 'admin (port-specific, PFX)', certificate: adminCert });

  const fetch = createFetch(store, { ca: loadCaBundle(caPem), agentOptions: { connect: { lookup } } });
  const byFingerprint = new Map([...store.list()].map((e) => [e.certificate.fingerprint256, e.name ?? e.id]));
  const urls = [
    `https://api.demo.test:${portA}/`,
    `https://shop.demo.test:${portA}/`,
    `https://api.demo.test:${portB}/`,
    `https://legacy.demo.test:${portA}/`,
    `https://127.0.0.1:${portA}/`,
    `http://api.demo.test:${httpPort}/`,
  ];
  const rows: DemoRow[] = [];
  try {
    for (const url of urls) {
      const explanation = store.explain(url);
      const chosen = explanation.chosen;
      const skipped = explanation.candidates.find((c) => c.verdict === 'skipped');
      const why = chosen !== undefined ? chosen.reason + (skipped ? `; ${skipped.entry.name} skipped: expired` : '') : (explanation.candidates.find((c) => /IP address|plain/.test(c.reason))?.reason ?? 'no entry matches');
      const res = await fetch(url);
      const { fingerprint256 } = (await res.json()) as { fingerprint256: string | null };
      const received = fingerprint256 === null ? '(none)' : (byFingerprint.get(fingerprint256) ?? fingerprint256);
      const chosenName = chosen === undefined ? '(none)' : (chosen.entry.name ?? chosen.entry.id);
      rows.push({ url, chosen: chosenName, why, received, agree: (chosen?.entry.certificate.fingerprint256 ?? null) === fingerprint256 });
    }
  } finally {
    await fetch.close();
    for (const s of servers) {
      (s as Server).closeAllConnections?.();
      s.close();
    }
  }
  return rows;
}

/** The demo's table, as the CLI prints it. */
export function formatDemo(rows: DemoRow[], stream: { isTTY?: boolean }): string {
  const s = styleFor(stream);
  const lines = [
    ['URL', 'resolver chose', 'server received', '', 'why'].map(s.bold),
    ...rows.map((r) => [r.url, r.chosen, r.received, r.agree ? s.green('✓ agree') : s.red('✗ DIFFER'), s.dim(r.why)]),
  ];
  const ok = rows.every((r) => r.agree);
  return `${table(lines)}\n\n${ok ? s.green(`All ${rows.length} requests presented the certificate the resolver chose.`) : s.red('The server received a different certificate than the resolver chose.')}`;
}
