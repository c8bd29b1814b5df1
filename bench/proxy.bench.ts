// Through a local proxy: createDispatcher / createFetch with `proxy` against a hand-configured
// undici ProxyAgent with the same static requestTls, one local mTLS server, interleaved rounds.
// The proxy is tinyproxy where it is installed (a separate process, as in production), else the
// `proxy` npm package in this process.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { ProxyAgent, request, type Dispatcher } from 'undici';
import { CertificateStore, createDispatcher, createFetch, loadCaBundle, loadCertificate } from '../src/index.js';
import { startTinyproxy } from '../test/integration/servers.js';
import { throughput } from './adapter.bench.js';
import { spawnServer } from './servers.js';
import { fixtures } from './loader.bench.js';
import { formatNs, median, table } from './util.js';

interface BenchProxy {
  name: string;
  url: string;
  connects(): number;
  close(): Promise<void>;
}

async function startProxy(dir: string): Promise<BenchProxy> {
  const tiny = await startTinyproxy(dir.replace(/\/$/, ''));
  if (tiny !== undefined) return { name: 'tinyproxy (separate process)', url: tiny.url, connects: () => tiny.connects.length, close: () => tiny.close() };
  const { createProxy } = await import('proxy');
  let connects = 0;
  const base = createHttpServer();
  base.prependListener('connect', (_req: IncomingMessage) => connects++);
  const proxy = createProxy(base);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    name: 'the proxy npm package (this process; tinyproxy not installed)',
    url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    connects: () => connects,
    close: () => new Promise<void>((resolve) => (proxy.closeAllConnections(), proxy.close(() => resolve()))),
  };
}

export async function runProxyBench(rounds = 7): Promise<string> {
  const dir = fixtures();
  const server = await spawnServer(dir, 'https');
  const { url } = server;
  const proxy = await startProxy(dir);
  const ca = loadCaBundle({ file: `${dir}ca.crt` });
  const cert = await loadCertificate({ pemFile: `${dir}rsa.pem` });
  const store = new CertificateStore();
  store.add({ host: 'localhost', port: '*', certificate: cert });
  const makeHand = () => new ProxyAgent({ uri: proxy.url, requestTls: { cert: cert.tls.cert, key: cert.tls.key, ca: ca.pem } });
  const makeOurs = () => createDispatcher(store, { ca, proxy: proxy.url });
  const hand = makeHand();
  const ours = makeOurs();
  const mtlsFetch = createFetch(store, { ca, proxy: proxy.url });
  const runtimeFetch = globalThis.fetch as unknown as (u: string, init: object) => Promise<{ text(): Promise<string> }>;
  const viaRequest = (d: Dispatcher) => async () => {
    const res = await request(url, { dispatcher: d });
    await res.body.text();
  };
  const cases: Record<string, () => Promise<void>> = {
    'undici request: ProxyAgent with static requestTls': viaRequest(hand),
    'undici request: createDispatcher { proxy }': viaRequest(ours),
    'runtime fetch: ProxyAgent with static requestTls': async () => void (await (await runtimeFetch(url, { dispatcher: hand })).text()),
    'createFetch { proxy }': async () => void (await (await mtlsFetch(url)).text()),
  };
  const results = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  for (const one of Object.values(cases)) await throughput(8, 200, one);
  for (let r = 0; r < rounds; r++) {
    for (const [name, one] of Object.entries(cases)) results.get(name)!.push(await throughput(8, 2000, one));
  }
  await Promise.all([hand.close(), ours.close(), mtlsFetch.close()]);

  // CONNECTs and handshakes per 1,000 sequential requests on a fresh dispatcher.
  const countFor = async (d: Dispatcher) => {
    const c = proxy.connects();
    const h = await server.opened();
    for (let i = 0; i < 1000; i++) await viaRequest(d)();
    await d.close();
    return { connects: proxy.connects() - c, handshakes: (await server.opened()) - h };
  };
  const handCounts = await countFor(makeHand());
  const ourCounts = await countFor(makeOurs());
  server.stop();
  await proxy.close();

  const m = (name: string) => median(results.get(name)!);
  const rows = [['case (8 concurrent loops, keep-alive, through the proxy)', 'per request', 'requests/s', 'vs baseline']];
  for (const [name, baseline] of [
    ['undici request: ProxyAgent with static requestTls', 'undici request: ProxyAgent with static requestTls'],
    ['undici request: createDispatcher { proxy }', 'undici request: ProxyAgent with static requestTls'],
    ['runtime fetch: ProxyAgent with static requestTls', 'runtime fetch: ProxyAgent with static requestTls'],
    ['createFetch { proxy }', 'runtime fetch: ProxyAgent with static requestTls'],
  ] as const) {
    rows.push([name, formatNs(m(name)), Math.round(1e9 / m(name)).toLocaleString('en'), `${(m(baseline) / m(name)).toFixed(3)}x`]);
  }
  return [
    `proxy: through ${proxy.name} to one local mTLS server (median of ${rounds} interleaved rounds of 2,000 requests)`,
    table(rows),
    '',
    table([
      ['per 1,000 sequential requests (fresh dispatcher)', 'CONNECTs', 'TLS handshakes at the target'],
      ['ProxyAgent with static requestTls', String(handCounts.connects), String(handCounts.handshakes)],
      ['createDispatcher { proxy }', String(ourCounts.connects), String(ourCounts.handshakes)],
    ]),
  ].join('\n');
}
