// What a server said when it refused a client certificate: the TLS alert, in its RFC 8446 name,
// what it means and what to do. With TLS 1.3 the server judges the certificate after the client's
// handshake is done, so its alert comes on the first read: undici's HTTP/1.1 client reports that
// read as "other side closed", and the alert only reaches the socket's own 'error' listeners.
// A slot keeps the alerts its sockets received (AlertLog) so that the request's error can say it.

/** A TLS alert a server sent, and what to tell the user. */
export interface ServerAlert {
  /** RFC 8446 name: `unknown_ca`, `certificate_required`, ... */
  name: string;
  meaning: string;
  advice: string;
}

const ALERTS: Record<string, { meaning: string; advice: string }> = {
  unknown_ca: {
    meaning: 'the server does not trust the issuer of the certificate presented',
    advice: 'Send the chain (a PEM with the intermediate certificates after the leaf, or a PFX exported with -certfile chain.pem), or check that this is the certificate this server expects (its issuer must be one the server trusts).',
  },
  certificate_required: {
    meaning: 'the server requires a client certificate and none was presented',
    advice: 'Add an entry for this host and port (store.explain(url) or `mtls-resolver resolve <url>` shows why none was chosen).',
  },
  bad_certificate: {
    meaning: 'the server could not use the certificate presented',
    advice: 'It may be damaged, not issued for client authentication (its extended key usage lacks clientAuth: `mtls-resolver inspect` shows it), or its signature does not verify.',
  },
  certificate_expired: {
    meaning: 'the server says the certificate presented (or one in its chain) has expired',
    advice: 'Renew it; `mtls-resolver inspect` shows its dates and those of its chain.',
  },
  certificate_revoked: {
    meaning: 'the server says the certificate presented has been revoked',
    advice: 'Get a new certificate from its issuer.',
  },
  certificate_unknown: {
    meaning: 'the server refused the certificate presented without naming a reason',
    advice: "Check the server's log; the usual reasons are an untrusted issuer, a missing chain and an expired certificate.",
  },
  unsupported_certificate: {
    meaning: 'the server does not accept this type of certificate',
    advice: 'Its key type or extensions are not supported there: try an RSA or EC P-256 certificate.',
  },
  access_denied: {
    meaning: 'the server verified the certificate but does not let it in',
    advice: 'The certificate is valid but not authorized on this server: ask its owner to allow this subject, or present another certificate.',
  },
  handshake_failure: {
    meaning: 'the server ended the handshake',
    advice: 'No protocol or cipher in common, or the server refused the certificate without saying why (some servers answer a missing or wrong certificate this way).',
  },
  decrypt_error: {
    meaning: 'the server could not verify the handshake signature',
    advice: 'The key may not be the one of the certificate presented, or the server does not support its signature algorithm.',
  },
  protocol_version: {
    meaning: 'the server does not accept the TLS version offered',
    advice: 'The server and this client share no TLS version (Node offers TLS 1.2 and 1.3 by default).',
  },
};

/** The alert an error of a TLS socket carries (its code, or the text OpenSSL gave it), if any. */
export function serverAlert(err: unknown): ServerAlert | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  let name: string | undefined;
  // OpenSSL 3.0 (Node 20) says "sslv3 alert ...", 3.2+ (Node 22+) "ssl/tls alert ..."; "tlsv1" and "tlsv13" for the newer alerts.
  const byCode = typeof code === 'string' ? /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_([A-Z_]+)$/.exec(code) : null;
  if (byCode !== null) name = byCode[1]!.toLowerCase();
  else {
    const byText = /(?:sslv3|tlsv1|tlsv13|ssl\/tls) alert ([a-z ]+?)(?::|$|\s*\()/.exec(message);
    if (byText !== null) name = byText[1]!.trim().replace(/ /g, '_');
  }
  if (name === undefined) return undefined;
  const known = ALERTS[name];
  return known === undefined ? { name, meaning: `the server sent the TLS alert ${name}`, advice: "Check the server's log for why." } : { name, ...known };
}

/** The TLS alerts a slot's sockets received, by local port, until a request's error claims one. */
export class AlertLog {
  readonly #byPort = new Map<number, Error>();

  /** Listens for what `socket` receives: a TLS alert is kept (at most 16, the oldest dropped). */
  watch(socket: { localPort?: number; on(event: 'error', listener: (err: Error) => void): unknown }): void {
    socket.on('error', (err) => {
      const port = socket.localPort;
      if (port === undefined || serverAlert(err) === undefined) return;
      this.#byPort.set(port, err);
      if (this.#byPort.size > 16) this.#byPort.delete(this.#byPort.keys().next().value!);
    });
  }

  /** The alert received by the socket an error of undici names (`err.socket.localPort`), once. */
  take(err: unknown): Error | undefined {
    const port = (err as { socket?: { localPort?: unknown } } | null)?.socket?.localPort;
    if (typeof port !== 'number') return undefined;
    const alert = this.#byPort.get(port);
    this.#byPort.delete(port);
    return alert;
  }
}
