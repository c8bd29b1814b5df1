// Which certificate would each request present? A resolver over a Postman-like certificate
// list, printed as a table with the reason for each choice. Run: npm run demo
import { createResolver, type CertificateEntry } from 'mtls-resolver/resolver';

const now = new Date('2026-06-01T00:00:00Z');
const entries: CertificateEntry<string>[] = [
  { id: 'acme-wild', name: 'ACME wildcard', host: '*.acme.com', order: 1, certificate: 'acme-wild.pem' },
  { id: 'acme-api', name: 'ACME API', host: 'api.acme.com', order: 2, certificate: 'acme-api.pem' },
  { id: 'acme-admin', name: 'ACME admin port', host: 'api.acme.com', port: 8443, order: 3, certificate: 'acme-admin.pfx' },
  { id: 'acme-old', name: 'ACME old', host: 'legacy.acme.com', order: 4, notAfter: new Date('2026-01-01T00:00:00Z'), certificate: 'old.pem' },
  { id: 'lab', name: 'Lab, any port', host: 'localhost', port: '*', order: 5, certificate: 'lab.pem' },
  { id: 'company', name: 'Company default', host: 'partner.example', primary: true, order: 6, certificate: 'company.pem' },
];

const resolver = createResolver(entries);
const urls = [
  'https://api.acme.com/v1/orders',
  'https://API.ACME.COM.:8443/admin',
  'https://shop.acme.com/',
  'https://legacy.acme.com/',
  'https://acme.com/',
  'https://api.acme.com.evil.test/',
  'http://api.acme.com/',
  'https://localhost:3000/',
  'https://unknown.test/',
];

const rows = urls.map((url) => {
  const match = resolver.resolve(url, { now, fallbackToPrimary: url.includes('unknown') });
  return [url, match?.entry.name ?? '(none)', match?.kind ?? '', match?.reason ?? whyNone(url)];
});

function whyNone(url: string): string {
  const { candidates } = resolver.explain(url, { now });
  if (url.startsWith('http:')) return candidates[0]!.reason;
  const helpful = candidates.find((c) => c.verdict === 'skipped' || /itself|port/.test(c.reason));
  return helpful?.reason ?? 'no entry matches this host and port';
}

const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length), 8));
console.log(['URL'.padEnd(widths[0]!), 'certificate'.padEnd(widths[1]!), 'kind'.padEnd(widths[2]!), 'why'].join('  '));
for (const r of rows) console.log([r[0]!.padEnd(widths[0]!), r[1]!.padEnd(widths[1]!), r[2]!.padEnd(widths[2]!), r[3]].join('  '));
