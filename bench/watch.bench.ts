// Reload latency of watchConfig: from the kubelet-style swap of a secret mount (the file write) to
// the first request that presents the new certificate, over 100 renewals, for two debounce
// intervals. One local mTLS server that answers with the fingerprint it received; requests run
// back to back through createDispatcher, as a service would send them.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { request } from 'undici';
import { createDispatcher, watchConfig } from '../src/index.js';
import { opensslPairs, secretMount } from '../test/helpers.js';
import { fixtures } from './loader.bench.js';
import { median, table } from './util.js';

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;

export async function runWatchBench(renewals = 100, debounces = [200, 50]): Promise<string> {
  const dir = fixtures();
  const server = createServer({ key: readFileSync(`${dir}server.key`), cert: readFileSync(`${dir}server-chain.pem`), requestCert: true, rejectUnauthorized: false }, (req, res) =>
    res.end((req.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? ''),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://localhost:${(server.address() as { port: number }).port}/`;
  const work = mkdtempSync(join(tmpdir(), 'mtls-watch-bench-'));
  const pairs = await opensslPairs(join(work, 'made'), renewals + 1);
  const fingerprints = pairs.map((p) => new X509Certificate(p.cert).fingerprint256);
  const rows = [['debounceMs', 'write -> store reloaded p50 / p99', 'write -> first request with the new certificate p50 / p99', 'p99 over the debounce', 'target']];
  try {
    for (const debounceMs of debounces) {
      const mountDir = join(work, `mount-${debounceMs}`);
      const mount = secretMount(mountDir, { 'tls.crt': pairs[0]!.cert, 'tls.key': pairs[0]!.key });
      writeFileSync(join(mountDir, 'certs.json'), JSON.stringify({ ca: `${dir}ca.crt`, certificates: [{ host: 'localhost', port: '*', cert: 'tls.crt', key: 'tls.key' }] }));
      const watcher = await watchConfig(join(mountDir, 'certs.json'), { debounceMs });
      const dispatcher = createDispatcher(watcher.store);
      const presented = async () => (await (await request(url, { dispatcher })).body.text());
      let reloadedAt = 0;
      watcher.on('reload', () => (reloadedAt = performance.now()));
      const toStore: number[] = [];
      const toRequest: number[] = [];
      try {
        await presented();
        for (let i = 1; i <= renewals; i++) {
          const written = performance.now();
          mount.update({ 'tls.crt': pairs[i]!.cert, 'tls.key': pairs[i]!.key });
          while ((await presented()) !== fingerprints[i]) {
            if (performance.now() - written > 10_000) throw new Error(`renewal ${i} not presented after 10 s`);
          }
          toRequest.push(performance.now() - written);
          toStore.push(reloadedAt - written);
        }
      } finally {
        await watcher.close();
        await dispatcher.close();
      }
      const p99 = percentile(toRequest, 99);
      rows.push([
        String(debounceMs),
        `${median(toStore).toFixed(1)} / ${percentile(toStore, 99).toFixed(1)} ms`,
        `${median(toRequest).toFixed(1)} / ${p99.toFixed(1)} ms`,
        `+${(p99 - debounceMs).toFixed(1)} ms`,
        p99 <= debounceMs + 50 ? 'met (<= debounce + 50 ms)' : 'NOT met (> debounce + 50 ms)',
      ]);
    }
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
  return [`watch: reload latency over ${renewals} renewals of a Kubernetes-style secret mount (..data swap), requests back to back through createDispatcher`, table(rows)].join('\n');
}
