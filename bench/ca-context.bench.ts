// One secure context for a client certificate with a custom CA: the library's (Node's roots plus
// the CA, as the store's `ca` means) against tls.createSecureContext({ cert, key, ca }), which
// trusts the CA alone; and Node's own way to add a CA to its roots, which the library uses.
// Interleaved rounds, medians. The cost beyond the baseline depends on how many certificates
// Node's root store holds: NODE_EXTRA_CA_CERTS adds its file's (the header says whether it is set).
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { secureContextFor } from '../src/adapter/contexts.js';
import { resolveAdapterOptions } from '../src/adapter/options.js';
import { CertificateStore, loadCaBundle, loadCertificate, type LoadedCertificate } from '../src/index.js';
import { fixtures } from './loader.bench.js';
import { formatNs, median, table } from './util.js';

type NativeContext = { context: { addCACert(pem: string): void } };

export async function runCaContextBench(rounds = 11, perRound = 100): Promise<string> {
  const dir = fixtures();
  const cert = readFileSync(`${dir}ec256.crt`, 'utf8');
  const key = readFileSync(`${dir}ec256.key`, 'utf8');
  const caPem = readFileSync(`${dir}ca.crt`, 'utf8');
  const trust = resolveAdapterOptions(new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) })).trust;
  // A context is cached per loaded certificate: a copy of its own for every context made.
  const copies: LoadedCertificate[] = await Promise.all(Array.from({ length: rounds * perRound }, () => loadCertificate({ cert, key })));
  let next = 0;
  const cases: Array<[string, () => unknown]> = [
    ['tls.createSecureContext({ cert, key, ca }) (the CA alone)', () => tls.createSecureContext({ cert, key, ca: caPem })],
    ['ours: Node roots + the CA (secureContextFor)', () => secureContextFor(copies[next++]!, trust)],
    ["Node's own: createSecureContext({ cert, key }), then addCACert(ca)", () => (tls.createSecureContext({ cert, key }) as unknown as NativeContext).context.addCACert(caPem)],
    ['tls.createSecureContext({ cert, key }) (no CA: Node roots, shared)', () => tls.createSecureContext({ cert, key })],
  ];
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = (k + r) % cases.length; // a different case goes first each round
      const keep: unknown[] = [];
      const t = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) keep.push(cases[c]![1]());
      times[c]!.push(Number(process.hrtime.bigint() - t) / perRound);
    }
  }
  const base = median(times[0]!);
  const rows = [['one secure context (cert + key)', 'time', 'vs the CA alone'], ...cases.map(([name], k) => [name, formatNs(median(times[k]!)), `${(median(times[k]!) / base).toFixed(2)}x`])];
  const extra = process.env.NODE_EXTRA_CA_CERTS ? `NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}` : 'no NODE_EXTRA_CA_CERTS';
  return `ca-context: ${perRound} contexts per case and round, median of ${rounds} interleaved rounds (${extra})\n${table(rows)}`;
}
