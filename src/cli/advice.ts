// The CLI's words for the library's errors. The library's advice names its API (`passphrase`,
// the adapter option `ca`, `store.explain`); on the command line the same advice names flags and
// commands. One module: from the error's `reason` (a stable kind and the fact, without advice),
// and the API's words in any message (cliWords); config errors (`location`) speak certs.json.
import type { MtlsError } from '../errors.js';

/** What the command was doing: for advice that names the file or config it was given. */
export interface CliContext {
  command: string;
  /** The file given to `inspect`. */
  file?: string;
  /** The config given with --config. */
  config?: string;
}

export function cliMessage(err: MtlsError, context: CliContext): string {
  const reason = err.reason;
  if (reason === undefined || err.location !== undefined) return err.message;
  const config = context.config === undefined ? 'certs.json' : JSON.stringify(context.config);
  const file = context.file === undefined ? 'the file' : JSON.stringify(context.file);
  switch (reason.kind) {
    case 'passphrase-required':
      return `${reason.fact}: put its passphrase in an environment variable and name it with --passphrase-env VAR.`;
    case 'pfx-not-pem':
      return `${reason.fact}, which holds its own key: inspect ${file} alone, without --key (with --passphrase-env VAR if it has a passphrase).`;
    case 'no-client-certificate':
      return `${reason.fact}. No client certificate was presented: no entry of ${config} matches ${reason.origin}. If this server requires mTLS, add an entry for its host and port; mtls-resolver resolve ${reason.origin} --config ${config} shows why none matched.`;
    case 'server-untrusted':
      return `${reason.fact}. If the server uses a private CA, add it with --ca FILE (or "ca" in ${config}); only for a test server, --insecure skips the check.`;
    case 'not-a-certificate':
      return `${file} is neither a certificate, a key, a PFX nor a PEM bundle.`;
  }
}

/** A usage message for what node:util parseArgs refused, in the words of the command's options. */
export function usageMessage(err: Error & { code?: string }, known: string[]): string {
  const option = /'(-{1,2}[^']+)'/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) {
    if (option === '--passphrase' && known.includes('passphrase-env')) {
      return 'unknown option --passphrase: a passphrase is never given on the command line (it would stay in the shell history); put it in an environment variable and name it with --passphrase-env VAR';
    }
    return `unknown option ${option}; this command takes ${known.map((k) => `--${k}`).join(', ')}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    const flag = /--[\w-]+/.exec(option)?.[0] ?? option; // "-c, --config <value>" -> --config
    return `the option ${flag} ${/argument missing/.test(err.message) ? 'needs a value' : 'takes no value'}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return err.message.split('.')[0]!;
  return err.message;
}

/** The library's advice in the words of the command line: its flags instead of the API's options. */
export function cliWords(text: string): string {
  return text
    .replace(/pass includeExpired: true|set includeExpired: true \(adapter option, or per request\)/g, 'pass --include-expired')
    .replace('pass agentOptions: { allowH2: true } to createDispatcher, createFetch or createInterceptor', 'pass --http2')
    .replace('or pass cert and key separately', 'or inspect the certificate file and give this key with --key')
    .replace('pass its passphrase as passphrase', 'name the environment variable that holds its passphrase with --passphrase-env VAR');
}
