// The built package, as a user loads it: both module systems, and the promise that the resolver
// subpath loads no node: module, node-forge or undici.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (file: string) => join(root, 'dist', file);
const work = mkdtempSync(join(tmpdir(), 'mtls-package-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FORBIDDEN = (specifier: string) =>
  specifier.startsWith('node:') ||
  builtinModules.includes(specifier) ||
  /(^|\/)(node-forge|undici)(\/|$)/.test(specifier);

/** Every module specifier loaded when `entry` is imported (ESM) or required (CJS). */
function loadedSpecifiers(kind: 'esm' | 'cjs', entry: string): string[] {
  const log = join(work, `${kind}-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  if (kind === 'esm') {
    const hooks = join(work, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (context.parentURL && !context.parentURL.startsWith('data:')) appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
  return next(specifier, context);
}`,
    );
    const register = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(`file://${hooks}`)});`;
    execFileSync(process.execPath, ['--import', register, '--input-type=module', '-e', `await import(${JSON.stringify(entry)})`]);
  } else {
    const preload = join(work, 'preload.cjs');
    writeFileSync(
      preload,
      `const Module = require('node:module'); const fs = require('node:fs'); const load = Module._load;
Module._load = function (request, parent, isMain) { if (parent && parent.filename && parent.filename.includes('dist')) fs.appendFileSync(${JSON.stringify(log)}, request + '\\n'); return load.apply(this, arguments); };`,
    );
    execFileSync(process.execPath, ['-r', preload, '-e', `require(${JSON.stringify(entry)})`]);
  }
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('the built package', () => {
  it.each(['esm', 'cjs'] as const)('mtls-resolver/resolver loads no node: module, node-forge or undici (%s)', (kind) => {
    const loaded = loadedSpecifiers(kind, dist(kind === 'esm' ? 'resolver.js' : 'resolver.cjs'));
    expect(loaded).toContain('minimatch');
    expect(loaded.filter(FORBIDDEN)).toEqual([]);
  });

  it('the hook does see a node: import when there is one (the check can fail)', () => {
    const probe = join(work, 'probe.mjs');
    writeFileSync(probe, "import 'node:crypto'; import './x.mjs';");
    writeFileSync(join(work, 'x.mjs'), '');
    expect(loadedSpecifiers('esm', probe).filter(FORBIDDEN)).toEqual(['node:crypto']);
  });

  it('exports the same API to import and require', async () => {
    const esm = await import(dist('index.js'));
    const cjs = JSON.parse(
      execFileSync(process.execPath, ['-e', `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(dist('index.cjs'))})).sort()))`], {
        encoding: 'utf8',
      }),
    );
    expect(Object.keys(esm).sort()).toEqual(cjs);
    for (const name of ['resolveCertificate', 'rankCertificates', 'explainResolution', 'createResolver', 'normalizeHost', 'matchesHost', 'MtlsError']) {
      expect(cjs).toContain(name);
    }
    const resolver = await import(dist('resolver.js'));
    expect(resolver.resolveCertificate([{ id: 'a', host: 'api.acme.com', order: 0, certificate: 1 }], 'https://api.acme.com')?.entry.id).toBe('a');
  });

  it.each([
    ['loader', /(^|\/)undici(\/|$)/],
    ['adapter', /(^|\/)node-forge(\/|$)/],
    ['import', /(^|\/)(undici|node-forge)(\/|$)/],
  ])('mtls-resolver/%s loads without %s', (name, forbidden) => {
    for (const kind of ['esm', 'cjs'] as const) {
      const loaded = loadedSpecifiers(kind, dist(`${name}.${kind === 'esm' ? 'js' : 'cjs'}`));
      expect(loaded.length).toBeGreaterThan(0);
      expect(loaded.filter((s) => forbidden.test(s))).toEqual([]);
    }
  });

  it.each(['index', 'loader', 'adapter'] as const)('mtls-resolver (%s): node-forge is loaded only when an RC2-encrypted PFX is read (ESM and CJS)', (name) => {
    const fixtures = join(root, '.tmp', 'fixtures');
    for (const kind of ['esm', 'cjs'] as const) {
      const file = dist(`${name}.${kind === 'esm' ? 'js' : 'cjs'}`);
      const script = `
        const forgeLoaded = () => Object.keys(require.cache).some((k) => /[\\/]node-forge[\\/]/.test(k));
        (async () => {
          const m = ${kind === 'esm' ? `await import(${JSON.stringify(file)})` : `require(${JSON.stringify(file)})`};
          const steps = [forgeLoaded()];
          await m.loadCertificate({ pemFile: ${JSON.stringify(join(fixtures, 'rsa.pem'))} });
          await m.loadCertificate({ pfxFile: ${JSON.stringify(join(fixtures, 'ec256.pfx'))}, passphrase: 'correct horse' });
          m.loadCaBundle({ file: ${JSON.stringify(join(fixtures, 'ca.crt'))} });
          steps.push(forgeLoaded());
          await m.loadCertificate({ pfxFile: ${JSON.stringify(join(fixtures, 'rsa.legacy.pfx'))}, passphrase: 'correct horse' });
          steps.push(forgeLoaded());
          console.log(JSON.stringify(steps));
        })();`;
      const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      expect([name, kind, JSON.parse(out)]).toEqual([name, kind, [false, false, true]]);
    }
  });

  it('what the README documents type-checks against the built types (and a wrong source does not)', () => {
    // A Node project (no DOM lib: DOM's RequestInit has no dispatcher). Inside the package, so that `mtls-resolver` resolves to itself through package.json exports.
    const dir = join(root, '.tmp', 'typecheck');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(root, 'test', 'types', 'usage.mts'), join(dir, 'usage.mts'));
    const tsconfig = { compilerOptions: { target: 'ES2022', lib: ['ES2023'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], skipLibCheck: true }, files: ['usage.mts'] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const run = () => execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    expect(run()).toBe('');
    // The check can fail: a valid source under the @ts-expect-error line makes it unused.
    writeFileSync(join(dir, 'usage.mts'), readFileSync(join(dir, 'usage.mts'), 'utf8').replace("pemFile: 'client.pem', keyFile: 'client.key'", "pemFile: 'client.pem'"));
    const failed = (() => {
      try {
        run();
        return '';
      } catch (err) {
        return String((err as { stdout?: string }).stdout);
      }
    })();
    expect(failed).toMatch(/usage\.mts\(\d+,\d+\): error TS2578: Unused '@ts-expect-error' directive/);
  });

  it('package.json declares what the design promises', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'mtls-resolver', type: 'module', sideEffects: false, engines: { node: '>=20.18.1' } });
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './resolver', './loader', './adapter', './import']));
  });

  it('the tarball holds the license and the examples the README links to', () => {
    const listed = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    const files = (JSON.parse(listed) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'examples/secrets-manager.ts', 'examples/fetch.ts', 'dist/index.js']));
  });
});
