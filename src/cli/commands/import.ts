// `import`: a Postman/Newman, Bruno, Insomnia, Playwright, Cypress or k6 setup as certs.json.
import { dirname } from 'node:path';
import { parseJsonFile } from '../../config/read.js';
import { convertBrunoConfig, convertCypressCertificates, convertInsomniaCertificates, convertK6TlsAuth, convertNewmanCertList, convertPlaywrightCertificates } from '../../import/index.js';
import { UsageError, type Command } from '../command.js';

export const importCommand: Command = {
    summary: 'turn a Postman/Newman, Bruno, Insomnia, Playwright, Cypress or k6 certificate setup into certs.json',
    usage:
      'mtls-resolver import --from postman|newman|bruno|insomnia|playwright|cypress|k6 <file> [--base-dir DIR] [--material-dir DIR]\n\n' +
      'The file, as JSON, by --from:\n' +
      '  postman, newman  a client certificate list ([{ name, matches, key, cert, passphrase }], Newman\'s --ssl-client-cert-list)\n' +
      '  bruno            bruno.json (its clientCertificates)\n' +
      '  insomnia         an Insomnia export (resources of _type client_certificate) or a list of them\n' +
      '  playwright       the clientCertificates array of a Playwright config\n' +
      '  cypress          the clientCertificates array of a Cypress config\n' +
      '  k6               the tlsAuth array of k6 options\n' +
      'Paths in the file are read relative to --base-dir (default: the file\'s directory); certificates given inline are written to --material-dir (0600 files). Notes on what changed go to stderr.',
    example: 'mtls-resolver import --from newman client-certs.json > certs.json',
    options: { from: { type: 'string' }, 'base-dir': { type: 'string' }, 'material-dir': { type: 'string' } },
    async run([file, ...rest], values, io) {
      if (file === undefined || rest.length > 0) throw new UsageError('import takes one file');
      // postman: a Postman/Newman client certificate list (Newman's --ssl-client-cert-list);
      // playwright, cypress, k6: their clientCertificates / tlsAuth as JSON
      const converters = new Map([
        ['postman', convertNewmanCertList],
        ['newman', convertNewmanCertList],
        ['bruno', convertBrunoConfig],
        ['insomnia', convertInsomniaCertificates],
        ['playwright', convertPlaywrightCertificates],
        ['cypress', convertCypressCertificates],
        ['k6', convertK6TlsAuth],
      ]);
      const convert = converters.get(values.from as string);
      if (convert === undefined) throw new UsageError('--from must be postman, newman, bruno, insomnia, playwright, cypress or k6');
      const input = parseJsonFile(file, 'file to import');
      const materialDir = values['material-dir'] as string | undefined;
      const { config, notes } = convert(input, {
        baseDir: (values['base-dir'] as string | undefined) ?? dirname(file),
        ...(materialDir === undefined ? {} : { materialDir }),
      });
      for (const n of notes) io.err.write(`note: ${n}\n`);
      io.out.write(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    },
  };
