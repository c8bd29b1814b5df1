// Proxies: which proxy a target goes through (an explicit URL, or HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY with the semantics of undici's EnvHttpProxyAgent), and the tunnel to a target through
// it: HTTP CONNECT, or SOCKS5 (the `socks` package, loaded only when a SOCKS proxy is used). The tunnel is the proxy hop only: the TLS session to the target runs inside it and
// presents the target's certificate; the proxy's own TLS settings (proxyTls) never mix with it.
import * as dns from 'node:dns';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { MtlsError } from '../errors.js';
import type { LoadedCertificate } from '../loader/types.js';
import { isSecureProtocol } from '../resolver/host.js';
import { secureContextFor } from './contexts.js';
import { Trust, type CaInput } from './trust.js';

/**
 * The `proxy` option: a proxy URL (`http://`, `https://`, or `socks5://` / `socks5h://`,
 * credentials as `user:password@`), `'env'` for HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and their lower-case forms), or `false` for
 * none. Default: `'env'` only when `NODE_USE_ENV_PROXY=1` (Node's own switch), else none.
 */
export type ProxyOption = string | URL | 'env' | false;

/** TLS settings of an `https://` proxy, separate from the target's. */
export interface ProxyTlsOptions {
  /** CA certificates that issued the proxy's certificate, added to Node's roots. */
  ca?: CaInput;
  /** Verify the proxy's certificate. Default: `true`. */
  rejectUnauthorized?: boolean;
  /** A client certificate for the proxy itself (never sent to a target). */
  certificate?: LoadedCertificate;
}

/** How one target is reached through a proxy. */
export interface ProxyRoute {
  /** The proxy URL without credentials: what events, errors and the CLI show. */
  display: string;
  hostname: string;
  port: number;
  secure: boolean;
  /** The Proxy-Authorization value, if the URL had credentials. Goes to the proxy only. */
  authorization: string | undefined;
  /** A SOCKS5 proxy: its credentials (RFC 1929), and whether the proxy resolves target names (socks5h). */
  socks: { user: string | undefined; password: string | undefined; remoteDns: boolean } | undefined;
  /** The proxy hop's secure context (https proxies). */
  context: tls.SecureContext | undefined;
  rejectUnauthorized: boolean;
}

/** Decides, per target origin, whether and through which proxy it goes. */
export interface ProxyPlan {
  routeFor(target: URL): ProxyRoute | undefined;
}

function parseProxyUrl(value: string | URL, where: string, tlsOptions: ProxyTlsOptions): ProxyRoute {
  let url: URL;
  try {
    url = new URL(String(value).includes('://') ? String(value) : `http://${String(value)}`);
  } catch {
    throw new MtlsError('ERR_INVALID_OPTION', `${where} is not a URL: write it as http://proxy.example:3128 or https://user:password@proxy.example:3129.`);
  }
  if (url.protocol === 'socks4:' || url.protocol === 'socks4a:') {
    throw new MtlsError('ERR_INVALID_OPTION', `${where} is a SOCKS4 proxy (${url.protocol}//${url.host}); SOCKS4 has no authentication and no IPv6: use socks5:// (or socks5h:// to let the proxy resolve names), http:// or https://.`);
  }
  const isSocks = url.protocol === 'socks5:' || url.protocol === 'socks5h:' || url.protocol === 'socks:';
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && !isSocks) {
    throw new MtlsError('ERR_INVALID_OPTION', `${where} has the scheme ${url.protocol}; a proxy URL starts with http://, https://, socks5:// or socks5h://.`);
  }
  const secure = url.protocol === 'https:';
  let user: string;
  let password: string;
  try {
    user = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    // The credentials are not repeated: the message names the host only.
    throw new MtlsError('ERR_INVALID_OPTION', `${where} (${url.protocol}//${url.host}) has a user name or password with a broken percent-encoding: write a literal % as %25 (encode the credentials with encodeURIComponent).`);
  }
  const hasCredentials = url.username !== '' || url.password !== '';
  const authorization = !isSocks && hasCredentials ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port === '' ? (isSocks ? 1080 : secure ? 443 : 80) : Number(url.port);
  return {
    display: `${url.protocol}//${url.host}`,
    hostname,
    port,
    secure,
    authorization,
    // curl's convention: socks5:// resolves target names here, socks5h:// (and socks://) at the proxy.
    socks: isSocks ? { user: hasCredentials ? user : undefined, password: hasCredentials ? password : undefined, remoteDns: url.protocol !== 'socks5:' } : undefined,
    context: secure ? secureContextFor(tlsOptions.certificate, Trust.of(tlsOptions.ca)) : undefined,
    rejectUnauthorized: tlsOptions.rejectUnauthorized ?? true,
  };
}

