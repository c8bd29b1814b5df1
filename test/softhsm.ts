// A SoftHSM2 token for the PKCS#11 tests and benchmarks: RSA 2048 ("rsa", "other") and EC P-256
// ("ec") keys generated on the token (never extractable), their certificates issued by the test
// intermediate CA from the public keys the token exports, and the RSA certificate stored on the
// token too. SOFTHSM2_CONF is set for this process: it must be before the engine's first use.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './helpers.js';

export interface SoftHsmToken {
  pin: string;
  /** The URI of a key on the token. */
  uri(label: string): string;
  /** The certificate and intermediate of a key, as one PEM file. */
  chainFile(label: string): string;
  chain(label: string): string;
}

const MODULES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib64/softhsm/libsofthsm2.so'];
const ENGINE_DIRS = ['/usr/lib/x86_64-linux-gnu/engines-3', '/usr/lib/aarch64-linux-gnu/engines-3', '/usr/lib64/engines-3'];

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What is missing for the PKCS#11 tests here, or undefined when everything is installed. */
export function softHsmMissing(): string | undefined {
  const missing = [
    MODULES.some((m) => existsSync(m)) ? undefined : 'softhsm2',
    ENGINE_DIRS.some((d) => existsSync(join(d, 'pkcs11.so')) || existsSync(join(d, 'libpkcs11.so'))) ? undefined : 'libengine-pkcs11-openssl',
    hasCommand('softhsm2-util') ? undefined : 'softhsm2',
    hasCommand('pkcs11-tool') ? undefined : 'opensc',
    hasCommand('p11tool') ? undefined : 'gnutls-bin',
  ].filter((m): m is string => m !== undefined);
  return missing.length === 0 ? undefined : [...new Set(missing)].join(' ');
}

/** A new token `label`; certificates issued by the intermediate CA in `fixtures` (the test fixtures by default). */
export function makeSoftHsmToken(label = 'mtls-test', fixtures = FIXTURES): SoftHsmToken {
  const module = MODULES.find((m) => existsSync(m))!;
  const pin = '48151623';
  const dir = mkdtempSync(join(tmpdir(), 'mtls-softhsm-'));
  writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', '12345678', '--pin', pin]);
  const p11 = ['--module', module, '--token-label', label, '--login', '--pin', pin];
  writeFileSync(join(dir, 'ext.cnf'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  for (const [name, id, type] of [['rsa', '01', 'rsa:2048'], ['ec', '02', 'EC:prime256v1'], ['other', '03', 'rsa:2048']] as const) {
    run('pkcs11-tool', [...p11, '--keypairgen', '--key-type', type, '--label', name, '--id', id]);
    run('pkcs11-tool', ['--module', module, '--token-label', label, '--read-object', '--type', 'pubkey', '--label', name, '-o', join(dir, `${name}.pub.der`)]);
    run('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', join(dir, `${name}.pub.der`), '-out', join(dir, `${name}.pub.pem`)]);
    run('openssl', ['x509', '-new', '-force_pubkey', join(dir, `${name}.pub.pem`), '-CA', join(fixtures, 'int.crt'), '-CAkey', join(fixtures, 'int.key'), '-subj', `/CN=token ${name}`, '-days', '90', '-extfile', join(dir, 'ext.cnf'), '-out', join(dir, `${name}.crt`)]);
    writeFileSync(join(dir, `${name}.full.crt`), readFileSync(join(dir, `${name}.crt`), 'utf8') + readFileSync(join(fixtures, 'int.crt'), 'utf8'));
  }
  run('openssl', ['x509', '-in', join(dir, 'rsa.crt'), '-outform', 'DER', '-out', join(dir, 'rsa.crt.der')]);
  run('pkcs11-tool', [...p11, '--write-object', join(dir, 'rsa.crt.der'), '--type', 'cert', '--label', 'rsa', '--id', '01']);
  return {
    pin,
    uri: (name) => `pkcs11:token=${label};object=${name};type=private`,
    chainFile: (name) => join(dir, `${name}.full.crt`),
    chain: (name) => readFileSync(join(dir, `${name}.full.crt`), 'utf8'),
  };
}
