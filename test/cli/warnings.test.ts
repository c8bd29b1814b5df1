// The grouped validity warnings of `resolve` and `fetch`, at chosen moments (the CLI test runs the
// built command at the real time; expiring-soon needs a clock).
import { describe, expect, it } from 'vitest';
import { groupedWarnings } from '../../src/cli/warnings.js';
import { CertificateStore, loadCertificate } from '../../src/index.js';
import { fixture } from '../helpers.js';

describe('groupedWarnings', () => {
  it('one line per status, naming each entry, and the loader per-entry validity lines left out', async () => {
    const [rsa, ec] = await Promise.all([loadCertificate({ pemFile: fixture('rsa.pem') }), loadCertificate({ pemFile: fixture('ec256.pem') })]);
    const store = new CertificateStore({ expiryWarningDays: 14 });
    store.add({ host: 'a.test', name: 'A', certificate: rsa });
    store.add({ host: 'b.test', certificate: ec });
    const day = 86_400_000;
    const now = new Date(Math.max(rsa.notAfter.getTime(), ec.notAfter.getTime()) - 10 * day - 1000);
    const loaderLines = ['certificates[0] ("A"): The certificate expires in 10 days (2036-01-01T00:00:00.000Z): renew it soon.', 'certificates[1]: an inline passphrase ends up wherever this file goes'];
    const { validity, other } = groupedWarnings(store, loaderLines, 'certs.json', now);
    expect(other).toEqual(['certificates[1]: an inline passphrase ends up wherever this file goes']);
    expect(validity).toHaveLength(1);
    expect(validity[0]).toMatch(/^2 certificates expiring within 14 days: "A" in \d+ days?, cert-2 in \d+ days?; renew them soon \(mtls-resolver inspect --config "certs.json" lists them\)\.$/);
    expect(groupedWarnings(store, [], 'certs.json', new Date(now.getTime() - 365 * day)).validity).toEqual([]);
    expect(groupedWarnings(store, [], 'certs.json', new Date(now.getTime() + 30 * day)).validity).toEqual([expect.stringMatching(/^2 certificates expired \(servers will refuse them\): "A" on .*, cert-2 on /)]);
  });
});
