export { loadCertificate } from './load.js';
export { loadCaBundle } from './ca.js';
export type { CaBundle, CertificateSource, CertificateStatus, CertificateSummary, FileKeyMaterial, LoadOptions, LoadedCertificate, TlsMaterial, TokenKeyMaterial } from './types.js';
export type { Pkcs11Options } from './pkcs11.js';
export { MtlsError, isMtlsError } from '../errors.js';
export type { MtlsErrorCode } from '../errors.js';
