// The only module that imports node-forge: its ASN.1 reader (Node has no API to walk a PKCS#12
// structure) and RC2, which OpenSSL 3 keeps in its legacy provider and Node does not load.
// Everything that OpenSSL can do — hashing, PBKDF2, AES, 3DES, key parsing — goes to node:crypto.
import forge from 'node-forge';

/** A parsed DER node: constructed nodes hold children, primitive nodes hold their bytes. */
export interface Der {
  tagClass: number;
  type: number;
  constructed: boolean;
  children: Der[];
  bytes: Buffer;
}

export const UNIVERSAL = 0x00;
export const CONTEXT = 0x80;
export const TAG = { INTEGER: 2, OCTETSTRING: 4, OID: 6, SEQUENCE: 16 } as const;

function convert(node: forge.asn1.Asn1): Der {
  const children = Array.isArray(node.value) ? node.value.map(convert) : [];
  const bytes = Array.isArray(node.value)
    ? Buffer.concat(children.map((c) => c.bytes)) // BER constructed strings: their parts, joined
    : Buffer.from(node.value, 'binary');
  return { tagClass: node.tagClass, type: node.type, constructed: node.constructed, children, bytes };
}

/** Parses DER (strictly: every byte must belong to the structure). Throws on malformed input. */
export function parseDer(input: Uint8Array): Der {
  const buffer = forge.util.createBuffer(Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('binary'));
  const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
  const fromDer = forge.asn1.fromDer as unknown as (b: forge.util.ByteBuffer, o: typeof options) => forge.asn1.Asn1;
  return convert(fromDer(buffer, options));
}

/** The dotted form of an OBJECT IDENTIFIER node. */
export function oidOf(node: Der | undefined): string {
  if (node === undefined || node.tagClass !== UNIVERSAL || node.type !== TAG.OID) throw new Error('expected an OID');
  return forge.asn1.derToOid(forge.util.createBuffer(node.bytes.toString('binary')));
}

/** A non-negative INTEGER node as a number. */
export function intOf(node: Der | undefined): number {
  if (node === undefined || node.tagClass !== UNIVERSAL || node.type !== TAG.INTEGER || node.bytes.length > 6) {
    throw new Error('expected a small INTEGER');
  }
  return node.bytes.readUIntBE(0, node.bytes.length || 1);
}

/** RC2-CBC decryption with PKCS#7 padding; `undefined` when the padding is wrong. */
export function rc2Decrypt(key: Buffer, effectiveBits: number, iv: Buffer, data: Buffer): Buffer | undefined {
  const cipher = forge.rc2.createDecryptionCipher(forge.util.createBuffer(key.toString('binary')), effectiveBits);
  cipher.start(forge.util.createBuffer(iv.toString('binary')));
  cipher.update(forge.util.createBuffer(data.toString('binary')));
  if (!cipher.finish()) return undefined;
  return Buffer.from(cipher.output.getBytes(), 'binary');
}

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
