// `fetch`: a request like curl's, presenting the certificate the config resolves (or the one given
// with --cert/--key or --pfx, as curl takes it); -v says which.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ConnectEvent, SelectEvent } from '../../adapter/events.js';
import { createFetch } from '../../adapter/undici/index.js';
import { loadCaBundle } from '../../loader/ca.js';
import { caListOf } from '../../loader/ca-list.js';
import { whyNone } from '../../adapter/choose.js';
import { CertificateStore } from '../../store/store.js';
import { loadCertificate } from '../../loader/load.js';
import { UsageError, certAndKey, day, passphraseFrom, storeFrom, type Command } from '../command.js';
import { cliWords } from '../advice.js';
import { block, styleFor } from '../output.js';
import { groupedWarnings } from '../warnings.js';

/**
 * The store a fetch presents from: the config's, or one entry for the URL's host and port made
 * from --cert/--key or --pfx (as curl takes them), or an empty one (nothing presented).
 */
async function storeForFetch(url: string, values: Record<string, unknown>): Promise<{ store: CertificateStore; warnings: string[] }> {
  const cert = values.cert as string | undefined;
  const key = values.key as string | undefined;
  const pfx = values.pfx as string | undefined;
  const given = cert !== undefined || key !== undefined || pfx !== undefined;
  if (values.config !== undefined) {
    if (given) throw new UsageError('give --config, or --cert/--key or --pfx, not both');
    return storeFrom(values.config);
  }
  const store = new CertificateStore();
  if (!given) return { store, warnings: [] };
  if (pfx !== undefined && (cert !== undefined || key !== undefined)) throw new UsageError('give --cert with --key, or --pfx, not both');
  if (pfx === undefined && (cert === undefined || key === undefined)) throw new UsageError('--cert and --key go together (or give --pfx)');
  if (!URL.canParse(url)) throw new UsageError(`${JSON.stringify(url)} is not a URL`);
  const passphrase = passphraseFrom(values);
  const certificate = await loadCertificate(pfx !== undefined ? { pfxFile: pfx, ...(passphrase === undefined ? {} : { passphrase }) } : certAndKey(cert!, key!, values));
  const target = new URL(url);
  const port = target.port === '' ? undefined : Number(target.port);
  store.add({ host: target.hostname.replace(/^\[|\]$/g, ''), ...(port === undefined ? {} : { port }), name: pfx ?? cert!, certificate });
  return { store, warnings: certificate.warnings };
}

/** What nginx says in the 400 page it sends instead of a TLS alert (`ssl_verify_client on`). */
const NGINX_REFUSALS = [
  { text: 'No required SSL certificate was sent', none: true },
  { text: 'The SSL certificate error', none: false },
] as const;

/**
 * A server that refuses the client certificate with an HTTP answer instead of a TLS alert (nginx:
 * 400 with its own page), in words: what was presented, and what to check. Undefined for any
 * other answer.
 */
function refusalOf(status: number, body: Uint8Array, presented: SelectEvent | undefined, why: () => string): string | undefined {
  if (status !== 400 || body.byteLength > 4096) return undefined;
  const page = new TextDecoder().decode(body);
  const refusal = NGINX_REFUSALS.find((r) => page.includes(r.text));
  if (refusal === undefined) return undefined;
  const label = presented === undefined ? '' : `${JSON.stringify(presented.name ?? presented.entryId)} (fingerprint ${presented.fingerprint256})`;
  if (presented === undefined) return `the server says "${refusal.text}": no client certificate was presented (${cliWords(why())}).`;
  if (refusal.none) return `the server says "${refusal.text}", but ${label} was presented: the server may ask for it at another step (see the README on servers that ask per location).`;
  return `the server says "${refusal.text}": it refused ${label}. It does not trust the certificate's issuer (wrong certificate for this server, or the server lacks its CA), the certificate is outside its dates, or its chain is incomplete (send the intermediate with it); the server's error log names which ("client SSL certificate verify error"). \`mtls-resolver inspect\` shows the certificate's issuer, dates and chain.`;
}

