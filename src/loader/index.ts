export { loadCertificate } from './load.js';
export { loadCaBundle } from './ca.js';
export type { CaBundle, CertificateSource, CertificateStatus, CertificateSummary, LoadOptions, LoadedCertificate, TlsMaterial } from './types.js';
export { MtlsError, isMtlsError } from '../errors.js';
export type { MtlsErrorCode } from '../errors.js';
