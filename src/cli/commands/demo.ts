// `demo`: certificates and mTLS servers made in memory; which certificate each request presented.
import { UsageError, type Command } from '../command.js';
import { formatDemo, runDemo } from '../demo.js';

export const demoCommand: Command = {
    summary: 'make certificates and mTLS servers in memory and show that each request presents the certificate the resolver chose',
    usage: 'mtls-resolver demo [--json]',
    example: 'mtls-resolver demo',
    options: { json: { type: 'boolean' } },
    async run(positionals, values, io) {
      if (positionals.length > 0) throw new UsageError('demo takes no arguments');
      const rows = await runDemo();
      io.out.write(values.json === true ? `${JSON.stringify(rows, null, 2)}\n` : `${formatDemo(rows, io.out)}\n`);
      return rows.every((r) => r.agree) ? 0 : 1;
    },
  };
