// The handler every request of a slot runs through: it forwards undici's handler callbacks to the
// caller's handler unchanged, turns TLS failures into MtlsErrors that name the certificate
// presented (as undici's own lib/interceptor/response-error.js decorates errors), and tells the
// connection it ran on when the request is over, so that the slot knows its load without asking
// every client for its `stats` on every request.
//
// undici has two handler APIs. Its Agent unwraps the newer one (onRequestStart...) into the older
// one (onConnect...) before it reaches a per-origin dispatcher, so the older one is the usual
// case here; a handler that has onRequestStart is forwarded in the newer API, as undici's
// WrapHandler decides.
import type { Dispatcher } from 'undici';
import type { LoadedCertificate } from '../../loader/types.js';
import type { Match } from '../../resolver/types.js';
import type { AlertLog } from '../alerts.js';
import { describeRequestError } from '../errors.js';

/** Counts a connection's requests in flight; told when the count falls back to 0. */
export interface Load {
  inflight: number;
  onIdle?(): void;
}

/** What a decorated error says: the origin and the certificate presented (none for http). */
export interface Presented {
  origin: string;
  match: Match<LoadedCertificate> | undefined;
  secure: boolean;
  /** The proxy the request went through (without credentials), if any. */
  proxy: string | undefined;
  /** The TLS alerts the slot's sockets received: a request's "other side closed" may have been one. */
  alerts?: AlertLog;
  /** When nothing was presented: why (an entry skipped by R6 is named). Made only for an error. */
  why?: () => string;
}

type Fn = (...args: never[]) => unknown;
type Callbacks = Record<string, Fn | undefined>;

abstract class SlotHandlerBase {
  protected readonly handler: Callbacks;
  readonly #presented: Presented;
  readonly #overH1: (() => boolean) | undefined;
  #load: Load | undefined;
  /** The response has begun: the request can no longer be sent again. */
  protected started = false;

  constructor(handler: Dispatcher.DispatchHandler, presented: Presented, overH1?: () => boolean) {
    this.handler = handler as unknown as Callbacks;
    this.#presented = presented;
    this.#overH1 = overH1;
  }

  /**
   * An HTTP/2 server that answers a stream with HTTP_1_1_REQUIRED (Apache with client
   * authentication per location, for one) gets the request again over HTTP/1.1, as curl does,
   * when nothing of the response has come and the body can be sent again; true when it was.
   */
  protected retried(err: Error): boolean {
    if (this.started || this.#overH1 === undefined || !isHttp11Required(err)) return false;
    this.done();
    return this.#overH1();
  }

  /** Counts this request on `load` until it ends. */
  track(load: Load): void {
    this.#load = load;
    load.inflight++;
  }

  protected done(): void {
    const load = this.#load;
    if (load !== undefined) {
      this.#load = undefined;
      if (--load.inflight === 0) load.onIdle?.();
    }
  }

  protected describe(err: Error): Error {
    const p = this.#presented;
    if (!p.secure) return err;
    // The server's alert, when undici saw only the connection closing after it.
    return describeRequestError(p.alerts?.take(err) ?? err, p.origin, p.match, p.proxy, p.why);
  }
}

/** undici's older handler API (onConnect, onHeaders, onData, onComplete, onError, onUpgrade). */
class LegacySlotHandler extends SlotHandlerBase {
  onConnect(abort: unknown, context: unknown): unknown {
    return this.handler.onConnect?.(abort as never, context as never);
  }

  onResponseStarted(): unknown {
    return this.handler.onResponseStarted?.();
  }

  onHeaders(statusCode: number, headers: unknown, resume: unknown, statusText: string): unknown {
    this.started = true;
    return this.handler.onHeaders?.(statusCode as never, headers as never, resume as never, statusText as never);
  }

  onData(chunk: Buffer): unknown {
    return this.handler.onData?.(chunk as never);
  }

  onBodySent(chunk: unknown): unknown {
    return this.handler.onBodySent?.(chunk as never);
  }

  onRequestSent(): unknown {
    return this.handler.onRequestSent?.();
  }

  onComplete(trailers: unknown): unknown {
    this.done();
    return this.handler.onComplete?.(trailers as never);
  }

  onUpgrade(statusCode: number, headers: unknown, socket: unknown): unknown {
    this.done();
    return this.handler.onUpgrade?.(statusCode as never, headers as never, socket as never);
  }

  onError(err: Error): unknown {
    if (this.retried(err)) return undefined;
    this.done();
    return this.handler.onError?.(this.describe(err) as never);
  }
}

/** undici's newer handler API (onRequestStart ... onResponseEnd, onResponseError). */
class SlotHandler extends SlotHandlerBase {
  onRequestStart(controller: unknown, context: unknown): unknown {
    return this.handler.onRequestStart?.(controller as never, context as never);
  }

  onRequestUpgrade(controller: unknown, statusCode: number, headers: unknown, socket: unknown): unknown {
    this.done();
    return this.handler.onRequestUpgrade?.(controller as never, statusCode as never, headers as never, socket as never);
  }

  onResponseStart(controller: unknown, statusCode: number, headers: unknown, statusMessage: unknown): unknown {
    this.started = true;
    return this.handler.onResponseStart?.(controller as never, statusCode as never, headers as never, statusMessage as never);
  }

  onResponseData(controller: unknown, chunk: unknown): unknown {
    return this.handler.onResponseData?.(controller as never, chunk as never);
  }

  onResponseEnd(controller: unknown, trailers: unknown): unknown {
    this.done();
    return this.handler.onResponseEnd?.(controller as never, trailers as never);
  }

  onResponseError(controller: unknown, err: Error): unknown {
    if (this.retried(err)) return undefined;
    this.done();
    return this.handler.onResponseError?.(controller as never, this.describe(err) as never);
  }
}

export type TrackedHandler = (LegacySlotHandler | SlotHandler) & Dispatcher.DispatchHandler;

/** Wraps a caller's handler in the API it speaks. */
export function slotHandler(handler: Dispatcher.DispatchHandler, presented: Presented, overH1?: () => boolean): TrackedHandler {
  const Kind = typeof (handler as Callbacks).onRequestStart === 'function' ? SlotHandler : LegacySlotHandler;
  return new Kind(handler, presented, overH1) as TrackedHandler;
}

/** The stream error of an HTTP/2 server that wants this request over HTTP/1.1 (RFC 9113 HTTP_1_1_REQUIRED). */
export function isHttp11Required(err: unknown): boolean {
  return err instanceof Error && /HTTP_1_1_REQUIRED/.test(err.message);
}

/** Fails a request before it reaches a connection, through whichever error callback its handler has. */
export function failRequest(handler: Dispatcher.DispatchHandler, err: Error): void {
  const h = handler as Callbacks;
  if (typeof h.onResponseError === 'function') h.onResponseError(null as never, err as never);
  else h.onError?.(err as never);
}
