import { configDefaults, defineConfig } from 'vitest/config';

// `npm test`: everything but the long runs under load (*.slow.test.ts), which
// `npm run test:integration` runs (vitest.integration.config.ts); CI runs both.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/**/*.slow.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-warnings.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
