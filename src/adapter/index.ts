export { createDispatcher, createInterceptor, createFetch, MtlsAgent } from './undici/index.js';
export type { DispatcherOptions, FetchOptions, MtlsFetch, MtlsInterceptor, MtlsRequestInit } from './undici/index.js';
export { httpsRequestOptions, createHttpsAgent, MtlsHttpsAgent } from './https.js';
export type { HttpsAgentOptions, HttpsTlsOptions } from './https.js';
export type { AdapterOptions, RequestMtlsOptions } from './options.js';
export type { ConnectEvent, SelectEvent } from './events.js';
export type { RuntimeDispatcher } from './runtime.js';
export { MtlsError, isMtlsError } from '../errors.js';
export type { MtlsErrorCode } from '../errors.js';
