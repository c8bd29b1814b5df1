// What every command of the CLI shares: its shape, the usage error, the streams it writes to, and
// small helpers of more than one command.
import type { ParseArgsConfig } from 'node:util';
import { storeFromConfig } from '../config/store.js';
import { MtlsError } from '../errors.js';
import { shownEnvName } from '../loader/input.js';
import { isPkcs11Uri } from '../loader/pkcs11.js';
import type { CertificateSource, CertificateSummary } from '../loader/types.js';
import type { CertificateStore } from '../store/store.js';
import type { SafeWriter } from './output.js';

/** A mistake in the command line: exit 2, with the command's --help named. */
export class UsageError extends Error {}

/** Where a command writes: results to `out`, details, warnings and errors to `err`. */
export interface Io {
  out: SafeWriter;
  err: SafeWriter;
}

export interface Command {
  summary: string;
  usage: string;
  example: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(positionals: string[], values: Record<string, unknown>, io: Io): Promise<number>;
}

export function passphraseFrom(values: Record<string, unknown>, flag: 'passphrase-env' | 'pin-env' = 'passphrase-env'): string | undefined {
  const name = values[flag] as string | undefined;
  if (name === undefined) return undefined;
  const value = process.env[name];
  if (value === undefined) throw new MtlsError('ERR_INVALID_OPTION', `The environment variable ${shownEnvName(name, `--${flag}`)} (--${flag}) is not set.`);
  return value;
}

/** The certificate source of --cert/--key (or a file and --key): a key file, or a key on a token (pkcs11: URI, --pin-env). */
export function certAndKey(certFile: string, key: string, values: Record<string, unknown>): CertificateSource {
  if (isPkcs11Uri(key)) {
    const pin = passphraseFrom(values, 'pin-env');
    return { certFile, key, ...(pin === undefined ? {} : { pin }) };
  }
  const passphrase = passphraseFrom(values);
  return { certFile, keyFile: key, ...(passphrase === undefined ? {} : { passphrase }) };
}

export function day(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

export function summaryJson(c: CertificateSummary): Record<string, unknown> {
  const { subject, commonName, issuer, serialNumber, fingerprint256, subjectAltNames, notBefore, notAfter, keyType, selfSigned, isCA } = c;
  return { subject, commonName, issuer, serialNumber, fingerprint256, subjectAltNames, notBefore, notAfter, keyType, selfSigned, isCA };
}

export async function storeFrom(configFile: unknown): Promise<{ store: CertificateStore; warnings: string[] }> {
  if (typeof configFile !== 'string') throw new UsageError('--config <certs.json> is required');
  return storeFromConfig(configFile);
}
