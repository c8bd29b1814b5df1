// `resolve`: which certificate a URL gets, and every other entry's verdict and reason.
import type { LoadedCertificate } from '../../loader/types.js';
import type { Explanation } from '../../resolver/types.js';
import { UsageError, storeFrom, summaryJson, type Command } from '../command.js';
import { cliWords } from '../advice.js';
import { styleFor } from '../output.js';
import { groupedWarnings } from '../warnings.js';

function explanationJson(ex: Explanation<LoadedCertificate>): unknown {
  const entry = (e: Explanation<LoadedCertificate>['candidates'][number]['entry']) => ({
    id: e.id,
    name: e.name,
    host: e.host,
    port: e.port,
    primary: e.primary === true,
    order: e.order,
    certificate: { ...summaryJson(e.certificate), status: e.certificate.status },
  });
  return {
    target: ex.target,
    chosen: ex.chosen === undefined ? null : { entry: entry(ex.chosen.entry), kind: ex.chosen.kind, reason: ex.chosen.reason },
    candidates: ex.candidates.map((c) => ({ entry: entry(c.entry), verdict: c.verdict, reason: c.reason })),
  };
}

export const resolveCommand: Command = {
    summary: 'show which certificate a URL gets, and why every other one won, lost or was skipped',
    usage: 'mtls-resolver resolve <url> --config certs.json [--select <id|name>] [--fallback-to-primary] [--include-expired] [--json]',
    example: 'mtls-resolver resolve https://api.acme.com:8443/v1 --config certs.json',
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, select: { type: 'string' }, 'fallback-to-primary': { type: 'boolean' }, 'include-expired': { type: 'boolean' } },
    async run([url, ...rest], values, io) {
      if (url === undefined || rest.length > 0) throw new UsageError('resolve takes one URL');
      const { store, warnings } = await storeFrom(values.config);
      const ex = store.explain(url, {
        ...(values.select === undefined ? {} : { select: values.select as string }),
        fallbackToPrimary: values['fallback-to-primary'] === true,
        includeExpired: values['include-expired'] === true,
      });
      if (values.json === true) {
        io.out.write(`${JSON.stringify(explanationJson(ex), null, 2)}\n`);
        return 0;
      }
      const grouped = groupedWarnings(store, warnings, values.config as string);
      for (const w of [...grouped.validity, ...grouped.other]) io.err.write(`warning: ${w}\n`);
      const s = styleFor(io.out);
      const { protocol, hostname, port } = ex.target;
      io.out.write(`${s.bold(`${protocol}//${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`)}\n`);
      io.out.write(
        ex.chosen === undefined
          ? `${s.yellow('no certificate')}: this request presents none\n`
          : `${s.green('chosen')}: ${ex.chosen.entry.name ?? ex.chosen.entry.id} (${ex.chosen.entry.certificate.subject}) — ${cliWords(ex.chosen.reason)}\n`,
      );
      io.out.write('\n');
      for (const c of ex.candidates) {
        const mark = { chosen: s.green('chosen   '), outranked: s.yellow('outranked'), skipped: s.red('skipped  '), 'no-match': s.dim('no match ') }[c.verdict];
        const port = c.entry.port === undefined ? '' : `:${c.entry.port}`;
        io.out.write(`${mark}  ${c.entry.name ?? c.entry.id}  ${s.dim(`${c.entry.host}${port}`)}\n           ${cliWords(c.reason)}\n`);
      }
      return 0;
    },
  };
