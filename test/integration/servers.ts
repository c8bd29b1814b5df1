// Real TLS peers on 127.0.0.1 that report which client certificate they received: a node https
// server with requestCert, and `openssl s_server -Verify` (a peer we did not write).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { connect as connectTcp, createServer as createNetServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fixture, readFixture } from '../helpers.js';

export interface Received {
  /** SHA-256 fingerprint of the client certificate the server received, or null. */
  fingerprint256: string | null;
  subject: string | null;
  authorized: boolean;
  servername: string | null;
  path: string;
  /** The address the connection came from (a proxy that binds its outgoing side shows here). */
  remoteAddress: string | null;
  /** The TLS version negotiated (`TLSv1.3`, `TLSv1.2`). */
  protocol?: string | null;
}

export interface TestServer {
  port: number;
  url(host?: string, path?: string): string;
  /** TLS handshakes completed (secureConnection events). */
  handshakes(): number;
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse, received: Received) => boolean;

/** An https server that answers every request with the client certificate it received, as JSON. */
export async function startMtlsServer(options: { rejectUnauthorized?: boolean; trust?: Buffer[]; route?: Route; delayMs?: number; identity?: { key: Buffer; cert: Buffer } } = {}): Promise<TestServer> {
  let handshakes = 0;
  const server: Server = createHttpsServer(
    {
      key: options.identity?.key ?? readFixture('server.key'),
      cert: options.identity?.cert ?? readFixture('server-chain.pem'),
      ca: options.trust ?? [readFixture('int.crt'), readFixture('ca.crt')],
      requestCert: true,
      rejectUnauthorized: options.rejectUnauthorized ?? false,
      keepAliveTimeout: 30_000,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerX509Certificate?.();
      const received: Received = {
        fingerprint256: peer?.fingerprint256 ?? null,
        subject: peer?.subject.split('\n').join(', ') ?? null,
        authorized: socket.authorized,
        servername: (socket as TLSSocket & { servername?: string | false }).servername || null,
        path: req.url ?? '/',
        remoteAddress: socket.remoteAddress ?? null,
        protocol: socket.getProtocol?.() ?? null,
      };
      if (options.route?.(req, res, received)) return;
      const reply = () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(received));
      };
      if (options.delayMs) setTimeout(reply, options.delayMs);
      else reply();
    },
  );
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: (host = 'localhost', path = '/') => `https://${host}:${port}${path}`,
    handshakes: () => handshakes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A plain http server answering { tls: false }. */