interface NoProxyEntry {
  hostname: string;
  port: number;
}

// NO_PROXY as undici's EnvHttpProxyAgent reads it: entries split on commas and spaces; `*` alone
// disables the proxy; `host:port` applies to that port only; `.suffix` and `*.suffix` (and a bare
// `host`) match the host and its subdomains.
function parseNoProxy(value: string): NoProxyEntry[] | '*' {
  if (value.trim() === '*') return '*';
  const entries: NoProxyEntry[] = [];
  for (const entry of value.split(/[,\s]/)) {
    if (entry === '') continue;
    const parsed = /^(.+):(\d+)$/.exec(entry);
    entries.push({ hostname: (parsed ? parsed[1]! : entry).replace(/^\*?\./, '').toLowerCase(), port: parsed ? Number(parsed[2]) : 0 });
  }
  return entries;
}

function bypassed(noProxy: NoProxyEntry[] | '*', hostname: string, port: number): boolean {
  if (noProxy === '*') return true;
  for (const entry of noProxy) {
    if (entry.port !== 0 && entry.port !== port) continue;
    if (hostname === entry.hostname || hostname.endsWith(`.${entry.hostname}`)) return true;
  }
  return false;
}

const env = (name: string): string | undefined => {
  const value = process.env[name.toLowerCase()] ?? process.env[name];
  return value === undefined || value === '' ? undefined : value;
};

const targetPort = (target: URL) => (target.port === '' ? (isSecureProtocol(target.protocol) ? 443 : 80) : Number(target.port));

/**
 * The proxy plan of an adapter: `undefined` for direct connections.
 * @throws {MtlsError} `ERR_INVALID_OPTION` for a proxy URL that is not one.
 */
export function resolveProxy(option: ProxyOption | undefined, tlsOptions: ProxyTlsOptions = {}): ProxyPlan | undefined {
  const mode = option ?? (process.env.NODE_USE_ENV_PROXY === '1' ? 'env' : false);
  if (mode === false) return undefined;
  if (mode !== 'env') {
    const route = parseProxyUrl(mode, 'The option proxy', tlsOptions);
    return { routeFor: () => route };
  }
  const httpsValue = env('HTTPS_PROXY');
  const httpValue = env('HTTP_PROXY');
  const https = httpsValue !== undefined ? parseProxyUrl(httpsValue, 'HTTPS_PROXY', tlsOptions) : httpValue !== undefined ? parseProxyUrl(httpValue, 'HTTP_PROXY', tlsOptions) : undefined;
  const http = httpValue !== undefined ? parseProxyUrl(httpValue, 'HTTP_PROXY', tlsOptions) : undefined;
  if (https === undefined && http === undefined) return undefined;
  const noProxy = parseNoProxy(env('NO_PROXY') ?? '');
  return {
    routeFor(target) {
      const route = isSecureProtocol(target.protocol) ? https : http;
      const hostname = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      return route === undefined || bypassed(noProxy, hostname, targetPort(target)) ? undefined : route;
    },
  };
}

function proxyError(route: ProxyRoute, target: string, what: string, cause?: unknown): MtlsError {
  return new MtlsError('ERR_PROXY', `The proxy ${route.display} ${what} (target ${target}). Nothing was sent to the target.`, cause === undefined ? undefined : { cause });
}

