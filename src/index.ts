export {
  createResolver,
  resolveCertificate,
  rankCertificates,
  explainResolution,
  normalizeHost,
  matchesHost,
} from './resolver/index.js';
export { MtlsError, isMtlsError, MTLS_ERROR_CODES } from './errors.js';
export type { ConfigLocation, MtlsErrorCode, MtlsErrorReason } from './errors.js';
export type {
  CertificateEntry,
  Explanation,
  Match,
  MatchKind,
  NormalizedTarget,
  PortRule,
  RequestTarget,
  ResolveOptions,
  Resolver,
  ResolverOptions,
  Verdict,
} from './resolver/index.js';
export { loadCertificate, loadCaBundle } from './loader/index.js';
export type { CaBundle, CertificateSource, CertificateStatus, CertificateSummary, FileKeyMaterial, LoadOptions, LoadedCertificate, Pkcs11Options, TlsMaterial, TokenKeyMaterial } from './loader/index.js';
export { CertificateStore } from './store/store.js';
export type { ExpiryEvent, StoreChange, StoreDefaults, StoreEntry, StoreEntryInput, StoreReplacement } from './store/store.js';
export { createDispatcher, createInterceptor, createFetch, MtlsAgent, httpsRequestOptions, createHttpsAgent, MtlsHttpsAgent } from './adapter/index.js';
export type {
  AdapterOptions,
  ConnectEvent,
  DispatcherOptions,
  HttpsAgentOptions,
  HttpsTlsOptions,
  MtlsFetch,
  MtlsInterceptor,
  MtlsRequestInit,
  FetchOptions,
  RequestMtlsOptions,
  RuntimeDispatcher,
  SelectEvent,
  SkipEvent,
  AnyUndiciDispatcher,
  AnyUndiciInterceptor,
  CaInput,
  ProxyOption,
  ProxyTlsOptions,
  SkippedEntry,
} from './adapter/index.js';
export { readConfig } from './config/read.js';
export { watchConfig, ConfigWatcher } from './config/watch.js';
export type { ConfigReload, WatchConfigOptions } from './config/watch.js';
export type { CertificateConfig, ConfigOptions, LoadedConfig, MtlsConfig } from './config/read.js';
export { convertNewmanCertList, convertBrunoConfig, convertInsomniaCertificates, convertPlaywrightCertificates, convertCypressCertificates, convertK6TlsAuth } from './import/index.js';
export type { ImportOptions, ImportResult } from './import/index.js';