export async function startHttpServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server: HttpServer = createHttpServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ tls: false, path: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Resolves every name to 127.0.0.1, so that tests can use real host names. */
export const lookup: LookupFunction = (_hostname, options, callback) => {
  const cb = callback as (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;
  if ((options as { all?: boolean }).all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

export function fingerprintOf(name: string): string {
  return new X509Certificate(readFixture(name)).fingerprint256;
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface OpensslServer {
  port: number;
  close(): Promise<void>;
}

/** The client certificate subject on an `s_server -www` status page (it lists what it received). */
export function clientSubjectOnPage(page: string): string | null {
  return /Client certificate[\s\S]*?Subject: (.*)\n/.exec(page)?.[1]?.trim() ?? null;
}

/** `openssl s_server -Verify 2 -verify_return_error -www`: requires and verifies a client certificate. */
export async function startOpensslServer(options: { tls?: '1.2' | '1.3' } = {}): Promise<OpensslServer> {
  const port = await freePort();
  const version = options.tls === undefined ? [] : [options.tls === '1.2' ? '-tls1_2' : '-tls1_3'];
  const child: ChildProcess = spawn(
    'openssl',
    ['s_server', '-accept', String(port), ...version, '-cert', fixture('server.crt'), '-key', fixture('server.key'), '-cert_chain', fixture('int.crt'), '-CAfile', fixture('ca.crt'), '-Verify', '2', '-verify_return_error', '-www'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENSSL_CONF: '/dev/null' } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!out.includes('ACCEPT')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`openssl s_server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    close: () => stopChild(child),
  };
}

export interface H2Server extends TestServer {
  /** HTTP/2 sessions (connections) opened so far. */
  sessions(): number;
}

/**
 * `node:http2` secure server that requires HTTP/2 (no HTTP/1.1 fallback, so a client that does not
 * offer h2 by ALPN is refused) and answers with the client certificate it received, the HTTP
 * version and the session's number.
 */
export async function startH2Server(options: { allowHTTP1?: boolean } = {}): Promise<H2Server> {
  const { createSecureServer } = await import('node:http2');
  let sessions = 0;
  const numbers = new WeakMap<object, number>();
  const server = createSecureServer({
    key: readFixture('server.key'),
    cert: readFixture('server-chain.pem'),
    ca: [readFixture('int.crt'), readFixture('ca.crt')],
    requestCert: true,
    rejectUnauthorized: false,
    allowHTTP1: options.allowHTTP1 ?? false,
  });
  server.on('session', (session) => numbers.set(session, ++sessions));
  server.on('request', (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerX509Certificate?.();
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        fingerprint256: peer?.fingerprint256 ?? null,
        subject: peer?.subject.split('\n').join(', ') ?? null,
        authorized: socket.authorized,
        httpVersion: req.httpVersion,
        session: req.stream?.session === undefined ? null : (numbers.get(req.stream.session) ?? null),
        path: req.url,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const open = new Set<{ destroy(): void }>();
  server.on('session', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  server.on('secureConnection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  return {
    port,
    url: (host = 'localhost', path = '/') => `https://${host}:${port}${path}`,
    handshakes: () => sessions,
    sessions: () => sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A route for startMtlsServer that answers with the method, content type and body it received. */
export const echoRoute: Route = (req, res, received) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ...received, method: req.method, contentType: req.headers['content-type'] ?? null, body: Buffer.concat(chunks).toString('utf8') }));
  });
  return true;
};

