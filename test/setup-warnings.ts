// The library's own process warnings (MTLS_RESOLVER_CONFIG, MTLS_RESOLVER_RELOAD) are what many
// tests cause on purpose (an expiring certificate, a reload that fails with no error listener);
// the tests that care listen for them and assert them. Printed between passing tests, they read
// as failures: only they are kept off stderr here. Every other warning (Node's deprecations, ...)
// is printed as Node prints it.
const printers = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning: Error & { code?: string }) => {
  if (typeof warning.code === 'string' && warning.code.startsWith('MTLS_RESOLVER_')) return;
  for (const print of printers) print.call(process, warning);
});
