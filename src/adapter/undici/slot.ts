// The seam of the undici adapter: one factory builds the dispatcher of one slot, that is one
// (origin, certificate, verification) triple. Everything the router above it decides (which
// certificate, when a slot is stale) is independent of how the slot reaches the server. Today a
// slot is a set of direct connections (HTTP/1.1 keep-alive clients, or up to 8 multiplexed HTTP/2
// clients), reached directly or through a tunnel (proxy.ts).
import type { SecureContext, TLSSocket } from 'node:tls';
import { Client, buildConnector, type Dispatcher } from 'undici';
import type { LoadedCertificate } from '../../loader/types.js';
import type { Match } from '../../resolver/types.js';
import type { AlertLog } from '../alerts.js';
import { describeConnectError } from '../errors.js';
import { openTunnel, type ProxyRoute } from '../proxy.js';
import { reportConnect } from '../events.js';
import type { ResolvedAdapterOptions } from '../options.js';
import { Connections, type Connection } from './connections.js';
import type { TrackedHandler } from './handler.js';

/** One slot: what a connection for it presents and how it verifies the server. */
export interface SlotSpec {
  /** `https://host:port` (or http, ws, wss). */
  origin: string;
  /** https: or wss: (R1): only then is there TLS, and a certificate. */
  secure: boolean;
  /** The certificate presented; undefined for none. */
  match: Match<LoadedCertificate> | undefined;
  /** rejectUnauthorized for this slot. */
  verify: boolean;
  /** The proxy the origin is reached through; undefined for a direct connection. */
  proxy: ProxyRoute | undefined;
  /** The secure context of the slot's TLS sessions (its certificate and trust); undefined for http. */
  secureContext: SecureContext | undefined;
  /** The TLS alerts the slot's sockets receive after their handshake (see alerts.ts). */
  alerts: AlertLog;
  /** When nothing is presented: why (see choose.ts whyNone). */
  why?: () => string;
}

/** What every slot of an agent shares. */
export interface SlotContext {
  options: ResolvedAdapterOptions;
  /** undici Client options (the caller's agentOptions without factory, connect, connections). */
  clientOptions: Client.Options;
  /** The caller's connect options (e.g. lookup), merged under our TLS fields. */
  connect: Record<string, unknown>;
  /** undici's `connections`: at most this many connections per slot. */
  maxConnections: number | null | undefined;
  /** Offer HTTP/2 by ALPN (undici's allowH2). */
  allowH2: boolean;
  /** Called with every client made, so that the agent can follow its connection events. */
  onClient(client: Client): void;
}

/** The dispatcher of one slot. */
export interface SlotDispatcher {
  dispatch(opts: Dispatcher.DispatchOptions, handler: TrackedHandler): boolean;
  /** Requests dispatched and not yet over. */
  readonly inflight: number;
  close(): Promise<void>;
  destroy(err: Error | null): Promise<void>;
}


type Connector = (options: buildConnector.Options, callback: buildConnector.Callback) => void;

/** The TLS connector of a slot: the certificate's secure context, verification, ALPN, and errors in words. */
function secureConnector(spec: SlotSpec, context: SlotContext): { connect: Connector; alpn: string[] } {
  const { origin, match, verify, proxy } = spec;
  const alpn = context.allowH2 ? ['http/1.1', 'h2'] : ['http/1.1'];
  const base = buildConnector({
    ...context.connect,
    allowH2: context.allowH2,
    secureContext: spec.secureContext,
    rejectUnauthorized: verify,
  } as buildConnector.BuildOptions);
  const handshake: Connector = (options, callback) =>
    base(options, (err, socket) => {
      if (err !== null) {
        callback(describeConnectError(err, origin, match, verify, alpn, proxy?.display, spec.why), null);
        return;
      }
      reportConnect(origin, match, socket as TLSSocket, proxy?.display);
      spec.alerts.watch(socket as TLSSocket);
      callback(null, socket);
    });
  if (proxy === undefined) return { connect: handshake, alpn };
  // Through a proxy: a CONNECT tunnel first, then the target's TLS session inside it.
  const tunnel = tunnelOptions(context);
  const connect: Connector = (options, callback) =>
    openTunnel(proxy, options.hostname, Number(options.port) || 443, tunnel, (err, socket) => {
      if (err !== null) callback(err, null);
      else handshake({ ...options, httpSocket: socket } as buildConnector.Options, callback);
    });
  return { connect, alpn };
}

