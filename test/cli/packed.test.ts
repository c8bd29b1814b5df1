// The packed package's command, run as a user would (npm pack, installed, a child process): what
// only the real binary shows. Everything else about the commands runs in-process (main.test.ts).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'mtls-cli-packed-'));
let cli: string;

beforeAll(() => {
  // npm pack the built package, unpack it into node_modules, and link its dependencies.
  const tarball = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
  const modules = join(work, 'node_modules');
  mkdirSync(join(modules, 'mtls-resolver'), { recursive: true });
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', join(modules, 'mtls-resolver'), '--strip-components=1']);
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name !== 'mtls-resolver' && !name.startsWith('.')) symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  const pkg = JSON.parse(readFileSync(join(modules, 'mtls-resolver', 'package.json'), 'utf8')) as { bin: Record<string, string> };
  cli = join(modules, 'mtls-resolver', pkg.bin['mtls-resolver']!);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: work, env: { ...process.env, NO_COLOR: '' }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe('mtls-resolver (the packed binary)', () => {
  it('runs from the tarball: --help, --version, and exit codes 0, 1 and 2', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: mtls-resolver <command>/);
    const version = await run(['--version']);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
    const inspected = await run(['inspect', fixture('rsa.pem')]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toMatch(/subject/);
    const expired = await run(['inspect', fixture('expired.pem')]);
    expect(expired.code).toBe(1);
    const usage = await run(['nope']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error ERR_USAGE: unknown command "nope"[^\n]*\n$/);
  });

  const hasScript = (() => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasScript)('uses colour on a TTY, and not with NO_COLOR', () => {
    const onTty = (env: Record<string, string | undefined>) =>
      execFileSync('script', ['-qec', `${process.execPath} ${cli} inspect ${fixture('rsa.pem')}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...env } });
    const env = { ...process.env };
    delete env.NO_COLOR;
    expect(execFileSync('script', ['-qec', `${process.execPath} ${cli} inspect ${fixture('rsa.pem')}`, '/dev/null'], { encoding: 'utf8', env })).toContain('\x1b[1m');
    expect(onTty({ NO_COLOR: '1' })).not.toContain('\x1b[');
  });
});

describe('the examples from the installed package', () => {
  it('example-server writes the certificates and serves; the Quick start and two examples run against it from node_modules', async () => {
    const certs = join(work, 'certs');
    const server = spawn(process.execPath, [cli, 'example-server', '--dir', certs, '--port', '0'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (https:\/\/localhost:\d+\/)/.exec(out);
          if (m !== null) resolve(m[1]!);
        });
        server.on('exit', (code) => reject(new Error(`example-server exited with ${code}`)));
      });
      const examples = join(work, 'node_modules', 'mtls-resolver', 'examples');
      const env = { ...process.env, EXAMPLE_URL: url, EXAMPLE_DIR: `${certs}/`, EXAMPLE_PASS: 'correct horse' };
      const runExample = (name: string) => promisify(execFile)(process.execPath, ['--import', 'tsx', join(examples, name)], { cwd: work, env, timeout: 60_000 });
      const quick = await runExample('quick-start.ts');
      expect(quick.stdout).toContain('status: 200');
      expect(quick.stdout).toContain('server received: C=US, O=mtls-resolver tests, CN=rsa client');
      expect((await runExample('fetch.ts')).stdout).toContain('server received: C=US, O=mtls-resolver tests, CN=rsa client');
      expect((await runExample('undici-request.ts')).stdout).toContain('server received: C=US, O=mtls-resolver tests, CN=ec256 client');
    } finally {
      server.kill('SIGTERM');
    }
  }, 180_000);
});

