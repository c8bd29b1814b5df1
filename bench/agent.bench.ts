// createHttpsAgent's getName(options) called outside a request (as libraries and pool lookups do)
// against Node's own https.Agent getName with the same options, in interleaved rounds.
import * as https from 'node:https';
import { CertificateStore, createHttpsAgent, loadCertificate } from '../src/index.js';
import { fixtures } from './loader.bench.js';
import { formatNs, median, table, timePerCall } from './util.js';

export async function runAgentBench(rounds = 9, calls = 200_000): Promise<string> {
  const dir = fixtures();
  const store = new CertificateStore();
  store.add({ host: 'api.acme.test', certificate: await loadCertificate({ pemFile: `${dir}rsa.pem` }) });
  store.add({ host: '*.acme.test', port: 8443, certificate: await loadCertificate({ pemFile: `${dir}ec256.pem` }) });
  const ours = createHttpsAgent(store);
  const node = new https.Agent({ keepAlive: true });
  const cases: Array<[string, https.RequestOptions]> = [
    ['exact entry', { host: 'api.acme.test', port: 443, servername: 'api.acme.test' }],
    ['glob entry, port 8443', { host: 'x.acme.test', port: 8443 }],
    ['no entry', { host: 'other.test', port: 443 }],
  ];
  const rows = [['getName outside a request', 'Node https.Agent', 'createHttpsAgent', 'ratio']];
  try {
    for (const [name, options] of cases) {
      const base: number[] = [];
      const mine: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? [base, mine] : [mine, base];
        for (const into of order) into.push(timePerCall(calls, () => (into === base ? node : ours).getName(options)));
      }
      const [b, m] = [median(base), median(mine)];
      rows.push([name, formatNs(b), formatNs(m), `${(m / b).toFixed(2)}×`]);
    }
  } finally {
    ours.destroy();
    node.destroy();
  }
  return `https agent pool names (median of ${rounds} interleaved rounds of ${calls.toLocaleString('en')} calls)\n${table(rows)}`;
}
