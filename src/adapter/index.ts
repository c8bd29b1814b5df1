export { createDispatcher, createInterceptor, createFetch, MtlsAgent } from './undici.js';
export type { DispatcherOptions, MtlsFetch, MtlsInterceptor, MtlsRequestInit } from './undici.js';
export { httpsRequestOptions, createHttpsAgent } from './https.js';
export type { HttpsAgentOptions } from './https.js';
export type { AdapterOptions, ConnectEvent, RequestMtlsOptions, SelectEvent } from './options.js';
