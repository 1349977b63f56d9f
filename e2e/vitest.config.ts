import { defineConfig } from 'vitest/config';

// Real-browser tests. `npm test` runs them inside a loopback-only network namespace
// (scripts/test.mjs). Files run one at a time: four Chromium pages already fill two cores.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
