// Requests through the adapters against a hand-configured undici Agent with the same static
// certificate, one local mTLS server, one process, interleaved rounds.
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureServer } from 'node:http2';
import { createServer, type Server } from 'node:https';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, createInterceptor, loadCaBundle, loadCertificate } from '../src/index.js';
import { fixtures } from './loader.bench.js';
import { formatNs, median, table } from './util.js';

const PASS = 'correct horse';

export async function startServer(dir: string): Promise<{ server: Server; url: string; handshakes: () => number }> {
  let handshakes = 0;
  const server = createServer(
    { key: readFileSync(`${dir}server.key`), cert: readFileSync(`${dir}server-chain.pem`), ca: [readFileSync(`${dir}int.crt`), readFileSync(`${dir}ca.crt`)], requestCert: true, rejectUnauthorized: true },
    (_req, res) => res.end('ok'),
  );
  server.keepAliveTimeout = 60_000;
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://localhost:${(server.address() as { port: number }).port}/`, handshakes: () => handshakes };
}

/** An HTTP/2-only mTLS server; counts sessions (connections). */
async function startH2(dir: string): Promise<{ close(): void; url: string; sessions: () => number }> {
  let sessions = 0;
  const server = createSecureServer(
    { key: readFileSync(`${dir}server.key`), cert: readFileSync(`${dir}server-chain.pem`), ca: [readFileSync(`${dir}int.crt`), readFileSync(`${dir}ca.crt`)], requestCert: true, rejectUnauthorized: true },
    (_req, res) => res.end('ok'),
  );
  const open = new Set<{ destroy(): void }>();
  server.on('session', (s) => {
    sessions++;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://localhost:${(server.address() as { port: number }).port}/`,
    sessions: () => sessions,
    close: () => {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

/** One GET through node https with `agent`, body read. */
function httpsGet(url: string, agent: HttpsAgent): Promise<void> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { agent }, (res) => {
      res.on('data', () => {});
      res.on('end', resolve);
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** ns per request for `total` requests made by `concurrency` loops. */
export async function throughput(concurrency: number, total: number, one: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  let left = total;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await one();
    }),
  );
  return Number(process.hrtime.bigint() - start) / total;
}

export async function runAdapterBench(rounds = 7): Promise<string> {
  const dir = fixtures();
  const { server, url, handshakes } = await startServer(dir);
  const ca = loadCaBundle({ file: `${dir}ca.crt` });
  const plain = await loadCertificate({ pemFile: `${dir}rsa.pem` });
  const encrypted = await loadCertificate({ certFile: `${dir}rsa.crt`, keyFile: `${dir}rsa.enc.key`, passphrase: PASS });
  const store = new CertificateStore();
  store.add({ host: 'localhost', port: '*', certificate: plain });
  const hand = new Agent({ connect: { cert: plain.tls.cert, key: plain.tls.key, ca: ca.pem } });
  const dispatcher = createDispatcher(store, { ca });
  const mtlsFetch = createFetch(store, { ca });
  const viaRequest = (d: Agent) => async () => {
    const res = await request(url, { dispatcher: d });
    await res.body.text();
  };
  const viaFetch = (f: (u: string) => Promise<{ text(): Promise<string> }>) => async () => {
    await (await f(url)).text();
  };
  const interceptorAgent = new Agent().compose(createInterceptor(store, { ca }));
  const handHttps = new HttpsAgent({ keepAlive: true, cert: plain.tls.cert, key: plain.tls.key, ca: ca.pem });
  const ourHttps = createHttpsAgent(store, { ca });
  const runtimeFetch = globalThis.fetch as unknown as (u: string, init: object) => Promise<{ text(): Promise<string> }>;
  const cases = {
    'undici request: hand-configured Agent': viaRequest(hand),
    'undici request: createDispatcher': viaRequest(dispatcher),
    'undici request: hand Agent + createInterceptor': viaRequest(interceptorAgent as unknown as Agent),
    'runtime fetch: hand-configured Agent': viaFetch((u) => runtimeFetch(u, { dispatcher: hand })),
    'createFetch (runtime fetch)': viaFetch((u) => mtlsFetch(u)),
    'runtime fetch: createDispatcher': viaFetch((u) => runtimeFetch(u, { dispatcher })),
    'https.request: hand-made keep-alive https.Agent': () => httpsGet(url, handHttps),
    'https.request: createHttpsAgent': () => httpsGet(url, ourHttps),
  };
  const results = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  for (const one of Object.values(cases)) await throughput(8, 200, one); // warm up, open connections
  for (let r = 0; r < rounds; r++) {
    for (const [name, one] of Object.entries(cases)) results.get(name)!.push(await throughput(8, 2000, one));
  }

  // HTTP/2: allowH2 on both sides of the comparison, at concurrency 1 and 64.
  const h2 = await startH2(dir);
  const h2Hand = new Agent({ allowH2: true, connect: { cert: plain.tls.cert, key: plain.tls.key, ca: ca.pem } });
  const h2Ours = createDispatcher(store, { ca, agentOptions: { allowH2: true } });
  const h2Get = (d: Agent) => async () => {
    const res = await request(h2.url, { dispatcher: d });
    await res.body.text();
  };
  const h2Results = { hand1: [] as number[], ours1: [] as number[], hand64: [] as number[], ours64: [] as number[] };
  const sessionsBefore = h2.sessions();
  await throughput(64, 640, h2Get(h2Ours));
  const oursSessions = h2.sessions() - sessionsBefore;
  await throughput(64, 640, h2Get(h2Hand));
  for (let r = 0; r < rounds; r++) {
    h2Results.hand1.push(await throughput(1, 1000, h2Get(h2Hand)));
    h2Results.ours1.push(await throughput(1, 1000, h2Get(h2Ours)));
    h2Results.hand64.push(await throughput(64, 4000, h2Get(h2Hand)));
    h2Results.ours64.push(await throughput(64, 4000, h2Get(h2Ours)));
  }
  await Promise.all([h2Hand.close(), h2Ours.close(), interceptorAgent.close()]);
  h2.close();
  handHttps.destroy();
  ourHttps.destroy();

  // Handshakes per 1,000 sequential requests on fresh dispatchers.
  const handshakesFor = async (make: () => Agent): Promise<number> => {
    const d = make();
    const before = handshakes();
    for (let i = 0; i < 1000; i++) await viaRequest(d)();
    await d.close();
    return handshakes() - before;
  };
  const handHandshakes = await handshakesFor(() => new Agent({ connect: { cert: plain.tls.cert, key: plain.tls.key, ca: ca.pem } }));
  const ourHandshakes = await handshakesFor(() => createDispatcher(store, { ca }));

  // A new connection: a fresh dispatcher each time (the secure context is per certificate and reused).
  const encryptedStore = new CertificateStore();
  encryptedStore.add({ host: 'localhost', port: '*', certificate: encrypted });
  const newConnection = async (s: CertificateStore, n: number) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const d = createDispatcher(s, { ca });
      await viaRequest(d)();
      await d.close();
    }
    return Number(process.hrtime.bigint() - start) / n;
  };
  const naiveEncrypted = async (n: number) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const d = new Agent({ connect: { cert: readFileSync(`${dir}rsa.crt`), key: readFileSync(`${dir}rsa.enc.key`), passphrase: PASS, ca: ca.pem } });
      await viaRequest(d)();
      await d.close();
    }
    return Number(process.hrtime.bigint() - start) / n;
  };
  const conn = { plain: [] as number[], encrypted: [] as number[], naive: [] as number[] };
  await newConnection(store, 5);
  for (let r = 0; r < rounds; r++) {
    conn.plain.push(await newConnection(store, 30));
    conn.encrypted.push(await newConnection(encryptedStore, 30));
    conn.naive.push(await naiveEncrypted(30));
  }

  await Promise.all([hand.close(), dispatcher.close(), mtlsFetch.close()]);
  server.closeAllConnections();
  server.close();

  const m = (name: string) => median(results.get(name)!);
  const rows = [['case (8 concurrent loops, keep-alive, HTTP/1.1)', 'per request', 'requests/s', 'vs baseline']];
  for (const [name, baseline] of [
    ['undici request: hand-configured Agent', 'undici request: hand-configured Agent'],
    ['undici request: createDispatcher', 'undici request: hand-configured Agent'],
    ['undici request: hand Agent + createInterceptor', 'undici request: hand-configured Agent'],
    ['runtime fetch: hand-configured Agent', 'runtime fetch: hand-configured Agent'],
    ['createFetch (runtime fetch)', 'runtime fetch: hand-configured Agent'],
    ['runtime fetch: createDispatcher', 'runtime fetch: hand-configured Agent'],
    ['https.request: hand-made keep-alive https.Agent', 'https.request: hand-made keep-alive https.Agent'],
    ['https.request: createHttpsAgent', 'https.request: hand-made keep-alive https.Agent'],
  ] as const) {
    rows.push([name, formatNs(m(name)), Math.round(1e9 / m(name)).toLocaleString('en'), `${(m(baseline) / m(name)).toFixed(3)}x`]);
  }
  const h2Row = (label: string, ours: number[], hand: number[]) => [label, formatNs(median(hand)), formatNs(median(ours)), `${(median(hand) / median(ours)).toFixed(3)}x`];
  const p = median(conn.plain);
  const e = median(conn.encrypted);
  const nv = median(conn.naive);
  return [
    `adapter: throughput against one local mTLS server (median of ${rounds} interleaved rounds of 2,000 requests)`,
    table(rows),
    '',
    `handshakes per 1,000 sequential requests: createDispatcher ${ourHandshakes}, hand-configured Agent (undici Pool) ${handHandshakes}`,
    '',
    table([
      ['HTTP/2 (allowH2), undici request', 'hand-configured Agent', 'createDispatcher', 'throughput vs hand'],
      h2Row('concurrency 1', h2Results.ours1, h2Results.hand1),
      h2Row('concurrency 64', h2Results.ours64, h2Results.hand64),
    ]),
    `HTTP/2 connections opened by createDispatcher for 640 requests at concurrency 64 (one origin, one certificate): ${oursSessions}`,
    '',
    table([
      ['new connection (fresh dispatcher + first request)', 'time', 'vs plain key'],
      ['createDispatcher, plain key', formatNs(p), '1.00x'],
      ['createDispatcher, encrypted key (decrypted once, at load)', formatNs(e), `${(e / p).toFixed(2)}x`],
      ['hand-configured Agent with { key, passphrase } (decrypts per connection)', formatNs(nv), `${(nv / p).toFixed(2)}x`],
    ]),
  ].join('\n');
}
