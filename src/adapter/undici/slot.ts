// The seam of the undici adapter: one factory builds the dispatcher of one slot, that is one
// (origin, certificate, verification) triple. Everything the router above it decides (which
// certificate, when a slot is stale) is independent of how the slot reaches the server. Today a
// slot is a set of direct connections (HTTP/1.1 keep-alive clients, or one multiplexed HTTP/2
// client); a slot through a proxy will be a tunnel built by another factory.
import type { TLSSocket } from 'node:tls';
import { Client, buildConnector, type Dispatcher } from 'undici';
import type { LoadedCertificate } from '../../loader/types.js';
import type { Match } from '../../resolver/types.js';
import { describeConnectError } from '../errors.js';
import { reportConnect } from '../events.js';
import { secureContextFor, type ResolvedAdapterOptions } from '../options.js';
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
  close(): Promise<void>;
  destroy(err: Error | null): Promise<void>;
}

export type SlotFactory = (spec: SlotSpec, context: SlotContext) => SlotDispatcher;

type Connector = (options: buildConnector.Options, callback: buildConnector.Callback) => void;

/** The TLS connector of a slot: the certificate's secure context, verification, ALPN, and errors in words. */
function secureConnector(spec: SlotSpec, context: SlotContext): { connect: Connector; alpn: string[] } {
  const { origin, match, verify } = spec;
  const alpn = context.allowH2 ? ['http/1.1', 'h2'] : ['http/1.1'];
  const base = buildConnector({
    ...context.connect,
    allowH2: context.allowH2,
    secureContext: secureContextFor(match?.entry.certificate, context.options.ca),
    rejectUnauthorized: verify,
  } as buildConnector.BuildOptions);
  const connect: Connector = (options, callback) =>
    base(options, (err, socket) => {
      if (err !== null) {
        callback(describeConnectError(err, origin, match, verify, alpn), null);
        return;
      }
      reportConnect(origin, match, socket as TLSSocket);
      callback(null, socket);
    });
  return { connect, alpn };
}

/** The default factory: direct connections to the origin. */
export const directSlot: SlotFactory = (spec, context) => {
  const plain = Object.keys(context.connect).length > 0 ? (buildConnector(context.connect as buildConnector.BuildOptions) as Connector) : undefined;
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
};
