#!/usr/bin/env node
// The mtls-resolver executable: main() with the process's arguments and streams.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error ERR_UNEXPECTED: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
