// Files that are not certificate files on purpose: a device that never ends, a FIFO that blocks
// until someone writes, a 1 GB sparse file. Each is refused quickly, through every way a file
// reaches the loader (certificate, key, PEM, PFX, CA bundle, config), and nothing blocks.
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCaBundle, loadCertificate, readConfig } from '../../src/index.js';
import { fixture } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-hostile-'));
const fifo = join(dir, 'fifo');
const sparse = join(dir, 'sparse.pem');
beforeAll(() => {
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(sparse, 'w');
  ftruncateSync(fd, 1024 ** 3); // 1 GB of holes: no disk used
  closeSync(fd);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files: Array<[string, string, string]> = [
  ['/dev/zero', '/dev/zero', 'ERR_FILE_READ'],
  ['a FIFO', fifo, 'ERR_FILE_READ'],
  ['a 1 GB sparse file', sparse, 'ERR_INPUT_TOO_LARGE'],
];

describe.each(files)('%s', (_name, file, code) => {
  // Refused, not read: read, /dev/zero never ends and a FIFO never answers (the test would time out).
  const quickly = async (load: () => Promise<unknown>) => {
    const err = await load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code });
    return err as Error;
  };

  it('is refused as a PEM, PFX, certificate, key and CA bundle file', async () => {
    await quickly(() => loadCertificate({ pemFile: file }));
    await quickly(() => loadCertificate({ pfxFile: file, passphrase: 'x' }));
    await quickly(() => loadCertificate({ certFile: file, keyFile: fixture('rsa.key') }));
    await quickly(() => loadCertificate({ certFile: fixture('rsa.crt'), keyFile: file }));
    await quickly(async () => loadCaBundle({ file }));
  });

  it('is refused as a config file and as a file a config names, naming the field', async () => {
    await quickly(() => readConfig(file));
    const err = await quickly(() => readConfig({ certificates: [{ host: 'a.test', cert: fixture('rsa.crt'), key: file }] }));
    expect(err).toMatchObject({ location: { entry: 0, field: 'key' } });
    if (code === 'ERR_FILE_READ') expect(err.message).toMatch(/not a regular file .*save the content to a file/);
  });
});

it('a regular file still loads, and a symlink to one too', async () => {
  const link = join(dir, 'link.pem');
  execFileSync('ln', ['-s', fixture('rsa.pem'), link]);
  await expect(loadCertificate({ pemFile: link })).resolves.toMatchObject({ format: 'pem' });
  writeFileSync(join(dir, 'small.pem'), '');
  await expect(loadCertificate({ pemFile: join(dir, 'small.pem') })).rejects.toMatchObject({ code: 'ERR_NO_CERTIFICATE' });
});
