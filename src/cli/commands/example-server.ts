// `example-server`: what the shipped examples need, from an installed package: a demo CA, a server
// certificate and client certificates written by the OpenSSL CLI (the fixture script the tests use),
// and an mTLS server on localhost that answers with the client certificate it received.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import { resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { UsageError, type Command } from '../command.js';

/** The fixture script, beside dist/ in the package (and in the repository). */
function fixtureScript(): string {
  for (const candidate of ['../test/fixtures/make-fixtures.sh', '../../../test/fixtures/make-fixtures.sh']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new UsageError('the fixture script (test/fixtures/make-fixtures.sh) is not in this installation');
}

export const exampleServerCommand: Command = {
  summary: 'write a demo CA and client certificates for the examples, and run an mTLS server that says which certificate it received',
  usage: 'mtls-resolver example-server [--dir ./certs] [--port 8443]\n\nWrites ca.crt, server and client certificates (rsa, ec256, ec384, ed25519: .crt, .key, .pem, .pfx with the password "correct horse") into --dir with the OpenSSL CLI, then serves https://localhost:PORT/ (HTTP/1.1 and HTTP/2), requiring a client certificate from that CA and answering { subject, fingerprint256, protocol } as JSON. Stop it with Ctrl-C. The examples in the package read the same directory: EXAMPLE_DIR=./certs/ EXAMPLE_URL=https://localhost:8443/.',
  example: 'mtls-resolver example-server --dir ./certs --port 8443\n  EXAMPLE_DIR=./certs/ npx tsx node_modules/mtls-resolver/examples/fetch.ts',
  options: { dir: { type: 'string' }, port: { type: 'string' } },
  async run(positionals, values, io) {
    if (positionals.length > 0) throw new UsageError('example-server takes no arguments');
    const dir = resolve((values.dir as string | undefined) ?? 'certs');
    const port = Number((values.port as string | undefined) ?? 8443);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a port number (0 picks a free one)');
    if (!existsSync(`${dir}/ca.crt`)) {
      mkdirSync(dir, { recursive: true });
      io.err.write(`writing certificates into ${dir} (OpenSSL CLI)...\n`);
      try {
        await promisify(execFile)('bash', [fixtureScript(), `${dir}/`], { timeout: 300_000 });
      } catch (err) {
        throw new UsageError(`the certificates could not be made (this needs bash and the openssl command): ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const read = (name: string) => readFileSync(`${dir}/${name}`);
    const server = createSecureServer(
      { allowHTTP1: true, key: read('server.key'), cert: read('server-chain.pem'), ca: [read('int.crt'), read('ca.crt')], requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.getPeerX509Certificate?.();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ subject: peer?.subject.split('\n').join(', ') ?? null, fingerprint256: peer?.fingerprint256 ?? null, protocol: req.httpVersion === '2.0' ? 'h2' : 'http/1.1', path: req.url }));
      },
    );
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', ok);
    });
    const actual = (server.address() as { port: number }).port;
    io.out.write(`listening on https://localhost:${actual}/ (certificates in ${dir}/)\n`);
    await new Promise<void>((done) => {
      const stop = () => server.close(() => done());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
