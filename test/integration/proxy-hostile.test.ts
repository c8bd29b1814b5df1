// Proxies that misbehave on purpose: bytes of their own right after the 200 to CONNECT, a tunnel
// whose far end never answers the TLS handshake, and proxy URLs with broken percent-encoding.
// Each fails at once or at the connect timeout, with an MtlsError, on every adapter.
import { request as httpsRequest } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, isMtlsError, loadCertificate } from '../../src/index.js';
import { fixture } from '../helpers.js';

/** A CONNECT proxy that answers 200 and then does `after` with the client's socket, never reaching a target. */
async function hostileProxy(after: (socket: Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) after(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let store: CertificateStore;
beforeAll(async () => {
  store = new CertificateStore();
  store.add({ host: 'api.mtls.test', port: '*', certificate: await loadCertificate({ pemFile: fixture('rsa.pem') }) });
});

const failure = (run: () => Promise<unknown>) => {
  const started = Date.now();
  return run().then(
    () => ({ err: undefined as unknown, ms: Date.now() - started }),
    (err: unknown) => ({ err: (err as { cause?: unknown }).cause ?? err, ms: Date.now() - started }),
  );
};

function viaAgent(agent: ReturnType<typeof createHttpsAgent>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    httpsRequest({ hostname: 'api.mtls.test', port: 8443, path: '/', agent }, (res) => {
      res.resume();
      resolve(res.statusCode);
    })
      .on('error', reject)
      .end();
  });
}

describe('a proxy that sends bytes of its own after its 200', () => {
  let proxy: Awaited<ReturnType<typeof hostileProxy>>;
  beforeAll(async () => {
    proxy = await hostileProxy((socket) => socket.write('HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x02injected'));
  });
  afterAll(() => proxy.close());

  it('fails the tunnel at once (it waited 10 s for the connect timeout): fetch, and the https agent', async () => {
    const fetch = createFetch(store, { proxy: proxy.url });
    const agent = createHttpsAgent(store, { proxy: proxy.url });
    try {
      for (const run of [() => fetch('https://api.mtls.test:8443/'), () => viaAgent(agent)]) {
        const { err, ms } = await failure(run);
        expect(isMtlsError(err, 'ERR_PROXY')).toBe(true);
        expect((err as Error).message).toMatch(/sent \d+ bytes after its 200 answer to CONNECT/);
        expect(ms).toBeLessThan(3000);
      }
    } finally {
      await fetch.close();
      agent.destroy();
    }
  });
});

describe('a tunnel whose far end never answers the TLS handshake', () => {
  let proxy: Awaited<ReturnType<typeof hostileProxy>>;
  beforeAll(async () => {
    proxy = await hostileProxy((socket) => socket.write('HTTP/1.1 200 Connection established\r\n\r\n'));
  });
  afterAll(() => proxy.close());

  it('the https agent fails at its timeout (it waited forever), as the dispatcher does at its connect timeout', async () => {
    const agent = createHttpsAgent(store, { proxy: proxy.url, agentOptions: { keepAlive: true, timeout: 400 } });
    const dispatcher = createDispatcher(store, { proxy: proxy.url, agentOptions: { connect: { timeout: 400 } } });
    try {
      const viaHttps = await failure(() => viaAgent(agent));
      expect(isMtlsError(viaHttps.err, 'ERR_TLS_HANDSHAKE')).toBe(true);
      expect((viaHttps.err as Error).message).toContain('did not complete within 400 ms');
      expect(viaHttps.ms).toBeLessThan(3000);
      const viaUndici = await failure(() => dispatcher.request({ origin: 'https://api.mtls.test:8443', path: '/', method: 'GET' }));
      expect(viaUndici.err).toBeInstanceOf(Error);
      expect(viaUndici.ms).toBeLessThan(3000);
    } finally {
      agent.destroy();
      await dispatcher.close();
    }
  });
});

describe('proxy URLs with broken percent-encoding', () => {
  it.each(['http://user:p%ZZword@127.0.0.1:3128', 'http://us%er:secret@127.0.0.1:3128', 'socks5://u:%E0%A4%A@127.0.0.1:1080'])('%s is an MtlsError that does not repeat the credentials', (url) => {
    for (const make of [() => createDispatcher(store, { proxy: url }), () => createHttpsAgent(store, { proxy: url })]) {
      let err: unknown;
      try {
        make();
      } catch (e) {
        err = e;
      }
      expect(isMtlsError(err, 'ERR_INVALID_OPTION')).toBe(true);
      expect((err as Error).message).toContain('127.0.0.1');
      expect((err as Error).message).not.toMatch(/p%ZZword|secret|%E0%A4%A/);
    }
  });
});