function refusal(route: ProxyRoute, target: string, status: number, statusText: string): MtlsError {
  const advice =
    status === 407
      ? route.authorization === undefined
        ? ' It needs credentials: put them in the proxy URL, http://user:password@host:port (URL-encode special characters).'
        : ' It rejected the credentials in the proxy URL: check the user name and password.'
      : status === 403
        ? ' It does not allow a tunnel to this host or port (many proxies allow CONNECT to port 443 only): ask for it to be allowed, or list the host in NO_PROXY if it is reachable directly.'
        : '';
  return proxyError(route, target, `refused to open a tunnel: ${status} ${statusText}.${advice}`);
}

const MAX_HEAD = 16 * 1024;
/** How long opening a tunnel, and the TLS handshake inside it, may take: undici's connect timeout. */
export const CONNECT_TIMEOUT = 10_000;

// What the SOCKS5 replies (RFC 1928; named as the socks package names them) mean for the user.
const SOCKS_REPLIES: Record<string, string> = {
  Failure: 'general failure at the proxy',
  NotAllowed: 'the connection is not allowed by its rules',
  NetworkUnreachable: 'the network is unreachable from the proxy',
  HostUnreachable: 'the host is unreachable from the proxy (or its name did not resolve there)',
  ConnectionRefused: 'the target refused the connection',
  TTLExpired: 'TTL expired',
  CommandNotSupported: 'CONNECT is not supported',
  AddressNotSupported: 'the address type is not supported',
};

function socksFailure(route: ProxyRoute, target: string, socksError: Error): MtlsError {
  const message = socksError.message;
  // The socks package's error carries its options, the proxy password included: keep its message only.
  const err = new Error(message);
  const reply = /rejected connection - (\w+)/.exec(message);
  if (/Authentication failed/i.test(message)) return proxyError(route, target, 'rejected the credentials in the proxy URL: check the user name and password', err);
  if (/no accepted authentication type/i.test(message)) {
    return proxyError(route, target, route.socks?.user === undefined ? 'needs credentials: put them in the proxy URL, socks5://user:password@host:port' : 'accepts none of the offered authentication methods (user/password, none)', err);
  }
  if (reply !== null) return proxyError(route, target, `refused to open a tunnel: ${SOCKS_REPLIES[reply[1]!] ?? reply[1]}`, err);
  if (/timed out/i.test(message)) return proxyError(route, target, `did not answer in time`, err);
  if (/Socket closed/i.test(message)) return proxyError(route, target, 'closed the connection before the tunnel was open', err);
  return proxyError(route, target, `failed the SOCKS5 handshake (${message})`, err);
}

/** Opens a SOCKS5 tunnel to `host:port`: our TCP connection to the proxy, the handshake by the socks package. */
function openSocksTunnel(route: ProxyRoute, host: string, port: number, options: { lookup?: net.LookupFunction; timeout?: number }, finish: (err: Error | null, socket: Duplex | null) => void): void {
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const socks = route.socks!;
  const lookup = options.lookup ?? (dns.lookup as unknown as net.LookupFunction);
  const resolveTarget = (next: (address: string) => void) => {
    if (socks.remoteDns || net.isIP(host) !== 0) return next(host);
    lookup(host, {}, (err, address) => {
      if (err) finish(new MtlsError('ERR_PROXY', `The target ${target} could not be resolved here (${(err as { code?: string }).code ?? err.message}); nothing was sent. With socks5:// this machine resolves names; socks5h:// lets the proxy ${route.display} resolve them.`, { cause: err }), null);
      else next(address as unknown as string);
    });
  };
  resolveTarget((address) => {
    const socket = net.connect({ host: route.hostname, port: route.port, ...(options.lookup === undefined ? {} : { lookup: options.lookup }) });
    const onError = (err: Error) => {
      socket.destroy();
      finish(proxyError(route, target, `could not be reached (${(err as { code?: string }).code ?? 'no code'}: ${err.message}); check the proxy URL and that the proxy runs`, err), null);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      import('socks').then(
        ({ SocksClient }) =>
          SocksClient.createConnection(
            {
              command: 'connect',
              destination: { host: address, port },
              proxy: { host: route.hostname, port: route.port, type: 5, ...(socks.user === undefined ? {} : { userId: socks.user, password: socks.password ?? '' }) },
              existing_socket: socket,
              timeout: options.timeout ?? CONNECT_TIMEOUT,
            },
            (err, info) => {
              if (err) {
                socket.destroy();
                finish(socksFailure(route, target, err), null);
              } else finish(null, info!.socket);
            },
          ),
        (err: unknown) => {
          socket.destroy();
          finish(proxyError(route, target, 'needs the socks package, which could not be loaded', err), null);
        },
      );
    });
  });
}

