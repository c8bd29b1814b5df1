// Client CPU per request (user + system, process.cpuUsage) with the server in its own process, so
// that only the client's work is counted: createDispatcher against a hand-configured undici Agent
// with the same static certificate, at concurrency 1, 16 and 128, interleaved rounds, medians.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'undici';
import { CertificateStore, createDispatcher, loadCaBundle, loadCertificate } from '../src/index.js';
import { fixtures } from './loader.bench.js';
import { median, table } from './util.js';

const SERVER = `
const https = require('node:https');
const fs = require('node:fs');
const dir = process.argv[1];
const server = https.createServer({ key: fs.readFileSync(dir + 'server.key'), cert: fs.readFileSync(dir + 'server-chain.pem'), ca: [fs.readFileSync(dir + 'int.crt'), fs.readFileSync(dir + 'ca.crt')], requestCert: true, rejectUnauthorized: true }, (req, res) => res.end('ok'));
server.keepAliveTimeout = 60000;
server.maxRequestsPerSocket = 0;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

async function startServerProcess(dir: string): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `https://localhost:${chunk.toString().trim()}/`, stop: () => child.kill() };
}

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
  const server = await startServerProcess(dir);
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
    return `cpu: client CPU (user + system) per request, server in its own process, one origin, one certificate (median of ${rounds} interleaved rounds)\n${table(rows)}`;
  } finally {
    server.stop();
  }
}
