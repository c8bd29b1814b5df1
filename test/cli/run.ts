// The CLI in this process: main() with streams that collect what it writes, and environment
// variables and the working directory set for the call only. (A few tests still spawn the packed binary: cli.test.ts.)
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args`; `env` set (undefined: unset) and `cwd` changed for the call only (vitest runs a file's tests one at a time). */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<CliRun> {
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const stream = (into: Buffer[]) => ({ isTTY: false, write: (chunk: string | Uint8Array) => into.push(Buffer.from(chunk)) });
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(env);
  const before = process.cwd();
  if (cwd !== undefined) process.chdir(cwd);
  try {
    const code = await main(args, { stdout: stream(chunks.stdout), stderr: stream(chunks.stderr) });
    return { code, stdout: Buffer.concat(chunks.stdout).toString('utf8'), stderr: Buffer.concat(chunks.stderr).toString('utf8') };
  } finally {
    set(saved);
    process.chdir(before);
  }
}
