// Certificate extensions read from the DER itself, the same on every runtime (X509Certificate's
// accessors differ: `keyUsage` is the extended key usage on Node, the key usage on Deno).
import { CONTEXT, TAG, UNIVERSAL, oidOf, parseDer, type Der } from './forge.js';

const EXTENDED_KEY_USAGE = '2.5.29.37';

/** The extended key usage OIDs of a certificate (DER); undefined when it has none or it cannot be read. */
export function extendedKeyUsage(der: Uint8Array): string[] | undefined {
  try {
    const tbs = parseDer(der).children[0];
    const extensions = tbs?.children.find((n) => n.tagClass === CONTEXT && n.type === 3)?.children[0];
    for (const extension of extensions?.children ?? []) {
      if (oidOf(extension.children[0]) !== EXTENDED_KEY_USAGE) continue;
      const value = extension.children.at(-1) as Der;
      if (value.tagClass !== UNIVERSAL || value.type !== TAG.OCTETSTRING) return undefined;
      return parseDer(value.bytes).children.map((oid) => oidOf(oid));
    }
    return undefined;
  } catch {
    return undefined; // an unreadable extension is not worth failing the load over
  }
}