/** A `wss://` server (the `ws` package on an https server with requestCert) that sends the client certificate it received. */
export async function startWsServer(): Promise<TestServer> {
  const { WebSocketServer } = await import('ws');
  let handshakes = 0;
  const server: Server = createHttpsServer({
    key: readFixture('server.key'),
    cert: readFixture('server-chain.pem'),
    ca: [readFixture('int.crt'), readFixture('ca.crt')],
    requestCert: true,
    rejectUnauthorized: false,
  });
  server.on('secureConnection', () => handshakes++);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate?.();
    ws.send(JSON.stringify({ fingerprint256: peer?.fingerprint256 ?? null, subject: peer?.subject.split('\n').join(', ') ?? null, path: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: (host = 'localhost', path = '/') => `wss://${host}:${port}${path}`,
    handshakes: () => handshakes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestProxy {
  url: string;
  /** CONNECT requests received, as `host:port`. */
  connects: string[];
  /** For a TLS proxy: the fingerprint of each client certificate it received on a connection (null for none). */
  clientCertificates: Array<string | null>;
  close(): Promise<void>;
}

/**
 * The `proxy` npm package on a node http server (or an https server that requests client
 * certificates, for the HTTPS-proxy case), optionally with Basic credentials.
 */
export async function startNodeProxy(options: { tls?: boolean; auth?: { user: string; password: string } } = {}): Promise<TestProxy> {
  const { createProxy } = await import('proxy');
  const connects: string[] = [];
  const clientCertificates: Array<string | null> = [];
  const base = options.tls
    ? createHttpsServer({ key: readFixture('server.key'), cert: readFixture('server-chain.pem'), ca: [readFixture('int.crt'), readFixture('ca.crt')], requestCert: true, rejectUnauthorized: false })
    : createHttpServer();
  if (options.tls) base.on('secureConnection', (s: TLSSocket) => clientCertificates.push(s.getPeerX509Certificate?.()?.fingerprint256 ?? null));
  base.prependListener('connect', (req: IncomingMessage) => connects.push(req.url ?? ''));
  const proxy = createProxy(base as HttpServer);
  if (options.auth) {
    const expected = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`;
    proxy.authenticate = (req) => req.headers['proxy-authorization'] === expected;
  }
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as { port: number }).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://localhost:${port}`,
    connects,
    clientCertificates,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

/** tinyproxy from the system packages (a proxy nobody here wrote), or undefined where it is not installed. */
export async function startTinyproxy(dir: string): Promise<(TestProxy & { log(): string }) | undefined> {
  const { existsSync, readFileSync, writeFileSync } = await import('node:fs');
  const binary = await findBinary('tinyproxy');
  if (binary === undefined) return undefined;
  const port = await freePort();
  const conf = `${dir}/tinyproxy-${port}.conf`;
  const log = `${dir}/tinyproxy-${port}.log`;
  // No ConnectPort line: CONNECT to any port (the test servers' ports are random).
  writeFileSync(conf, `Port ${port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 200\nLogLevel Connect\nLogFile "${log}"\nAllow 127.0.0.1\n`);
  const child = spawn(binary, ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForPort(port, child, 'tinyproxy');
  const read = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  return {
    url: `http://127.0.0.1:${port}`,
    get connects() {
      return [...read().matchAll(/\): CONNECT ([^ ]+) HTTP\//g)].map((m) => m[1]!);
    },
    clientCertificates: [],
    log: read,
    close: () => stopChild(child),
  };
}

/** A route for startMtlsServer that answers with what it received and closes the connection: many origins, no idle sockets. */
export const closingRoute: Route = (_req, res, received) => {
  res.setHeader('connection', 'close');
  res.end(JSON.stringify(received));
  return true;
};

/** A route for startMtlsServer that answers with the certificate and the request headers it received. */
export const headersRoute: Route = (req, res, received) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ...received, headers: req.headers }));
  return true;
};

/**
 * microsocks from the system packages (a SOCKS5 server nobody here wrote), or undefined where it is
 * not installed. Its outgoing connections leave from 127.0.0.2, so a target can tell that a
 * connection came through it (`Received.remoteAddress`).
 */
export async function startMicrosocks(auth?: { user: string; password: string }): Promise<{ port: number; url: string; close(): Promise<void> } | undefined> {
  const binary = await findBinary('microsocks');
  if (binary === undefined) return undefined;
  const port = await freePort();
  const args = ['-i', '127.0.0.1', '-p', String(port), '-b', '127.0.0.2', ...(auth === undefined ? [] : ['-u', auth.user, '-P', auth.password])];
  const child = spawn(binary, args, { stdio: 'ignore' });
  await waitForPort(port, child, 'microsocks');
  return {
    port,
    url: `socks5h://127.0.0.1:${port}`,
    close: () => stopChild(child),
  };
}

/** Resolves once something listens on 127.0.0.1:port; throws if `child` exits first or after 10 s. */
async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connectTcp(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start (exit ${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The path of a system command, or undefined where it is not installed. */
async function findBinary(name: string): Promise<string | undefined> {
  const { execFileSync } = await import('node:child_process');
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Kills a child process and waits for it to exit. */
async function stopChild(child: ChildProcess): Promise<void> {
  child.kill();
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
}

/** A server run as a child process (Apache httpd, nginx). */
export interface DaemonServer {
  port: number;
  close(): Promise<void>;
}
export type ApacheServer = DaemonServer;

/**
 * Apache httpd (mod_ssl, mod_http2) asking for a client certificate only under /secure, after the
 * handshake (`SSLVerifyClient require` inside a `<Location>`): renegotiation with TLS 1.2,
 * post-handshake authentication with TLS 1.3, HTTP_1_1_REQUIRED on HTTP/2. /secure answers with
 * the client certificate's CN in `x-client-cn`. Undefined where apache2 is not installed.
 */
export async function startApache(options: { tls: '1.2' | '1.2+1.3'; h2: boolean }): Promise<ApacheServer | undefined> {
  const modules = '/usr/lib/apache2/modules';
  const binary = ['/usr/sbin/apache2', '/usr/sbin/httpd'].find((b) => existsSync(b));
  if (binary === undefined || !existsSync(`${modules}/mod_ssl.so`)) return undefined;
  const { mkdtempSync, mkdirSync, writeFileSync, chmodSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'mtls-apache-'));
  mkdirSync(join(dir, 'docs', 'secure'), { recursive: true });
  writeFileSync(join(dir, 'docs', 'secure', 'ok.txt'), 'ok\n');
  for (const d of [dir, join(dir, 'docs'), join(dir, 'docs', 'secure')]) chmodSync(d, 0o755); // read by the server's own user
  const port = await freePort();
  const conf = join(dir, 'httpd.conf');
  writeFileSync(
    conf,
    [
      `ServerRoot "${dir}"`,
      `Listen 127.0.0.1:${port}`,
      `PidFile ${dir}/httpd.pid`,
      `ErrorLog ${dir}/error.log`,
      'User daemon',
      'Group daemon',
      ...['mpm_event', 'authz_core', 'ssl', 'http2', 'headers'].map((m) => `LoadModule ${m}_module ${modules}/mod_${m}.so`),
      'ServerName localhost',
      `DocumentRoot ${dir}/docs`,
      `<Directory ${dir}/docs>`,
      '  Require all granted',
      '</Directory>',
      `<VirtualHost 127.0.0.1:${port}>`,
      '  SSLEngine on',
      `  SSLProtocol -all ${options.tls === '1.2' ? '+TLSv1.2' : '+TLSv1.2 +TLSv1.3'}`,
      `  SSLCertificateFile ${fixture('server.crt')}`,
      `  SSLCertificateKeyFile ${fixture('server.key')}`,
      `  SSLCertificateChainFile ${fixture('int.crt')}`,
      `  SSLCACertificateFile ${fixture('ca.crt')}`,
      `  Protocols ${options.h2 ? 'h2 ' : ''}http/1.1`,
      '  <Location "/secure">',
      '    SSLVerifyClient require',
      '    SSLVerifyDepth 3',
      '    Header always set X-Client-CN "%{SSL_CLIENT_S_DN_CN}s"',
      '  </Location>',
      '</VirtualHost>',
      '',
    ].join('\n'),
  );
  return startDaemon('apache2', spawn(binary, ['-f', conf, '-DFOREGROUND'], { stdio: ['ignore', 'pipe', 'pipe'] }), port);
}

/** A server run in the foreground, ready when its port accepts connections. */
async function startDaemon(name: string, child: ChildProcess, port: number): Promise<DaemonServer> {
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, close: () => stopChild(child) };
}

const nginxBinary = (): string | undefined => ['/usr/sbin/nginx', '/usr/bin/nginx'].find((b) => existsSync(b));
export const nginxInstalled = (): boolean => nginxBinary() !== undefined;

/**
 * nginx with `ssl_verify_client on` (a peer we did not write; the Debian package, installed by
 * .ci/run): it completes the handshake whatever the client sends and answers 400 ("No required
 * SSL certificate was sent", "The SSL certificate error"), no TLS alert. A request it accepts
 * gets the client's subject in the body and `x-client-verify`. Undefined where nginx is not
 * installed.
 */
export async function startNginx(fixtures?: string): Promise<DaemonServer | undefined> {
  const file = (name: string) => (fixtures === undefined ? fixture(name) : join(fixtures, name));
  const binary = nginxBinary();
  if (binary === undefined) return undefined;
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'mtls-nginx-'));
  writeFileSync(join(dir, 'server-chain.crt'), Buffer.concat([readFileSync(file('server.crt')), readFileSync(file('int.crt'))]));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log info;`,
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
      '  server {',
      `    listen 127.0.0.1:${port} ssl http2;`,
      '    ssl_protocols TLSv1.2 TLSv1.3;',
      `    ssl_certificate ${dir}/server-chain.crt;`,
      `    ssl_certificate_key ${file('server.key')};`,
      `    ssl_client_certificate ${file('ca.crt')};`,
      '    ssl_verify_client on;',
      '    ssl_verify_depth 3;',
      '    keepalive_requests 1000000;', // no GOAWAY after 1,000 requests (the benchmarks send more)
      '    location / {',
      '      add_header X-Client-Verify $ssl_client_verify always;',
      '      return 200 "$ssl_client_s_dn\\n";',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  return startDaemon('nginx', spawn(binary, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] }), port);
}
