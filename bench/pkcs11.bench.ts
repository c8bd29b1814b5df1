// Keys on a token (SoftHSM2) against keys in memory, with the server in its own process: the cost
// of a new TLS connection (a handshake: the token signs), and requests over keep-alive (no
// signature per request, so no difference expected). SoftHSM is a software token: this measures
// the engine's path, not a real card's speed.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type SecureContext } from 'node:tls';
import { CertificateStore, createFetch, loadCaBundle, loadCertificate, type LoadedCertificate } from '../src/index.js';
import { secureContextFor } from '../src/adapter/contexts.js';
import { Trust } from '../src/adapter/trust.js';
import { makeSoftHsmToken, softHsmMissing } from '../test/softhsm.js';
import { throughput } from './adapter.bench.js';
import { fixtures } from './loader.bench.js';
import { formatNs, median, table } from './util.js';

/** An https server that requires a client certificate from the test CA, in a child process. */
async function startServerProcess(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const script = `
    const fs = require('node:fs'), https = require('node:https');
    const d = ${JSON.stringify(dir)};
    const server = https.createServer({ key: fs.readFileSync(d + 'server.key'), cert: fs.readFileSync(d + 'server-chain.pem'), ca: [fs.readFileSync(d + 'int.crt'), fs.readFileSync(d + 'ca.crt')], requestCert: true, rejectUnauthorized: true }, (req, res) => res.end('ok'));
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { port: Number(chunk.toString().trim()), child };
}

/** ns per TLS handshake (connect, handshake, close), sequential. */
async function handshakes(port: number, context: SecureContext, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: context });
    await once(socket, 'secureConnect');
    socket.destroy();
  }
  return Number(process.hrtime.bigint() - start) / count;
}

export async function runPkcs11Bench(rounds = 5): Promise<string> {
  const missing = softHsmMissing();
  if (missing !== undefined) return `pkcs11: skipped, not installed here: ${missing}`;
  const dir = fixtures();
  const token = makeSoftHsmToken('mtls-bench', dir);
  const ca = loadCaBundle({ file: `${dir}ca.crt` });
  const trust = Trust.of(ca, {});
  const load = (label: string) => loadCertificate({ certFile: token.chainFile(label), key: token.uri(label), pin: token.pin });
  const pairs: Array<[string, LoadedCertificate, LoadedCertificate]> = [
    ['RSA 2048', await load('rsa'), await loadCertificate({ pemFile: `${dir}rsa.pem` })],
    ['EC P-256', await load('ec'), await loadCertificate({ pemFile: `${dir}ec256.pem` })],
  ];
  const { port, child } = await startServerProcess(dir);
  const rows: string[][] = [['case', 'in memory', 'on the token', 'token / memory']];
  try {
    for (const [name, onToken, inMemory] of pairs) {
      const contexts = [secureContextFor(inMemory, trust), secureContextFor(onToken, trust)] as const;
      const hs: [number[], number[]] = [[], []];
      for (const c of contexts) await handshakes(port, c, 20); // warm up
      for (let r = 0; r < rounds; r++) for (const [i, c] of contexts.entries()) hs[i]!.push(await handshakes(port, c, 100));
      rows.push([`${name}: new connection (handshake)`, formatNs(median(hs[0])), formatNs(median(hs[1])), `${(median(hs[1]) / median(hs[0])).toFixed(2)}×`]);

      const fetches = [inMemory, onToken].map((certificate) => {
        const store = new CertificateStore({ ca });
        store.add({ host: 'localhost', port: '*', certificate });
        return createFetch(store);
      });
      const url = `https://localhost:${port}/`;
      const one = (f: (typeof fetches)[number]) => async () => void (await (await f(url)).text());
      const kept: [number[], number[]] = [[], []];
      for (const f of fetches) await throughput(8, 200, one(f));
      for (let r = 0; r < rounds; r++) for (const [i, f] of fetches.entries()) kept[i]!.push(await throughput(8, 2000, one(f)));
      rows.push([`${name}: request over keep-alive (createFetch, c=8)`, formatNs(median(kept[0])), formatNs(median(kept[1])), `${(median(kept[1]) / median(kept[0])).toFixed(2)}×`]);
      await Promise.all(fetches.map((f) => f.close()));
    }
  } finally {
    child.kill();
  }
  return `pkcs11 (SoftHSM2 token against the same key type in memory; server in its own process; medians of ${rounds} interleaved rounds)\n${table(rows)}`;
}
