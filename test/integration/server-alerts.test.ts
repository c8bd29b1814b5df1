// When a server refuses the client certificate, the error says so in the server's words: the TLS
// alert, what it means, and what to do, on every adapter. With TLS 1.3 the alert comes after the
// client's handshake, and undici's HTTP/1.1 client alone only reported "other side closed".
// `openssl s_server -Verify 2 -verify_return_error` (a peer we did not write), TLS 1.2 and 1.3.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { request as httpsRequest } from 'node:https';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, httpsRequestOptions, isMtlsError, loadCertificate, type LoadedCertificate, type SkipEvent } from '../../src/index.js';
import { fixture, readFixture, testCa } from '../helpers.js';
import { startOpensslServer, type OpensslServer } from './servers.js';

let servers: Record<'1.2' | '1.3', OpensslServer>;
const certs: Record<string, LoadedCertificate> = {};

beforeAll(async () => {
  const [tls12, tls13] = await Promise.all([startOpensslServer({ tls: '1.2' }), startOpensslServer({ tls: '1.3' })]);
  servers = { '1.2': tls12, '1.3': tls13 };
  [certs.otherCa, certs.leafOnly, certs.expired] = await Promise.all([
    loadCertificate({ certFile: fixture('other-server.crt'), keyFile: fixture('other-server.key') }), // issued by a CA the server does not trust
    loadCertificate({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.key') }), // the leaf without its intermediate
    loadCertificate({ cert: Buffer.concat([readFixture('expired.crt'), readFixture('int.crt')]), key: readFixture('expired.key') }), // with its chain: only its dates are wrong
  ]);
});
afterAll(async () => {
  await Promise.all(Object.values(servers ?? {}).map((s) => s.close()));
});

function storeWith(certificate: LoadedCertificate | undefined): CertificateStore {
  const store = new CertificateStore({ ca: testCa() });
  if (certificate !== undefined) store.add({ host: 'localhost', port: '*', certificate });
  return store;
}

/** The MtlsError of one request through each adapter. */
async function errorsOf(store: CertificateStore, url: string, options: { includeExpired?: boolean; onSkip?: (event: SkipEvent) => void } = {}): Promise<Record<string, unknown>> {
  const dispatcher = createDispatcher(store, options);
  const fetch = createFetch(store, options);
  const agent = createHttpsAgent(store, options);
  try {
    const viaDispatcher = await request(url, { dispatcher }).then(() => undefined, (e: unknown) => e);
    const viaFetch = await fetch(url).then(() => undefined, (e: unknown) => (e as Error).cause ?? e);
    const viaAgent = await new Promise<unknown>((resolve) => {
      httpsRequest(url, { agent }, (res) => {
        res.resume();
        resolve(undefined);
      })
        .on('error', resolve)
        .end();
    });
    return { dispatcher: viaDispatcher, fetch: viaFetch, agent: viaAgent };
  } finally {
    await Promise.all([dispatcher.close(), fetch.close()]);
    agent.destroy();
  }
}

describe.each(['1.2', '1.3'] as const)('TLS %s', (version) => {
  const url = () => `https://localhost:${servers[version].port}/`;

  it('a certificate from another CA: unknown_ca, with the certificate and "send the chain"', async () => {
    for (const [adapter, err] of Object.entries(await errorsOf(storeWith(certs.otherCa), url()))) {
      expect(isMtlsError(err, 'ERR_TLS_HANDSHAKE'), adapter).toBe(true);
      const message = (err as Error).message;
      expect(message, adapter).toContain('refused the TLS connection with the alert unknown_ca: the server does not trust the issuer');
      expect(message, adapter).toContain(certs.otherCa!.fingerprint256);
      expect(message, adapter).toContain('Send the chain');
      expect(message, adapter).not.toContain('Likely causes');
    }
  });

  it('a leaf without its intermediate: unknown_ca', async () => {
    for (const [adapter, err] of Object.entries(await errorsOf(storeWith(certs.leafOnly), url()))) {
      expect((err as Error).message, adapter).toContain('with the alert unknown_ca');
    }
  });

  it('no certificate: the alert, and that none was presented', async () => {
    for (const [adapter, err] of Object.entries(await errorsOf(storeWith(undefined), url()))) {
      const message = (err as Error).message;
      expect(message, adapter).toMatch(version === '1.3' ? /with the alert certificate_required: the server requires a client certificate and none was presented/ : /with the alert (handshake_failure|certificate_required)/);
      expect(message, adapter).toContain('No client certificate was presented');
    }
  });
});

describe('an entry skipped because its certificate expired (R6)', () => {
  const url = () => `https://localhost:${servers['1.3'].port}/`;

  it('the error names the entry and its date, instead of "no entry matches"', async () => {
    for (const [adapter, err] of Object.entries(await errorsOf(storeWith(certs.expired), url()))) {
      const message = (err as Error).message;
      expect(message, adapter).toMatch(/No client certificate was presented to https:\/\/localhost:\d+: the entry localhost \(id cert-1\) matches but was skipped \(R6\): its certificate expired on \d{4}-/);
      expect(message, adapter).toContain('includeExpired: true');
      expect(message, adapter).not.toContain('no entry matches');
    }
  });

  it('onSkip and the mtls-resolver:skip channel say so on every adapter, with the entry and its dates', async () => {
    const events: Array<[string, SkipEvent]> = [];
    const published: unknown[] = [];
    const listen = (event: unknown) => published.push(event);
    subscribe('mtls-resolver:skip', listen);
    try {
      const store = storeWith(certs.expired);
      store.add({ host: 'elsewhere.example', certificate: certs.otherCa! });
      let adapter = '';
      const onSkip = (event: SkipEvent) => events.push([adapter, event]);
      const errors = await errorsOf(store, url(), { onSkip });
      expect(Object.keys(errors)).toEqual(['dispatcher', 'fetch', 'agent']);
      adapter = 'httpsRequestOptions';
      expect(httpsRequestOptions(store, url(), { onSkip })).not.toHaveProperty('key');
      expect(events).toHaveLength(4);
      for (const [, event] of events) {
        expect(event).toEqual({
          origin: url().slice(0, -1),
          skipped: [{ entryId: 'cert-1', name: undefined, host: 'localhost', status: 'expired', notBefore: certs.expired!.notBefore, notAfter: certs.expired!.notAfter, reason: expect.stringMatching(/^certificate expired on \d{4}-/) }],
        });
      }
      expect(published).toHaveLength(4);
      // Nothing skipped: an origin no entry matches, and the expired one with includeExpired.
      events.length = 0;
      httpsRequestOptions(store, 'https://nothing.example/', { onSkip });
      httpsRequestOptions(store, url(), { onSkip, includeExpired: true });
      await errorsOf(store, url(), { onSkip, includeExpired: true });
      expect(events).toEqual([]);
    } finally {
      unsubscribe('mtls-resolver:skip', listen);
    }
  });

  it('includeExpired (adapter option) presents it, and the server says certificate_expired', async () => {
    for (const [adapter, err] of Object.entries(await errorsOf(storeWith(certs.expired), url(), { includeExpired: true }))) {
      const message = (err as Error).message;
      expect(message, adapter).toContain('with the alert certificate_expired');
      expect(message, adapter).toContain(certs.expired!.fingerprint256);
    }
  });

  it('includeExpired per request, for that origin only', async () => {
    const fetch = createFetch(storeWith(certs.expired));
    try {
      const err = await fetch(url(), { mtls: { includeExpired: true } }).then(() => undefined, (e: unknown) => (e as Error).cause);
      expect((err as Error).message).toContain('with the alert certificate_expired');
      const without = await fetch(url()).then(() => undefined, (e: unknown) => (e as Error).cause);
      expect((without as Error).message).toContain('matches but was skipped (R6)');
    } finally {
      await fetch.close();
    }
  });
});


describe('alert names as each OpenSSL spells them', () => {
  it.each([
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', '', 'unknown_ca'], // OpenSSL 3.0 (Node 20)
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', '', 'certificate_expired'],
    ['ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED', '', 'certificate_expired'], // OpenSSL 3.2+ (Node 22, 24, 26)
    ['ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE', '', 'handshake_failure'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', '', 'certificate_required'],
    ['EPROTO', 'write EPROTO 80:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps', 'unknown_ca'],
    ['EPROTO', 'write EPROTO 80:error:0A000416:SSL routines:ssl3_read_bytes:ssl/tls alert certificate unknown:../deps', 'certificate_unknown'],
  ])('%s %s -> %s', async (code, message, name) => {
    const { serverAlert } = await import('../../src/adapter/alerts.js');
    expect(serverAlert(Object.assign(new Error(message), { code }))?.name).toBe(name);
  });
});
