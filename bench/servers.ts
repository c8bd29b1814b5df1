// The benchmarks' mTLS servers, each in a process of its own (a server in the client's process
// shares its CPU and hides client-side costs): node https (HTTP/1.1), and node:http2 (HTTP/2 with
// HTTP/1.1 allowed). Both require a client certificate from the fixtures' CA, answer "ok", and
// count their new connections (TLS handshakes, or HTTP/2 sessions), asked over IPC.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nginxInstalled, startNginx } from '../test/integration/servers.js';

const SERVER = `
const fs = require('node:fs');
const [dir, kind] = process.argv.slice(1);
const tls = { key: fs.readFileSync(dir + 'server.key'), cert: fs.readFileSync(dir + 'server-chain.pem'), ca: [fs.readFileSync(dir + 'int.crt'), fs.readFileSync(dir + 'ca.crt')], requestCert: true, rejectUnauthorized: true };
let opened = 0;
let server;
if (kind === 'h2') {
  server = require('node:http2').createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => res.end('ok'));
  server.on('session', () => opened++);
  server.on('secureConnection', (socket) => { if (socket.alpnProtocol !== 'h2') opened++; });
} else {
  server = require('node:https').createServer(tls, (req, res) => res.end('ok'));
  server.keepAliveTimeout = 60000;
  server.maxRequestsPerSocket = 0;
  server.on('secureConnection', () => opened++);
}
process.on('message', () => process.send(opened));
process.on('disconnect', () => process.exit(0));
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

export interface ServerProcess {
  url: string;
  /** Connections the server has accepted so far (handshakes; for h2, HTTP/2 sessions and HTTP/1.1 connections). */
  opened(): Promise<number>;
  stop(): void;
}

/** An mTLS server of `kind` in a child process, on 127.0.0.1 (reached as https://localhost:port/). */
export async function spawnServer(dir: string, kind: 'https' | 'h2'): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SERVER, dir, kind], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return {
    url: `https://localhost:${String(chunk).trim()}/`,
    opened: async () => {
      child.send('opened?');
      const [n] = (await once(child, 'message')) as [number];
      return n;
    },
    stop: () => void child.kill(),
  };
}

/** A server of the HTTP/2 benchmarks: node:http2 in a child process, or nginx. */
export interface BenchServer {
  name: string;
  url: string;
  stop(): Promise<void> | void;
}

/**
 * The HTTP/2 benchmarks' servers: node:http2 (HTTP/1.1 allowed) in a child process, and nginx 1.22
 * (`ssl_verify_client on`, http2) when it is installed, as in the interop tests.
 */
export async function h2Servers(dir: string): Promise<BenchServer[]> {
  const servers: BenchServer[] = [];
  const node = await spawnServer(dir, 'h2');
  servers.push({ name: 'node:http2 (child process)', url: node.url, stop: () => node.stop() });
  if (nginxInstalled()) {
    const nginx = await startNginx(dir);
    if (nginx !== undefined) servers.push({ name: 'nginx', url: `https://localhost:${nginx.port}/`, stop: () => nginx.close() });
  }
  return servers;
}

/** undici 8 from .tmp/undici8 (`.ci/run` installs it) on Node 22.19 and later, as a second baseline; else undefined. */
export async function undici8Baseline(): Promise<typeof import('undici') | undefined> {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const path = join(process.cwd(), '.tmp', 'undici8', 'node_modules', 'undici', 'index.js');
  if (!existsSync(path) || major < 22 || (major === 22 && minor < 19)) return undefined;
  return (await import(pathToFileURL(path).href)) as typeof import('undici');
}
