// TLS version bounds, per adapter and per entry: a server that asks for the client certificate
// after a TLS 1.3 handshake (post-handshake authentication, which Node does not offer) is reached
// with TLS 1.2 for its origin only. What the server negotiated is what it reports.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createHttpsAgent, httpsRequestOptions, loadCertificate, readConfig, type LoadedCertificate } from '../../src/index.js';
import { fixture, testCa } from '../helpers.js';
import { lookup, startMtlsServer, startOpensslServer, type OpensslServer, type Received, type TestServer } from './servers.js';

let server: TestServer;
let tls13Only: OpensslServer;
let cert: LoadedCertificate;
beforeAll(async () => {
  [server, tls13Only, cert] = await Promise.all([startMtlsServer(), startOpensslServer({ tls: '1.3' }), loadCertificate({ pemFile: fixture('rsa.pem') })]);
});
afterAll(async () => {
  await Promise.all([server.close(), tls13Only.close()]);
});

function store(): CertificateStore {
  const s = new CertificateStore({ ca: testCa() });
  s.add({ host: 'legacy.mtls.test', port: '*', certificate: cert, maxVersion: 'TLSv1.2' });
  s.add({ host: 'modern.mtls.test', port: '*', certificate: cert });
  return s;
}

function viaAgent(url: string, options: RequestOptions): Promise<Received> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ...options, lookup }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as Received));
    })
      .on('error', reject)
      .end();
  });
}

describe('TLS version bounds', () => {
  it("an entry's maxVersion applies to its origins only (dispatcher and https agent)", async () => {
    const s = store();
    const dispatcher = createDispatcher(s, { agentOptions: { connect: { lookup } } });
    const agent = createHttpsAgent(s);
    try {
      const get = async (host: string) => (await (await request(server.url(host), { dispatcher })).body.json()) as Received;
      expect((await get('legacy.mtls.test')).protocol).toBe('TLSv1.2');
      expect((await get('modern.mtls.test')).protocol).toBe('TLSv1.3');
      expect((await viaAgent(server.url('legacy.mtls.test'), { agent })).protocol).toBe('TLSv1.2');
      expect((await viaAgent(server.url('modern.mtls.test'), { agent })).protocol).toBe('TLSv1.3');
      expect(httpsRequestOptions(s, server.url('legacy.mtls.test')).maxVersion).toBe('TLSv1.2');
      expect(httpsRequestOptions(s, server.url('modern.mtls.test')).maxVersion).toBeUndefined();
    } finally {
      await dispatcher.close();
      agent.destroy();
    }
  });

  it('the adapter option applies to every origin; a replace that changes an entry\'s bound moves its connections', async () => {
    const s = store();
    const dispatcher = createDispatcher(s, { maxVersion: 'TLSv1.2', agentOptions: { connect: { lookup } } });
    try {
      expect(((await (await request(server.url('modern.mtls.test'), { dispatcher })).body.json()) as Received).protocol).toBe('TLSv1.2');
    } finally {
      await dispatcher.close();
    }
    const moving = createDispatcher(s, { agentOptions: { connect: { lookup } } });
    try {
      expect(((await (await request(server.url('legacy.mtls.test'), { dispatcher: moving })).body.json()) as Received).protocol).toBe('TLSv1.2');
      const [legacy, modern] = s.list();
      s.replace([{ id: legacy!.id, host: legacy!.host, port: '*', certificate: cert }, { id: modern!.id, host: modern!.host, port: '*', certificate: cert }]);
      expect(((await (await request(server.url('legacy.mtls.test'), { dispatcher: moving })).body.json()) as Received).protocol).toBe('TLSv1.3');
    } finally {
      await moving.close();
    }
  });

  it('a TLS 1.3-only server and maxVersion TLSv1.2: the error names protocol_version', async () => {
    const s = new CertificateStore({ ca: testCa() });
    s.add({ host: 'localhost', port: '*', certificate: cert, maxVersion: 'TLSv1.2' });
    const dispatcher = createDispatcher(s);
    try {
      const err = await request(`https://localhost:${tls13Only.port}/`, { dispatcher }).then(() => undefined, (e: unknown) => e);
      expect((err as Error).message).toMatch(/protocol_version|protocol version|unsupported protocol/i);
    } finally {
      await dispatcher.close();
    }
  });

  it('certs.json "maxVersion", and bad values refused where they are given', async () => {
    const config = await readConfig({ certificates: [{ host: 'a.test', pem: fixture('rsa.pem'), maxVersion: 'TLSv1.2' }] });
    expect(config.entries[0]).toMatchObject({ maxVersion: 'TLSv1.2' });
    await expect(readConfig({ certificates: [{ host: 'a.test', pem: fixture('rsa.pem'), maxVersion: '1.2' }] })).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG', message: expect.stringContaining('field "maxVersion": it must be one of "TLSv1.3"') });
    expect(() => new CertificateStore().add({ host: 'a.test', certificate: cert, maxVersion: 'TLS1.2' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ENTRY' }));
    expect(() => createDispatcher(new CertificateStore(), { minVersion: 'SSLv3' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('minVersion') }));
  });
});
