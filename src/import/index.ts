// What users already have -> certs.json, keeping their intent, with a note wherever the meaning
// of the original differs from ours (R3-R5) and what was done about it. One file per tool; the
// precedence of each tool kept under our rules by precedence.ts. Also `mtls-resolver/import`.
export type { ImportOptions, ImportResult } from './common.js';
export { convertNewmanCertList } from './newman.js';
export { convertBrunoConfig } from './bruno.js';
export { convertInsomniaCertificates } from './insomnia.js';
export { convertPlaywrightCertificates } from './playwright.js';
export { convertCypressCertificates } from './cypress.js';
export { convertK6TlsAuth } from './k6.js';
