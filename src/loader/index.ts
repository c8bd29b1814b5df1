export { loadCertificate } from './load.js';
export { loadCaBundle } from './ca.js';
export type { CaBundle, CertificateSource, CertificateStatus, CertificateSummary, LoadOptions, LoadedCertificate, TlsMaterial } from './types.js';
