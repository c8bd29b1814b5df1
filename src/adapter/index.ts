export { createDispatcher, createInterceptor, createFetch, MtlsAgent } from './undici/index.js';
export type { DispatcherOptions, FetchOptions, MtlsFetch, MtlsInterceptor, MtlsRequestInit } from './undici/index.js';
export { createHttpsAgent, MtlsHttpsAgent } from './https.js';
export type { HttpsAgentOptions } from './https.js';
export { httpsRequestOptions } from './https-options.js';
export type { HttpsTlsOptions } from './https-options.js';
export type { AdapterOptions, RequestMtlsOptions } from './options.js';
export type { ConnectEvent, SelectEvent, SkipEvent } from './events.js';
export type { SkippedEntry } from './choose.js';
export type { AnyUndiciDispatcher, AnyUndiciInterceptor, RuntimeDispatcher } from './runtime.js';
export type { CaInput } from './trust.js';
export type { ProxyOption, ProxyTlsOptions } from './proxy.js';
export { MtlsError, isMtlsError } from '../errors.js';
export type { MtlsErrorCode } from '../errors.js';
// What an adapter user needs besides the adapters, so that this subpath stands alone (it loads no
// node-forge: only a PKCS#12 file encrypted with RC2 does).
export { CertificateStore } from '../store/store.js';
export type { ExpiryEvent, StoreChange, StoreDefaults, StoreEntry, StoreEntryInput, StoreReplacement } from '../store/store.js';
export { loadCertificate, loadCaBundle } from '../loader/index.js';
export type { CaBundle, CertificateSource, LoadOptions, LoadedCertificate } from '../loader/index.js';