function tunnelOptions(context: SlotContext): Parameters<typeof openTunnel>[3] {
  const { lookup, timeout } = context.connect as { lookup?: Parameters<typeof openTunnel>[3]['lookup']; timeout?: number };
  return { ...(lookup === undefined ? {} : { lookup }), ...(typeof timeout === 'number' ? { timeout } : {}) };
}

/**
 * A plain http origin through a proxy: absolute-form requests (`GET http://host/path`) on
 * connections to the proxy, with Proxy-Authorization for the proxy. Nothing is presented.
 */
function absoluteFormSlot(spec: SlotSpec, proxy: ProxyRoute, context: SlotContext): SlotDispatcher {
  const proxyOrigin = `${proxy.secure ? 'https' : 'http'}://${proxy.hostname.includes(':') ? `[${proxy.hostname}]` : proxy.hostname}:${proxy.port}`;
  const connect = proxy.secure
    ? (buildConnector({ ...context.connect, secureContext: proxy.context, rejectUnauthorized: proxy.rejectUnauthorized } as buildConnector.BuildOptions) as Connector)
    : Object.keys(context.connect).length > 0
      ? (buildConnector(context.connect as buildConnector.BuildOptions) as Connector)
      : undefined;
  const host = new URL(spec.origin).host;
  const connections = new Connections(
    () => {
      const client = new Client(proxyOrigin, { ...context.clientOptions, ...(connect === undefined ? {} : { connect }) });
      context.onClient(client);
      return { client, inflight: 0, h2: false };
    },
    context.maxConnections,
    false,
  );
  return {
    dispatch(opts, handler) {
      const headers = headerPairs(opts.headers);
      if (!headers.some(([k]) => k.toLowerCase() === 'host')) headers.push(['host', host]);
      if (proxy.authorization !== undefined) headers.push(['proxy-authorization', proxy.authorization]);
      return connections.dispatch({ ...opts, origin: proxyOrigin, path: `${spec.origin}${opts.path}`, headers: headers.flat() }, handler);
    },
    get inflight() {
      return connections.inflight;
    },
    close: () => connections.close(),
    destroy: (err) => connections.destroy(err),
  };
}

/** undici's request headers (an object, a flat array, or pairs) as pairs. */
function headerPairs(headers: Dispatcher.DispatchOptions['headers']): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (headers == null) return pairs;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) for (const [k, v] of headers as unknown as Array<[string, string]>) pairs.push([k, v]);
    else for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), String(headers[i + 1])]);
    return pairs;
  }
  const entries = typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function' ? [...(headers as Iterable<[string, string | string[]]>)] : Object.entries(headers as Record<string, string | string[] | undefined>);
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) pairs.push([k, String(one)]);
  }
  return pairs;
}

/**
 * A slot's connections to the origin, direct or through the origin's proxy (a CONNECT or SOCKS5
 * tunnel per connection for https/wss, absolute-form requests for http through an HTTP proxy, a
 * SOCKS5 tunnel for http through a SOCKS proxy).
 */
export function makeSlot(spec: SlotSpec, context: SlotContext): SlotDispatcher {
  const { proxy } = spec;
  if (!spec.secure && proxy !== undefined && proxy.socks === undefined) return absoluteFormSlot(spec, proxy, context);
  const plain: Connector | undefined =
    !spec.secure && proxy !== undefined
      ? (options, callback) => openTunnel(proxy, options.hostname, Number(options.port) || 80, tunnelOptions(context), callback as never) // plain http through a SOCKS5 tunnel
      : Object.keys(context.connect).length > 0
        ? (buildConnector(context.connect as buildConnector.BuildOptions) as Connector)
        : undefined;
  const secure = spec.secure ? secureConnector(spec, context) : undefined;
  const h2 = spec.secure && context.allowH2;
  return new Connections(
    () => {
      let connection: Connection | undefined;
      // Each client learns its protocol from its own connections (ALPN), for the slot's choice.
      const connect: Connector | undefined =
        secure === undefined
          ? plain
          : (options, callback) =>
              secure.connect(options, (err, socket) => {
                if (socket !== null && connection !== undefined) connection.h2 = (socket as TLSSocket).alpnProtocol === 'h2';
                callback(err, socket as never);
              });
      const client = new Client(spec.origin, {
        ...context.clientOptions,
        ...(h2 ? { allowH2: true } : {}),
        ...(connect === undefined ? {} : { connect }),
      });
      connection = { client, inflight: 0, h2: undefined };
      context.onClient(client);
      return connection;
    },
    context.maxConnections,
    h2,
  );
}
