// A store from a config: CertificateStore.fromConfig, watchConfig and the CLI build theirs here.
import { CertificateStore } from '../store/store.js';
import { readConfig, type ConfigOptions, type MtlsConfig } from './read.js';

/**
 * A store from a config, the config's warnings for the caller to show (the CLI prints them,
 * fromConfig and watchConfig make them process warnings) and the files it read.
 */
export async function storeFromConfig(fileOrObject: string | MtlsConfig, options?: ConfigOptions): Promise<{ store: CertificateStore; warnings: string[]; files: string[] }> {
  const { defaults, entries, warnings, files } = await readConfig(fileOrObject, options);
  const store = new CertificateStore(defaults);
  for (const entry of entries) store.add(entry);
  return { store, warnings, files };
}

/** The config's warnings as process warnings (`MTLS_RESOLVER_CONFIG`). */
export function emitConfigWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) process.emitWarning(warning, { code: 'MTLS_RESOLVER_CONFIG' });
}
