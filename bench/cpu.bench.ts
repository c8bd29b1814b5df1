// Client CPU per request (user + system, process.cpuUsage) with the server in its own process, so
// that only the client's work is counted: createDispatcher against a hand-configured undici Agent
// with the same static certificate, HTTP/1.1 at concurrency 1, 16 and 128 (node https), and
// HTTP/2 at 1, 8, 64 and 256 (node:http2, and nginx when installed; undici 8's Agent as a second
// baseline where it runs); interleaved rounds, medians.
import { Agent, request } from 'undici';
import { CertificateStore, createDispatcher, loadCaBundle, loadCertificate, type LoadedCertificate } from '../src/index.js';
import { fixtures } from './loader.bench.js';
import { h2Servers, spawnServer, undici8Baseline } from './servers.js';
import { median, table } from './util.js';

/** Client CPU µs per request for `total` requests made by `concurrency` loops. */
async function cpuPerRequest(concurrency: number, total: number, one: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  let left = total;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await one();
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / total;
}

export async function runCpuBench(rounds = 7): Promise<string> {
  const dir = fixtures();
  const server = await spawnServer(dir, 'https');
  try {
    const ca = loadCaBundle({ file: `${dir}ca.crt` });
    const certificate = await loadCertificate({ pemFile: `${dir}rsa.pem` });
    const store = new CertificateStore({ ca });
    store.add({ host: 'localhost', port: '*', certificate });
    const rows = [['concurrency', 'hand-written Agent', 'createDispatcher', 'ours / hand']];
    for (const concurrency of [1, 16, 128]) {
      const hand = new Agent({ connect: { cert: certificate.tls.cert, key: certificate.tls.key, ca: ca.pem } }); // trusts the custom CA alone: its cheapest form
      const ours = createDispatcher(store);
      const send = (dispatcher: Agent) => async () => {
        const res = await request(server.url, { dispatcher });
        await res.body.text();
      };
      const total = concurrency === 1 ? 2_000 : 6_000;
      // Warm both (connections open, code optimised) before measuring.
      await cpuPerRequest(concurrency, total, send(hand));
      await cpuPerRequest(concurrency, total, send(ours));
      const h: number[] = [];
      const o: number[] = [];
      for (let r = 0; r < rounds; r++) {
        if (r % 2 === 0) {
          h.push(await cpuPerRequest(concurrency, total, send(hand)));
          o.push(await cpuPerRequest(concurrency, total, send(ours)));
        } else {
          o.push(await cpuPerRequest(concurrency, total, send(ours)));
          h.push(await cpuPerRequest(concurrency, total, send(hand)));
        }
      }
      await Promise.all([hand.close(), ours.close()]);
      rows.push([String(concurrency), `${median(h).toFixed(1)} µs`, `${median(o).toFixed(1)} µs`, `${(median(o) / median(h)).toFixed(3)}x`]);
    }
    const h2 = await h2CpuRows(dir, store, certificate, ca.pem, rounds);
    return `cpu: client CPU (user + system) per request, server in its own process, one origin, one certificate (median of ${rounds} interleaved rounds)\n${table(rows)}\n\n${h2}`;
  } finally {
    server.stop();
  }
}

/** The same for HTTP/2 (allowH2 on every side), against each h2 server. */
async function h2CpuRows(dir: string, store: CertificateStore, certificate: LoadedCertificate, caPem: string, rounds: number): Promise<string> {
  const undici8 = await undici8Baseline();
  const servers = await h2Servers(dir);
  const connect = { cert: certificate.tls.cert, key: certificate.tls.key, ca: caPem };
  const rows = [['server', 'concurrency', 'hand-written Agent', 'createDispatcher', 'ours / hand', ...(undici8 ? ['undici 8 Agent', 'ours / undici 8'] : [])]];
  try {
    for (const server of servers) {
      for (const concurrency of [1, 8, 64, 256]) {
        const cases: Array<[string, (url: string, o: { dispatcher: never }) => Promise<{ body: { text(): Promise<string> } }>, { close(): Promise<void> }]> = [
          ['hand', request as never, new Agent({ allowH2: true, connect })],
          ['ours', request as never, createDispatcher(store, { agentOptions: { allowH2: true } })],
          ...(undici8 ? [['undici8', undici8.request as never, new undici8.Agent({ allowH2: true, connect })] as never] : []),
        ];
        const total = concurrency === 1 ? 2_000 : 4_000;
        const send = ([, req, d]: (typeof cases)[number]) => async () => void (await (await req(server.url, { dispatcher: d as never })).body.text());
        for (const c of cases) await cpuPerRequest(Math.max(concurrency, 8), 5_000, send(c)); // warm up, connections open
        const got = new Map<string, number[]>(cases.map(([n]) => [n, []]));
        for (let r = 0; r < rounds; r++) {
          for (let k = 0; k < cases.length; k++) {
            const c = cases[(k + r) % cases.length]!;
            got.get(c[0])!.push(await cpuPerRequest(concurrency, total, send(c)));
          }
        }
        await Promise.all(cases.map(([, , d]) => d.close()));
        const m = (n: string) => median(got.get(n)!);
        rows.push([server.name, String(concurrency), `${m('hand').toFixed(1)} µs`, `${m('ours').toFixed(1)} µs`, `${(m('ours') / m('hand')).toFixed(3)}x`, ...(undici8 ? [`${m('undici8').toFixed(1)} µs`, `${(m('ours') / m('undici8')).toFixed(3)}x`] : [])]);
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  return `HTTP/2: client CPU per request (allowH2; 5,000 requests of warm-up per case)\n${table(rows)}`;
}
