// The demo's certificate authority: it issues certificates and PKCS#12 files with node-forge, so
// that `mtls-resolver demo` needs no OpenSSL CLI. Not part of the loader (which only parses).
import forge from 'node-forge';

/** What {@link issueCertificate} makes. */
export interface IssueOptions {
  commonName: string;
  /** PEM of the subject's RSA public key (node:crypto makes the keys; forge only signs). */
  publicKeyPem: string;
  /** PEM of the issuer's RSA private key (the subject's own key for a self-signed CA). */
  issuerKeyPem: string;
  /** The issuer certificate PEM; omitted for a self-signed certificate. */
  issuerCertPem?: string;
  notBefore: Date;
  notAfter: Date;
  isCA?: boolean;
  /** `DNS:name` or `IP:address` entries. */
  subjectAltNames?: string[];
  extendedKeyUsage?: 'clientAuth' | 'serverAuth';
}

/** Issues an X.509 certificate (SHA-256, RSA), as the demo needs without the OpenSSL CLI. */
export function issueCertificate(o: IssueOptions): string {
  const { pki } = forge;
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(o.publicKeyPem);
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  cert.validity.notBefore = o.notBefore;
  cert.validity.notAfter = o.notAfter;
  const subject = [{ name: 'commonName', value: o.commonName }, { name: 'organizationName', value: 'mtls-resolver demo' }];
  cert.setSubject(subject);
  const issuer = o.issuerCertPem === undefined ? undefined : pki.certificateFromPem(o.issuerCertPem);
  cert.setIssuer(issuer === undefined ? subject : issuer.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: o.isCA === true, critical: true },
    o.isCA === true
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (o.extendedKeyUsage !== undefined) extensions.push({ name: 'extKeyUsage', [o.extendedKeyUsage]: true });
  if (o.subjectAltNames !== undefined && o.subjectAltNames.length > 0) {
    extensions.push({
      name: 'subjectAltName',
      altNames: o.subjectAltNames.map((san) => (san.startsWith('IP:') ? { type: 7, ip: san.slice(3) } : { type: 2, value: san.replace(/^DNS:/, '') })),
    });
  }
  cert.setExtensions(extensions);
  cert.sign(pki.privateKeyFromPem(o.issuerKeyPem), forge.md.sha256.create());
  return pki.certificateToPem(cert);
}

/** A PKCS#12 file with the key and chain, encrypted with 3DES (forge's default), as tools export it. */
export function makePfx(keyPem: string, chainPems: string[], password: string): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(keyPem),
    chainPems.map((c) => forge.pki.certificateFromPem(c)),
    password,
    { algorithm: '3des' },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
