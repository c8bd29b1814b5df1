// npm run bench [-- resolver|loader|adapter|agent|cpu|proxy|store|watch|tenants|ca-context|startup|soak|hostile|pkcs11|h2 ...]: runs the benchmarks, each against its own
// baseline in this process, and prints ratios. Figures go to BENCHMARKS.md by hand.
import { runAdapterBench } from './adapter.bench.js';
import { runAgentBench } from './agent.bench.js';
import { runCaContextBench } from './ca-context.bench.js';
import { runCpuBench } from './cpu.bench.js';
import { runH2Bench } from './h2.bench.js';
import { runHostileBench } from './hostile.bench.js';
import { runLoaderBench } from './loader.bench.js';
import { runPkcs11Bench } from './pkcs11.bench.js';
import { runProxyBench } from './proxy.bench.js';
import { runResolverBench } from './resolver.bench.js';
import { runSoakBench } from './soak.bench.js';
import { runStartupBench } from './startup.bench.js';
import { runStoreBench } from './store.bench.js';
import { runTenantsBench } from './tenants.bench.js';
import { runWatchBench } from './watch.bench.js';

const benches: Record<string, () => string | Promise<string>> = {
  resolver: () => runResolverBench(),
  loader: () => runLoaderBench(),
  adapter: () => runAdapterBench(),
  agent: () => runAgentBench(),
  cpu: () => runCpuBench(),
  proxy: () => runProxyBench(),
  store: () => runStoreBench(),
  watch: () => runWatchBench(),
  tenants: () => runTenantsBench(),
  'ca-context': () => runCaContextBench(),
  startup: () => runStartupBench(),
  soak: () => runSoakBench(),
  hostile: () => runHostileBench(),
  pkcs11: () => runPkcs11Bench(),
  h2: () => runH2Bench(),
};

const wanted = process.argv.slice(2);
// The soak and the hostile inputs take minutes: only when named.
const names = wanted.length > 0 ? wanted : Object.keys(benches).filter((n) => n !== 'soak' && n !== 'hostile');
console.log(`node ${process.version}, ${new Date().toISOString()}`);
for (const name of names) {
  const bench = benches[name];
  if (bench === undefined) {
    console.error(`unknown benchmark ${name}; choose from ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n${await bench()}`);
}
