// HTTP/2 (and HTTP/1.1) requests/s through createDispatcher against a hand-configured undici Agent
// with the same certificate, the server in its own process: a node:http2 secure server (HTTP/1.1
// allowed) in a child process, and nginx (`ssl_verify_client on`, http2) when it is installed.
// With undici 8 in .tmp/undici8 on Node 22.19+, its Agent is a second baseline. Concurrency 1, 8,
// 64 and 256; medians of interleaved rounds.
import { Agent, request } from 'undici';
import { CertificateStore, createDispatcher, loadCaBundle, loadCertificate } from '../src/index.js';
import { throughput } from './adapter.bench.js';
import { fixtures } from './loader.bench.js';
import { h2Servers, undici8Baseline } from './servers.js';
import { median, table } from './util.js';

type Requester = { request(url: string, o: { dispatcher: unknown }): Promise<{ body: { text(): Promise<string> } }> };

/** Requests per second of `total` requests made by `c` loops (adapter.bench's throughput, inverted). */
async function tput(req: Requester, url: string, dispatcher: unknown, c: number, total: number): Promise<number> {
  return 1e9 / (await throughput(c, total, async () => void (await (await req.request(url, { dispatcher })).body.text())));
}

export async function runH2Bench(rounds = 3, total = 2000): Promise<string> {
  const dir = fixtures();
  const cert = await loadCertificate({ pemFile: `${dir}rsa.pem` });
  const ca = loadCaBundle({ file: `${dir}ca.crt` });
  const store = new CertificateStore();
  store.add({ host: 'localhost', port: '*', certificate: cert });
  const connect = { cert: cert.tls.cert, key: cert.tls.key, ca: ca.pem };
  const undici8 = await undici8Baseline();
  const servers = await h2Servers(dir);
  const rows: string[][] = [['server', 'protocol', 'concurrency', 'hand Agent req/s', 'createDispatcher req/s', 'ours / hand', ...(undici8 ? ['ours / undici 8 Agent'] : [])]];
  try {
    for (const server of servers) {
      for (const h2 of [true, false]) {
        for (const c of [1, 8, 64, 256]) {
          const hand = new Agent({ allowH2: h2, connect });
          const ours = createDispatcher(store, { ca, agentOptions: { allowH2: h2 } });
          const hand8 = undici8 === undefined ? undefined : new undici8.Agent({ allowH2: h2, connect });
          const cases: Array<[string, Requester, unknown]> = [
            ['hand', { request } as unknown as Requester, hand],
            ['ours', { request } as unknown as Requester, ours],
            ...(hand8 === undefined ? [] : [['undici8', undici8 as unknown as Requester, hand8] as [string, Requester, unknown]]),
          ];
          const got = new Map<string, number[]>(cases.map(([n]) => [n, []]));
          // 5,000 requests a case first, at least 8 at a time, to warm both processes up (after 400, on
          // Node 26, the same h2 cell swung 0.7-1.1x from one set of fresh agents to the next).
          for (const [, req, d] of cases) await tput(req, server.url, d, Math.max(c, 8), 5_000);
          // Each round starts with another case, so that none always runs first.
          for (let r = 0; r < rounds; r++) {
            for (let k = 0; k < cases.length; k++) {
              const [n, req, d] = cases[(k + r) % cases.length]!;
              got.get(n)!.push(await tput(req, server.url, d, c, total));
            }
          }
          const m = (n: string) => median(got.get(n)!);
          rows.push([server.name, h2 ? 'h2' : 'http/1.1', String(c), m('hand').toFixed(0), m('ours').toFixed(0), `${(m('ours') / m('hand')).toFixed(2)}×`, ...(hand8 ? [`${(m('ours') / m('undici8')).toFixed(2)}×`] : [])]);
          await Promise.all([hand.close(), ours.close(), hand8?.close()]);
        }
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  return `h2: requests/s through createDispatcher against a hand-configured undici Agent (same certificate; server in its own process; medians of ${rounds} interleaved rounds of ${total} requests)\n${table(rows)}`;
}
