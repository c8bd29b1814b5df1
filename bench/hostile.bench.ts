// Adversarial inputs (issue 20): time to a result or a refusal, and the longest stretch the event
// loop did not turn meanwhile. Each case runs in a process of its own, killed after a cap, so a
// hang is a figure and not a stuck benchmark. `MTLS_SRC=/path/to/other/src/index.ts` measures
// another checkout of the library with the same inputs (how BENCHMARKS.md's "before" column was made).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from './util.js';

const CASES = ['pem-flood-512k', 'pem-flood-4m', 'pair-1m-certs-16-keys', 'pair-512k-certs-512k-keys', 'pfx-1m-valid', 'pfx-mac-10m', 'pfx-mac-2^31-1', 'pfx-mac-2^40', 'glob-60', 'glob-120'];
const CAP_MS = Number(process.env.MTLS_BENCH_CAP_MS ?? 60_000);

function fixtures(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-hostile-fx-'));
  const script = fileURLToPath(new URL('../test/fixtures/make-fixtures.sh', import.meta.url));
  return new Promise((resolve, reject) => execFile('bash', [script, dir], (err) => (err ? reject(err) : resolve(dir))));
}

function runCase(name: string, dir: string): Promise<{ ms: number; stall: number; outcome: string } | undefined> {
  const child = fileURLToPath(new URL('./hostile-case.ts', import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', child, name, dir], { timeout: CAP_MS, env: process.env }, (err, stdout) => {
      if (err !== null && (err as { killed?: boolean }).killed) return resolve(undefined);
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      } catch {
        resolve({ ms: Number.NaN, stall: Number.NaN, outcome: `crashed: ${String(err).slice(0, 80)}` });
      }
    });
  });
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

export async function runHostileBench(): Promise<string> {
  const dir = await fixtures();
  const rows = [['input', 'outcome', 'time to result or refusal', 'longest event-loop stall']];
  for (const name of CASES) {
    const r = await runCase(name, dir);
    rows.push(r === undefined ? [name, `killed after ${fmt(CAP_MS)}`, `> ${fmt(CAP_MS)}`, `> ${fmt(CAP_MS)}`] : [name, r.outcome, fmt(r.ms), fmt(r.stall)]);
  }
  return `hostile inputs: ${process.env.MTLS_SRC ?? 'this checkout'} (each case in its own process, capped at ${fmt(CAP_MS)})\n${table(rows)}`;
}
