import { defineConfig } from 'vitest/config';

// `npm run test:integration`: the long runs under load (1,000 renewals, 2,000 tenants), apart from
// `npm test` so that it stays under 3 minutes; CI runs both.
export default defineConfig({
  test: {
    include: ['test/**/*.slow.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-warnings.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
