// Many tenants: one client certificate per tenant origin, a custom CA for the server. The first
// request to each tenant through createDispatcher (one store, one dispatcher) against a
// hand-written undici Agent per tenant with { cert, key, ca } (the custom CA only, as people write
// it), in interleaved halves; and the cost of one secure context against
// tls.createSecureContext({ cert, key, ca }).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { LookupFunction } from 'node:net';
import * as tls from 'node:tls';
import { Agent, request } from 'undici';
import { secureContextFor, secureContextsLive } from '../src/adapter/contexts.js';
import { resolveAdapterOptions } from '../src/adapter/options.js';
import { CertificateStore, createDispatcher, loadCaBundle, loadCertificate, type LoadedCertificate } from '../src/index.js';
import { tenantCertificates } from '../test/helpers.js';
import { fixtures } from './loader.bench.js';
import { formatNs, median, table } from './util.js';

const lookup: LookupFunction = (_host, options, callback) => {
  const cb = callback as (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;
  if ((options as { all?: boolean }).all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const rss = () => {
  gc();
  gc();
  return process.memoryUsage().rss;
};

export async function runTenantsBench(tenants = 400): Promise<string> {
  const dir = fixtures();
  const caPem = readFileSync(`${dir}ca.crt`, 'utf8');
  const server = createServer(
    { key: readFileSync(`${dir}server.key`), cert: readFileSync(`${dir}server-chain.pem`), requestCert: true, rejectUnauthorized: false },
    (_req, res) => {
      res.setHeader('connection', 'close');
      res.end('ok');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const { key, certs } = tenantCertificates(tenants * 3); // [0, t): baselines, [t, 2t): our contexts, [2t, 3t): our requests (no context made yet)
  const loaded = await Promise.all(certs.map((cert) => loadCertificate({ cert, key })));
  const url = (i: number) => `https://t-${i}.mtls.test:${port}/`;

  // 1. One secure context per certificate, custom CA: ours against createSecureContext({ cert, key, ca }).
  const ca = loadCaBundle({ file: `${dir}ca.crt` });
  const trust = resolveAdapterOptions(new CertificateStore({ ca })).trust;
  const contextRows: string[][] = [['one secure context (cert + key + custom CA)', 'time', 'vs baseline', 'RSS per context', 'vs baseline']];
  const contextCase = (make: (c: LoadedCertificate) => unknown, from: number) => {
    const keep: unknown[] = [];
    const before = rss();
    const liveBefore = secureContextsLive();
    const t = process.hrtime.bigint();
    for (let i = from; i < from + tenants; i++) keep.push(make(loaded[i]!));
    const ns = Number(process.hrtime.bigint() - t) / tenants;
    const bytes = (rss() - before) / tenants;
    keep.length = 0;
    return { ns, bytes };
  };
  const base = contextCase((c) => tls.createSecureContext({ cert: c.tls.cert, key: c.tls.key, ca: caPem }), 0);
  const ours = contextCase((c) => secureContextFor(c, trust), tenants);
  const roots = contextCase((c) => tls.createSecureContext({ cert: c.tls.cert, key: c.tls.key, ca: [...tls.rootCertificates, caPem] }), 0);
  contextRows.push(['tls.createSecureContext({ cert, key, ca }) (custom CA only)', formatNs(base.ns), '1.00x', `${(base.bytes / 1024).toFixed(1)} KB`, '1.00x']);
  // A few KB per context is within RSS noise: the memory ratio only where the baseline shows.
  const memRatio = (bytes: number) => (base.bytes >= 4096 ? `${(bytes / base.bytes).toFixed(2)}x` : 'baseline below noise');
  contextRows.push(['ours: Node roots + custom CA', formatNs(ours.ns), `${(ours.ns / base.ns).toFixed(2)}x`, `${(ours.bytes / 1024).toFixed(1)} KB`, memRatio(ours.bytes)]);
  contextRows.push(['before: ca = every root + custom CA', formatNs(roots.ns), `${(roots.ns / base.ns).toFixed(2)}x`, `${(roots.bytes / 1024).toFixed(1)} KB`, memRatio(roots.bytes)]);

  // 2. The first request to each tenant, sequential; RSS per touched origin, and after close().
  const store = new CertificateStore({ ca });
  loaded.forEach((certificate, i) => store.add({ host: `t-${i}.mtls.test`, port, certificate }));
  const firstRequests = async (label: string, from: number, send: (i: number) => Promise<void>, close: () => Promise<void>) => {
    const before = rss();
    const liveBefore = secureContextsLive();
    const t = process.hrtime.bigint();
    for (let i = from; i < from + tenants; i++) await send(i);
    const ns = Number(process.hrtime.bigint() - t) / tenants;
    const peak = rss() - before;
    const contextsAtPeak = secureContextsLive() - liveBefore;
    await close();
    for (let round = 0; round < 3; round++) {
      globalThis.gc?.();
      await new Promise((resolve) => setImmediate(resolve)); // finalizers run
    }
    const kept = rss() - before;
    return { label, ns, perOrigin: peak / tenants, kept, peak, contexts: `${secureContextsLive() - liveBefore} of ${contextsAtPeak}` };
  };
  const dispatcher = createDispatcher(store, { agentOptions: { connect: { lookup } } });
  const agents: Agent[] = [];
  const hand = await firstRequests(
    'hand-written Agent per tenant { cert, key, ca }',
    0,
    async (i) => {
      const agent = new Agent({ connect: { cert: loaded[i]!.tls.cert, key: loaded[i]!.tls.key, ca: caPem, lookup } });
      agents.push(agent);
      await (await request(url(i), { dispatcher: agent })).body.text();
    },
    () => Promise.all(agents.map((a) => a.close())).then(() => undefined),
  );
  const ourRequests = await firstRequests(
    'createDispatcher(store) (one for all tenants)',
    tenants * 2,
    async (i) => {
      await (await request(url(i), { dispatcher })).body.text();
    },
    () => dispatcher.close(),
  );
  server.close();
  const requestRows = [['first request to a new tenant', 'time', 'vs hand', 'RSS per touched origin', 'vs hand', 'RSS kept after close()', 'our contexts alive after close()']];
  for (const r of [hand, ourRequests]) {
    requestRows.push([r.label, formatNs(r.ns), `${(r.ns / hand.ns).toFixed(2)}x`, `${(r.perOrigin / 1024).toFixed(1)} KB`, `${(r.perOrigin / Math.max(1, hand.perOrigin)).toFixed(2)}x`, `${((r.kept / Math.max(1, r.peak)) * 100).toFixed(0)}% of the peak`, r === hand ? '-' : r.contexts]);
  }
  void median;
  return [`tenants: ${tenants} tenant certificates per case, custom CA (RSS after a full GC; run with --expose-gc, as npm run bench does)`, table(contextRows), '', table(requestRows)].join('\n');
}
