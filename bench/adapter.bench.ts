// Requests through the adapters against a hand-configured undici Agent with the same static
// certificate, one local mTLS server in a process of its own, interleaved rounds; HTTP/2 at
// concurrency 1 to 256 against node:http2 and nginx is h2.bench's table.
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, createInterceptor, loadCaBundle, loadCertificate } from '../src/index.js';
import { runH2Bench } from './h2.bench.js';
import { fixtures } from './loader.bench.js';
import { spawnServer } from './servers.js';
import { formatNs, median, table } from './util.js';

const PASS = 'correct horse';

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
  const server = await spawnServer(dir, 'https');
  const { url } = server;
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

  // HTTP/2: how many connections a slot opens for 640 requests at concurrency 64 (the throughput
  // table is h2.bench's, below).
  const h2 = await spawnServer(dir, 'h2');
  const h2Ours = createDispatcher(store, { ca, agentOptions: { allowH2: true } });
  const sessionsBefore = await h2.opened();
  await throughput(64, 640, async () => void (await (await request(h2.url, { dispatcher: h2Ours })).body.text()));
  const oursSessions = (await h2.opened()) - sessionsBefore;
  await Promise.all([h2Ours.close(), interceptorAgent.close()]);
  h2.stop();
  handHttps.destroy();
  ourHttps.destroy();

  // Handshakes per 1,000 sequential requests on fresh dispatchers.
  const handshakesFor = async (make: () => Agent): Promise<number> => {
    const d = make();
    const before = await server.opened();
    for (let i = 0; i < 1000; i++) await viaRequest(d)();
    await d.close();
    return (await server.opened()) - before;
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
  server.stop();

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
  const p = median(conn.plain);
  const e = median(conn.encrypted);
  const nv = median(conn.naive);
  return [
    `adapter: throughput against one local mTLS server in its own process (median of ${rounds} interleaved rounds of 2,000 requests)`,
    table(rows),
    '',
    `handshakes per 1,000 sequential requests: createDispatcher ${ourHandshakes}, hand-configured Agent (undici Pool) ${handHandshakes}`,
    '',
    await runH2Bench(rounds),
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
