// Rotation soak: requests through every adapter while the store changes, against one local mTLS
// server that answers with the fingerprint of the client certificate it received. Counts answers
// with a certificate that was not the resolved one at any time during the request, lost requests,
// and heap, sockets and file descriptors before and after the adapter is closed.
// SOAK_REQUESTS and SOAK_ROTATIONS set the size (default 100,000 and 5,000 per adapter).
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:https';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Agent, request } from 'undici';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, createInterceptor, loadCaBundle, loadCertificate, type LoadedCertificate } from '../src/index.js';
import { fixtures } from './loader.bench.js';
import { table } from './util.js';

// Every rotation makes each loop open a new TLS connection: the loop count sets the handshake load.
const LOOPS = 4;

type Get = (url: string) => Promise<string>;
interface Adapter {
  get: Get;
  close(): Promise<void> | void;
}

const fds = () => readdirSync('/proc/self/fd').length;
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TLSWrap' || r === 'TCPSocketWrap' || r === 'TCPWrap').length;
const heapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};
const settle = () => new Promise((r) => setTimeout(r, 300));

function httpsText(url: string, agent: HttpsAgent): Promise<string> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

export async function runSoakBench(): Promise<string> {
  const total = Number(process.env.SOAK_REQUESTS ?? 100_000);
  const rotations = Number(process.env.SOAK_ROTATIONS ?? 5_000);
  const dir = fixtures();
  const server = createServer(
    { key: readFileSync(`${dir}server.key`), cert: readFileSync(`${dir}server-chain.pem`), ca: [readFileSync(`${dir}int.crt`), readFileSync(`${dir}ca.crt`)], requestCert: true, rejectUnauthorized: true },
    (req, res) => res.end((req.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '-'),
  );
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://localhost:${(server.address() as { port: number }).port}/`;
  const ca = loadCaBundle({ file: `${dir}ca.crt` });
  const pool: LoadedCertificate[] = await Promise.all(['rsa.pem', 'ec256.pem', 'ec384.pem', 'ed25519.pem'].map((f) => loadCertificate({ pemFile: `${dir}${f}` })));

  const adapters: Record<string, (store: CertificateStore) => Adapter> = {
    createDispatcher: (store) => {
      const d = createDispatcher(store, { ca });
      return { get: async (u) => (await request(u, { dispatcher: d })).body.text(), close: () => d.close() };
    },
    createFetch: (store) => {
      const f = createFetch(store, { ca });
      return { get: async (u) => (await f(u)).text(), close: () => f.close() };
    },
    createInterceptor: (store) => {
      const i = createInterceptor(store, { ca });
      const d = new Agent().compose(i);
      return { get: async (u) => (await request(u, { dispatcher: d })).body.text(), close: () => Promise.all([i.close(), d.close()]).then(() => undefined) };
    },
    createHttpsAgent: (store) => {
      const a = createHttpsAgent(store, { ca });
      return { get: (u) => httpsText(u, a), close: () => a.destroy() };
    },
  };

  const rows = [['adapter', 'requests', 'rotations', 'wrong cert', 'lost', 'time', 'fds before/after', 'sockets before/after', 'heap MB before/after']];
  for (const [name, make] of Object.entries(adapters)) {
    await settle();
    const before = { fds: fds(), sockets: sockets(), heap: heapMb() };
    const store = new CertificateStore();
    let current = store.add({ host: 'localhost', port: '*', certificate: pool[0]! });
    const history = [pool[0]!.fingerprint256];
    const adapter = make(store);
    const every = Math.max(1, Math.floor(total / rotations));
    let started = 0;
    let done = 0;
    let wrong = 0;
    let lost = 0;
    let rotated = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: LOOPS }, async () => {
        while (started < total) {
          started++;
          const from = history.length - 1;
          try {
            const fp = await adapter.get(url);
            if (!history.slice(from).includes(fp)) wrong++;
          } catch {
            lost++;
          }
          if (++done % every === 0 && rotated < rotations) {
            const next = pool[++rotated % pool.length]!;
            const added = store.add({ host: 'localhost', port: '*', certificate: next });
            store.remove(current.id);
            current = added;
            history.push(next.fingerprint256);
          }
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await adapter.close();
    await settle();
    const after = { fds: fds(), sockets: sockets(), heap: heapMb() };
    rows.push([name, done.toLocaleString('en'), rotated.toLocaleString('en'), String(wrong), String(lost), `${seconds.toFixed(1)} s`, `${before.fds}/${after.fds}`, `${before.sockets}/${after.sockets}`, `${before.heap.toFixed(1)}/${after.heap.toFixed(1)}`]);
  }
  server.closeAllConnections();
  server.close();
  return [`soak: ${total.toLocaleString('en')} requests per adapter, ${LOOPS} concurrent loops, the store's certificate replaced ${rotations.toLocaleString('en')} times (add new, remove old)`, table(rows)].join('\n');
}
