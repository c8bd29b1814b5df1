// The mtls-resolver command: inspect, resolve, fetch, import, demo. Results on stdout (--json for
// machines), details (-v) and warnings on stderr; a failure is one line `error CODE: message`,
// exit 1; a usage error exits 2; no stack trace unless --debug. `main` runs nothing on import:
// bin.ts calls it with the process's arguments and streams, tests with their own.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMtlsError } from '../errors.js';
import { cliMessage, cliWords, usageMessage, type CliContext } from './advice.js';
import { UsageError, type Command, type Io } from './command.js';
import { demoCommand } from './commands/demo.js';
import { exampleServerCommand } from './commands/example-server.js';
import { fetchCommand } from './commands/fetch.js';
import { importCommand } from './commands/import.js';
import { inspectCommand } from './commands/inspect.js';
import { resolveCommand } from './commands/resolve.js';
import { safeWriter, type WritableText } from './output.js';

const COMMON = { help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } } as const;

const commands: Record<string, Command> = {
  inspect: inspectCommand,
  resolve: resolveCommand,
  fetch: fetchCommand,
  import: importCommand,
  demo: demoCommand,
  'example-server': exampleServerCommand,
};

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function mainHelp(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `mtls-resolver ${version()}: which TLS client certificate each request presents, and proof that it does.

Usage: mtls-resolver <command> [options]   (mtls-resolver <command> --help for its options)

${names.map((n) => `  ${n.padEnd(width)}${commands[n]!.summary}`).join('\n')}

Example: mtls-resolver resolve https://api.acme.com/v1 --config certs.json
`;
}

function commandHelp(name: string, c: Command): string {
  return `${c.summary}

Usage: ${c.usage}

Example:
  ${c.example}
`;
}

/**
 * Runs the command line `argv` (without node and the script), writing to `streams` (default: the
 * process's own): the exit code. Everything printed goes through terminalSafe: text from files,
 * servers and imports is shown with its control characters escaped.
 */
export async function main(argv: string[], streams: { stdout: WritableText; stderr: WritableText } = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const io: Io = { out: safeWriter(streams.stdout), err: safeWriter(streams.stderr) };
  const { out, err } = io;
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    out.write(`${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  let context: CliContext = { command: name };
  let inputFile: string | undefined;
  const debug = args.includes('--debug');
  try {
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${Object.keys(commands).join(', ')}`);
    let parsed;
    try {
      parsed = parseArgs({ args, options: { ...COMMON, ...command.options }, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError(usageMessage(e as Error & { code?: string }, Object.keys({ ...command.options, ...COMMON })));
    }
    const config = (parsed.values as Record<string, unknown>).config;
    context = { command: name, ...(typeof config === 'string' ? { config } : {}), ...(name === 'inspect' && parsed.positionals[0] !== undefined ? { file: parsed.positionals[0] } : {}) };
    // An error of inspect's one input (no --key) names that file.
    if (name === 'inspect' && (parsed.values as Record<string, unknown>).key === undefined) inputFile = parsed.positionals[0];
    if (parsed.values.help === true) {
      out.write(commandHelp(name, command));
      return 0;
    }
    return await command.run(parsed.positionals, parsed.values as Record<string, unknown>, io);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`error ERR_USAGE: ${e.message} (see mtls-resolver ${command === undefined ? '' : `${name} `}--help)\n`);
      return 2;
    }
    // fetch rejects with TypeError('fetch failed') whose cause is the MtlsError that says why.
    const cause = (e as { cause?: unknown }).cause;
    const shown = isMtlsError(e) ? e : isMtlsError(cause) ? cause : (e as Error & { code?: string });
    const code = isMtlsError(shown) ? shown.code : (shown.code ?? (cause as { code?: string } | undefined)?.code ?? 'ERR_UNEXPECTED');
    let message = isMtlsError(shown) ? cliMessage(shown, context) : cause instanceof Error ? `${shown.message}: ${cause.message}` : shown.message;
    if (inputFile !== undefined && isMtlsError(shown) && shown.location === undefined && !message.includes(inputFile)) message = `${JSON.stringify(inputFile)}: ${message}`;
    err.write(`error ${code}: ${cliWords(message).replace(/\s*\n\s*/g, ' ')}\n`); // one line, whatever the cause's text holds
    if (debug) err.write(`${(e as Error).stack ?? ''}\n`);
    return 1;
  }
}