/**
 * Opens a tunnel to `host:port` through the proxy: the socket, once the proxy answered 200 to
 * CONNECT (or granted the SOCKS5 connect). Proxy-Authorization goes in the CONNECT request only. Errors are MtlsErrors (`ERR_PROXY`) that
 * name the proxy without its credentials.
 */
export function openTunnel(
  route: ProxyRoute,
  host: string,
  port: number,
  options: { lookup?: net.LookupFunction; timeout?: number },
  callback: (err: Error | null, socket: Duplex | null) => void,
): void {
  let done = false;
  const finish = (err: Error | null, socket: Duplex | null) => {
    if (done) return;
    done = true;
    callback(err, socket);
  };
  if (route.socks !== undefined) return openSocksTunnel(route, host, port, options, finish);
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const target = authority;
  const common = { host: route.hostname, port: route.port, ...(options.lookup === undefined ? {} : { lookup: options.lookup }) };
  const socket: net.Socket = route.secure
    ? tls.connect({ ...common, secureContext: route.context, rejectUnauthorized: route.rejectUnauthorized, servername: net.isIP(route.hostname) ? undefined : route.hostname, ALPNProtocols: ['http/1.1'] })
    : net.connect(common);
  const timer = setTimeout(() => {
    socket.destroy();
    finish(proxyError(route, target, `did not answer within ${options.timeout ?? CONNECT_TIMEOUT} ms`), null);
  }, options.timeout ?? CONNECT_TIMEOUT);
  timer.unref?.();
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) {
      if (head.length > MAX_HEAD) {
        cleanup();
        socket.destroy();
        finish(proxyError(route, target, 'answered CONNECT with a header that is too long'), null);
      }
      return;
    }
    cleanup();
    const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
    if (m === null) {
      socket.destroy();
      finish(proxyError(route, target, `answered CONNECT with something that is not HTTP (${JSON.stringify(statusLine.slice(0, 60))})`), null);
      return;
    }
    const status = Number(m[1]);
    if (status !== 200) {
      socket.destroy();
      finish(refusal(route, target, status, m[2] ?? ''), null);
      return;
    }
    // Nothing may come before the target's first TLS record, which answers ours: bytes right after
    // the 200 are the proxy's own (or injected), and the TLS session inside the tunnel would never
    // see them (it reads the socket's handle, not this stream), waiting until a timeout.
    if (end + 4 < head.length) {
      socket.destroy();
      finish(proxyError(route, target, `sent ${head.length - end - 4} bytes after its 200 answer to CONNECT, before the target could speak: it does not pass the tunnel through unchanged`), null);
      return;
    }
    finish(null, socket);
  };
  const onError = (err: Error) => {
    cleanup();
    socket.destroy();
    const code = (err as { code?: string }).code;
    const what = route.secure && (code?.startsWith('ERR_SSL') || /certificate|self[- ]signed/i.test(err.message))
      ? `could not be reached over TLS (${code ?? 'no code'}: ${err.message}); for a proxy with a private CA, pass proxyTls: { ca }`
      : `could not be reached (${code ?? 'no code'}: ${err.message}); check the proxy URL (the option proxy, or HTTPS_PROXY / HTTP_PROXY) and that the proxy runs`;
    finish(proxyError(route, target, what, err), null);
  };
  const onClose = () => {
    cleanup();
    finish(proxyError(route, target, 'closed the connection before answering CONNECT'), null);
  };
  const cleanup = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('close', onClose);
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.once(route.secure ? 'secureConnect' : 'connect', () => {
    const auth = route.authorization === undefined ? '' : `Proxy-Authorization: ${route.authorization}\r\n`;
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
  });
}
