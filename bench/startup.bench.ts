// Start-up of a 10,000-entry store from a config (issue 13): eager against lazy, each in a
// process of its own (its heap measured after GC), every certificate distinct (one EC key each)
// and entries sharing 100 certificates. Time is compared with the eager load of the same config;
// heap with the raw PEM of the files the config names.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { tenantCertificates } from '../test/helpers.js';
import { median, table } from './util.js';

interface Run {
  startMs: number;
  validateMs: number;
  heap: number;
  raw: number;
}

export function runStartupBench(rounds = 2): string {
  const dir = `${tmpdir()}/mtls-startup-bench/`;
  mkdirSync(dir, { recursive: true });
  const { keys, certs } = tenantCertificates(10_000, { distinctKeys: true });
  certs.forEach((c, i) => {
    writeFileSync(`${dir}t${i}.crt`, c);
    writeFileSync(`${dir}t${i}.key`, keys[i]!);
  });
  const script = fileURLToPath(new URL('./startup.ts', import.meta.url));
  const run = (mode: string, distinct: number): Run =>
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, dir, mode, String(distinct)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Run;
  const rows = [['10,000 entries', 'start-up', 'vs eager', 'validate()', 'heap per entry', 'heap / raw PEM']];
  for (const distinct of [10_000, 100]) {
    const runs: Record<string, Run[]> = { eager: [], lazy: [] };
    for (let r = 0; r < rounds; r++) for (const mode of ['eager', 'lazy']) runs[mode]!.push(run(mode, distinct));
    const eagerMs = median(runs.eager!.map((x) => x.startMs));
    for (const mode of ['eager', 'lazy']) {
      const m = runs[mode]!;
      const startMs = median(m.map((x) => x.startMs));
      const heap = median(m.map((x) => x.heap));
      rows.push([
        `${mode}, ${distinct === 10_000 ? 'every certificate distinct' : `${distinct} certificates shared`}`,
        `${startMs.toFixed(0)} ms`,
        `${(startMs / eagerMs).toFixed(3)}×`,
        mode === 'lazy' ? `${median(m.map((x) => x.validateMs)).toFixed(0)} ms` : '-',
        `${(heap / 10_000 / 1024).toFixed(2)} KB`,
        `${(heap / m[0]!.raw).toFixed(2)}×`,
      ]);
    }
  }
  return `Start-up of a 10,000-entry store (fromConfig; median of ${rounds} processes per row; raw PEM = the certificate and key files named, each once)\n${table(rows)}`;
}
