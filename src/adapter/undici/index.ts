export { MtlsAgent, createDispatcher } from './agent.js';
export type { DispatcherOptions } from './agent.js';
export { createInterceptor } from './interceptor.js';
export type { MtlsInterceptor } from './interceptor.js';
export { createFetch } from './fetch.js';
export type { FetchOptions, MtlsFetch, MtlsRequestInit } from './fetch.js';
