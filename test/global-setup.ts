// Once per test run: builds dist/ (the package tests exercise what would be published) and makes
// the certificate fixtures with the OpenSSL CLI (test/fixtures/make-fixtures.sh).
import { execFileSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export default function setup(): void {
  const fixtures = `${root}.tmp/fixtures`;
  const fresh = `${fixtures}-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  execFileSync('bash', [`${root}test/fixtures/make-fixtures.sh`, fresh], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(fixtures, { recursive: true, force: true });
  renameSync(fresh, fixtures);
  if (process.env.MTLS_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, [`${root}node_modules/tsup/dist/cli-default.js`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