export const fetchCommand: Command = {
    summary: 'send a request like curl, presenting the certificate the config resolves (or --cert/--key, --pfx)',
    usage: 'mtls-resolver fetch <url> [-c|--config certs.json | --cert FILE --key FILE | --pfx FILE] [--passphrase-env VAR] [-X METHOD] [-H "Name: value"]... [-d body] [--select <id|name>] [--include-expired] [--ca FILE | --cacert FILE]... [-k|--insecure] [--http2] [--tls-max 1.2|1.3] [-f|--fail] [--proxy URL | --no-proxy] [-v]\n\n--cert/--key (PEM or DER) or --pfx (with --passphrase-env VAR for an encrypted key) present that certificate; --key pkcs11:token=...;object=... with --pin-env VAR is a key on a smart card, YubiKey or HSM; to this URL\'s host and port, without a config, as curl does. --ca (or curl\'s --cacert) adds a CA bundle (PEM) to the trusted roots and the config\'s "ca", for a server with a private CA. --http2 offers HTTP/2 (for an HTTP/2-only server). --tls-max 1.2 caps the TLS version (a server that asks for the client certificate after a TLS 1.3 handshake, which Node cannot answer). -f/--fail exits 22 without printing the body when the server answers 400 or more, as curl -f. A server that refuses the certificate with a page instead of a TLS alert (nginx\'s 400) gets a warning that says what was presented and what to check. --select presents the certificate of that entry (id or name) to this URL\'s origin instead of the one the rules choose; --include-expired presents an expired or not-yet-valid one too. Like curl, fetch goes through HTTPS_PROXY / HTTP_PROXY (minus NO_PROXY) when they are set; --proxy overrides them, --no-proxy ignores them.',
    example: 'mtls-resolver fetch https://api.acme.com/v1/orders --config certs.json -v\n  mtls-resolver fetch https://api.acme.com/v1/orders -c certs.json -X POST -H "content-type: application/json" -d \'{"id":1}\'\n  mtls-resolver fetch https://api.acme.com/v1/orders -c certs.json --proxy http://proxy.corp:3128 -v',
    options: {
      config: { type: 'string', short: 'c' },
      request: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      data: { type: 'string', short: 'd' },
      insecure: { type: 'boolean', short: 'k' },
      ca: { type: 'string', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      select: { type: 'string' },
      'include-expired': { type: 'boolean' },
      proxy: { type: 'string' },
      'no-proxy': { type: 'boolean' },
      cert: { type: 'string' },
      key: { type: 'string' },
      pfx: { type: 'string' },
      cacert: { type: 'string', multiple: true },
      'passphrase-env': { type: 'string' },
      'pin-env': { type: 'string' },
      http2: { type: 'boolean' },
      'tls-max': { type: 'string' },
      fail: { type: 'boolean', short: 'f' },
    },
    async run([url, ...rest], values, io) {
      if (url === undefined || rest.length > 0) throw new UsageError('fetch takes one URL');
      if (values.proxy !== undefined && values['no-proxy'] === true) throw new UsageError('--proxy and --no-proxy exclude each other');
      const proxy = values['no-proxy'] === true ? false : ((values.proxy as string | undefined) ?? 'env');
      const { store, warnings } = await storeForFetch(url, values);
      const verbose = values.verbose === true;
      const s = styleFor(io.err);
      const grouped = groupedWarnings(store, warnings, values.config as string | undefined);
      for (const w of [...grouped.validity, ...(verbose ? grouped.other : [])]) io.err.write(`${s.yellow('warning')}: ${w}\n`);
      const headers: Array<[string, string]> = ((values.header as string[] | undefined) ?? []).map((h) => {
        const i = h.indexOf(':');
        if (i <= 0) throw new UsageError(`-H ${JSON.stringify(h)} must be "Name: value"`);
        return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
      });
      const onConnect = (message: unknown) => {
        const e = message as ConnectEvent;
        io.err.write(
          `${block([
            ['* server', e.origin],
            ['  via proxy', e.proxy],
            ['  subject', e.server.subject],
            ['  issuer', e.server.issuer],
            ['  valid', `${e.server.validFrom} to ${e.server.validTo}`],
            ['  SANs', e.server.subjectAltName],
            ['  verified', e.authorized ? s.green('yes') : s.red(`no (${e.authorizationError ?? 'unknown'})`)],
          ])}\n`,
        );
        if (e.authorizationError !== undefined) io.err.write(`${s.yellow('warning')}: the server certificate did not verify: ${e.authorizationError}\n`);
        if (Date.parse(e.server.validTo) < Date.now()) io.err.write(`${s.yellow('warning')}: the server certificate expired on ${e.server.validTo}\n`);
      };
      let presented: SelectEvent | undefined;
      const onSelect = (e: SelectEvent) => {
        presented = e;
        if (!verbose) return;
        const c = store.get(e.entryId)?.certificate;
        io.err.write(`* client certificate: ${e.name ?? e.entryId} (${c?.subject}), fingerprint ${e.fingerprint256}, valid until ${c === undefined ? '?' : day(c.notAfter)}\n  why: ${e.reason}\n`);
        if (e.proxy !== undefined) io.err.write(`* proxy: ${e.proxy} (CONNECT tunnel; the certificate goes to the target inside it, not to the proxy)\n`);
      };
      if (verbose) subscribe('mtls-resolver:connect', onConnect);
      // --ca FILE: added to the config's CAs (which are added to Node's roots), never replacing them.
      const extraCa = [...((values.ca as string[] | undefined) ?? []), ...((values.cacert as string[] | undefined) ?? [])].map((file) => loadCaBundle({ file }));
      const includeExpired = values['include-expired'] === true;
      const tlsMax = values['tls-max'] as string | undefined;
      if (tlsMax !== undefined && tlsMax !== '1.2' && tlsMax !== '1.3') throw new UsageError('--tls-max must be 1.2 or 1.3');
      const fetch = createFetch(store, { proxy, includeExpired, ...(tlsMax === undefined ? {} : { maxVersion: tlsMax === '1.2' ? 'TLSv1.2' : 'TLSv1.3' }), ...(values.http2 === true ? { agentOptions: { allowH2: true } } : {}), onSelect, ...(extraCa.length > 0 ? { ca: [...caListOf(store.defaults.ca), ...extraCa] } : {}) });
      try {
        if (verbose && store.resolve(url, { includeExpired }) === undefined && values.select === undefined) io.err.write(`* client certificate: none (${cliWords(whyNone(store, url, { fallbackToPrimary: false, includeExpired }))})\n`);
        const method = (values.request as string | undefined) ?? (values.data === undefined ? 'GET' : 'POST');
        const res = await fetch(url, {
          method,
          headers,
          ...(values.data === undefined ? {} : { body: values.data as string }),
          mtls: {
            ...(values.insecure === true ? { rejectUnauthorized: false } : {}),
            ...(values.select === undefined ? {} : { select: values.select as string }),
          },
        });
        if (verbose) {
          io.err.write(`< ${res.status} ${res.statusText}\n`);
          res.headers.forEach((v, k) => io.err.write(`< ${k}: ${v}\n`));
        }
        const body = new Uint8Array(await res.arrayBuffer());
        const refusal = refusalOf(res.status, body, presented, () => whyNone(store, url, { fallbackToPrimary: false, includeExpired }));
        if (refusal !== undefined) io.err.write(`${s.yellow('warning')}: ${refusal}\n`);
        if (values.fail === true && res.status >= 400) {
          io.err.write(`error HTTP_${res.status}: the server answered ${res.status}${res.statusText === '' ? '' : ` ${res.statusText}`} (--fail: the body is not printed)\n`);
          return 22; // curl -f's exit code
        }
        // The body as it came to a file or a pipe (like curl); on a terminal, as text with its
        // control characters escaped.
        if (io.out.isTTY === true) io.out.write(new TextDecoder().decode(body));
        else io.out.raw(body);
        return 0;
      } finally {
        if (verbose) unsubscribe('mtls-resolver:connect', onConnect);
        await fetch.close();
      }
    },
  };
