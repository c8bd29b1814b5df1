// Faithful re-implementations of the peers' certificate matching, for the differential tests of
// the importers. Each follows the file named above it, line for line where it matters; what is
// not theirs is marked.
import { parse as legacyUrlParse } from 'node:url';

/**
 * Bruno: usebruno/bruno, packages/bruno-electron/src/ipc/network/cert-utils.js,
 * getCertsAndProxyConfig (the loop over `clientCertificates.certs`, commit 01ed5e6f):
 *   const hostRegex = '^(https:\\/\\/|grpc:\\/\\/|grpcs:\\/\\/)?' + domain.replaceAll('.', '\\.').replaceAll('*', '.*');
 *   if (requestUrl.match(hostRegex)) { ...; break; }
 * Variables ({{...}}) are not interpolated here. Disabled certificates (`enabled: false`,
 * `disabled: true`, which the app's settings write) are passed over: not in that loop, ours.
 * Returns the index of the certificate Bruno sends, or undefined.
 */
export function brunoPick(certs: ReadonlyArray<{ domain?: string; enabled?: boolean; disabled?: boolean }>, requestUrl: string): number | undefined {
  for (let i = 0; i < certs.length; i++) {
    const clientCert = certs[i]!;
    if (clientCert.enabled === false || clientCert.disabled === true) continue;
    const domain = clientCert.domain;
    if (domain) {
      const hostRegex = '^(https:\\/\\/|grpc:\\/\\/|grpcs:\\/\\/)?' + domain.replaceAll('.', '\\.').replaceAll('*', '.*');
      if (requestUrl.match(hostRegex)) return i;
    }
  }
  return undefined;
}

/**
 * Bruno's matcher without its prefix matching (the difference the importer documents): the same
 * regular expression, matched against the request's origin with its port written out
 * (`https://host:port`) and anchored at the end (`(:\d+)?$` when the domain has no port, `$`
 * when it has one). Not Bruno's code: the reference for "the host must match whole".
 */
export function brunoWholeHostPick(certs: ReadonlyArray<{ domain?: string; enabled?: boolean; disabled?: boolean }>, requestUrl: string): number | undefined {
  const u = new URL(requestUrl);
  const origin = `https://${u.hostname}:${u.port === '' ? '443' : u.port}`;
  for (let i = 0; i < certs.length; i++) {
    const clientCert = certs[i]!;
    if (clientCert.enabled === false || clientCert.disabled === true) continue;
    const domain = clientCert.domain;
    if (domain) {
      const hostRegex = '^(https:\\/\\/|grpc:\\/\\/|grpcs:\\/\\/)?' + domain.replaceAll('.', '\\.').replaceAll('*', '.*') + (domain.includes(':') ? '$' : '(:\\d+)?$');
      if (origin.match(hostRegex)) return i;
    }
  }
  return undefined;
}

// Kong/insomnia, packages/insomnia/src/common/misc.ts: escapeRegex.
function escapeRegex(str: string): string {
  return str.replace(/[-[\]/{}()*+?.\\^$|]/g, '\\$&');
}

// Kong/insomnia, packages/insomnia/src/utils/url/protocol.ts: setDefaultProtocol (the part used here).
function setDefaultProtocol(url: string, defaultProto = 'http:'): string {
  const trimmedUrl = url.trim();
  if (trimmedUrl.match(/^\w+:\/\//)) return trimmedUrl;
  return `${defaultProto}//${trimmedUrl}`;
}

/**
 * Kong/insomnia, packages/insomnia/src/network/url-matches-cert-host.ts (commit 01f4efe3), with
 * the `checkPort` flag that certificate.ts passes.
 */
function urlMatchesCertHost(certificateHost: string, requestUrl: string, checkPort: boolean): boolean {
  const cHostWithProtocol = setDefaultProtocol(certificateHost, 'https:');
  const { hostname, port } = legacyUrlParse(requestUrl);
  let certificateHostWithProtocol: URL;
  try {
    certificateHostWithProtocol = new URL(cHostWithProtocol);
  } catch {
    return false; // return false early if the certificate host is invalid
  }
  const { hostname: cHostname, port: cPort } = certificateHostWithProtocol;
  const assumedPort = parseInt(port as string) || 443;
  const assumedCPort = parseInt(cPort) || 443;
  const cHostnameRegex = escapeRegex(cHostname || '').replace(/\\\*/g, '.*');
  const cPortRegex = escapeRegex(cPort || '').replace(/\\\*/g, '.*');
  if (checkPort) {
    if ((cPort + '').includes('*')) {
      if (!(port || '').match(`^${cPortRegex}$`)) return false;
    } else if (assumedCPort !== assumedPort) {
      return false;
    }
  }
  if (!(hostname || '').match(`^${cHostnameRegex}$`)) return false;
  return true;
}

/**
 * Kong/insomnia, packages/insomnia/src/network/certificate.ts, filterClientCertificates: every
 * enabled certificate whose host matches (ports compared; with `fallback`, when none does, again
 * without ports). libcurl-promise.ts sets SSLCERT for each in turn, so the last one is sent.
 * Returns the index of that certificate, or undefined.
 */
export function insomniaPick(certs: ReadonlyArray<{ host: string; disabled?: boolean }>, requestUrl: string, fallback: boolean): number | undefined {
  const matching = (checkPort: boolean) => certs.flatMap((c, i) => (!c.disabled && urlMatchesCertHost(setDefaultProtocol(c.host, 'https:'), requestUrl, checkPort) ? [i] : []));
  let res = matching(true);
  if (res.length === 0 && fallback) res = matching(false);
  return res.at(-1);
}
