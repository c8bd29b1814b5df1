// The clients people use, against real servers: WebSocket (undici's, the runtime's, and `ws` with
// createHttpsAgent), the interceptor with the store's CA, and no key material in anything the
// library returns, nor in the errors of axios and got that carry it.
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { inspect } from 'node:util';
import axios from 'axios';
import { got } from 'got';
import { Agent, WebSocket as UndiciWebSocket, request } from 'undici';
import { WebSocket as WsWebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateStore,
  createDispatcher,
  createFetch,
  createHttpsAgent,
  createInterceptor,
  httpsRequestOptions,
  loadCertificate,
  type LoadedCertificate,
} from '../../src/index.js';
import { fixture, testCa } from '../helpers.js';
import { storeWith } from './load.js';
import { lookup, startMtlsServer, startWsServer, type Received, type TestServer } from './servers.js';

const ca = () => testCa();
let https: TestServer;
let wss: TestServer;
let cert: LoadedCertificate;
let other: LoadedCertificate;

beforeAll(async () => {
  [https, wss, cert, other] = await Promise.all([startMtlsServer(), startWsServer(), loadCertificate({ pemFile: fixture('rsa.pem') }), loadCertificate({ pemFile: fixture('ed25519.pem') })]);
});
afterAll(async () => {
  await Promise.all([https.close(), wss.close()]);
});


/** The first message of a WebSocket that speaks the WHATWG API. */
function firstMessage(ws: { addEventListener(type: string, fn: (e: { data?: unknown }) => void): void; close(): void }): Promise<Received> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('message', (e) => {
      resolve(JSON.parse(String(e.data)) as Received);
      ws.close();
    });
    ws.addEventListener('error', (e) => reject(new Error(`WebSocket error: ${inspect(e)}`)));
  });
}

describe('WebSocket (wss://)', () => {
  it("undici's WebSocket with createDispatcher presents the resolved certificate", async () => {
    const dispatcher = createDispatcher(storeWith(cert));
    try {
      const got = await firstMessage(new UndiciWebSocket(wss.url('localhost', '/u'), { dispatcher }) as never);
      expect(got.fingerprint256).toBe(cert.fingerprint256);
    } finally {
      await dispatcher.close();
    }
  });

  it.runIf(typeof globalThis.WebSocket === 'function')("the runtime's global WebSocket (Node 22+) with createDispatcher presents it too", async () => {
    const dispatcher = createDispatcher(storeWith(other));
    try {
      const Ws = globalThis.WebSocket as unknown as new (url: string, init: object) => Parameters<typeof firstMessage>[0];
      const got = await firstMessage(new Ws(wss.url('localhost', '/g'), { dispatcher }));
      expect(got.fingerprint256).toBe(other.fingerprint256);
    } finally {
      await dispatcher.close();
    }
  });

  it('the ws package with createHttpsAgent presents the resolved certificate', async () => {
    const agent = createHttpsAgent(storeWith(other));
    try {
      const ws = new WsWebSocket(wss.url('localhost', '/ws'), { agent });
      const got = await new Promise<Received>((resolve, reject) => {
        ws.once('message', (data) => resolve(JSON.parse(String(data)) as Received));
        ws.once('error', reject);
      });
      ws.close();
      expect(got.fingerprint256).toBe(other.fingerprint256);
    } finally {
      agent.destroy();
    }
  });
});

describe('createInterceptor', () => {
  it("verifies an origin that matches no entry with the store's CA (it is not handed back without it)", async () => {
    const store = new CertificateStore({ ca: ca() });
    store.add({ host: 'api.elsewhere.test', certificate: cert });
    const interceptor = createInterceptor(store);
    const composed = new Agent({ connect: { lookup } }).compose(interceptor);
    try {
      const res = await request(https.url('localhost'), { dispatcher: composed });
      expect(((await res.body.json()) as Received).fingerprint256).toBeNull(); // verified, nothing presented
      // Without the store's CA, the same request is refused: the test does tell the two apart.
      const bare = new Agent().compose(createInterceptor(new CertificateStore()));
      await expect(request(https.url('localhost'), { dispatcher: bare })).rejects.toThrow(/SELF_SIGNED_CERT_IN_CHAIN|self-signed|unable to get local issuer/);
      await bare.close();
    } finally {
      await Promise.all([interceptor.close(), composed.close()]);
    }
  });
});

describe('no key material in what the library returns', () => {
  // A line from the middle of the private key: if any of it shows, the key shows.
  const keyLine = () => cert.tls.key!.split('\n')[2]!;
  const shown = (value: unknown) => `${inspect(value, { depth: 12, showHidden: true })}\n${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? ''}`;

  it('options, agents, dispatchers, fetch and store, after real requests', async () => {
    const store = storeWith(cert);
    const url = https.url('localhost');
    const options = httpsRequestOptions(store, url);
    const globalStyle = new HttpsAgent(options);
    const agent = createHttpsAgent(store);
    const dispatcher = createDispatcher(store);
    const fetch = createFetch(store);
    try {
      const viaOptions = await new Promise<Received>((resolve, reject) => {
        httpsRequest(url, { ...options, agent: globalStyle }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => resolve(JSON.parse(body) as Received));
        }).on('error', reject).end();
      });
      expect(viaOptions.fingerprint256).toBe(cert.fingerprint256); // the redacted bytes are the real key to TLS
      await (await request(url, { dispatcher })).body.json();
      await (await fetch(url)).json();
      await new Promise<void>((resolve, reject) => httpsRequest(url, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject).end());
      for (const value of [options, globalStyle, agent, dispatcher, fetch, fetch.dispatcher, store, cert]) {
        const text = shown(value);
        expect(text).not.toContain(keyLine());
        expect(text).not.toContain('PRIVATE KEY');
      }
    } finally {
      globalStyle.destroy();
      agent.destroy();
      await Promise.all([dispatcher.close(), fetch.close()]);
    }
  });

  it('axios and got errors that carry the agent do not show the key', async () => {
    const store = storeWith(cert);
    const closed = `https://localhost:1/`;
    const agent = new HttpsAgent(httpsRequestOptions(store, closed));
    try {
      const axiosError = await axios.get(closed, { httpsAgent: agent }).then(() => undefined, (e: unknown) => e);
      const gotError = await got(closed, { agent: { https: agent }, retry: { limit: 0 } }).then(() => undefined, (e: unknown) => e);
      for (const err of [axiosError, gotError]) {
        expect(err).toBeInstanceOf(Error);
        expect(inspect(err, { depth: 12 })).toContain('certificate'); // the token that names it is there...
        expect(inspect(err, { depth: 12 })).not.toContain(keyLine()); // ...the key is not
      }
    } finally {
      agent.destroy();
    }
  });
});
