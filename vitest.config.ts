import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Unit tests sit beside the code; server integration tests (real sockets) live in packages/server/test.
// Workspace imports resolve to TypeScript sources so tests never run against a stale build.
export default defineConfig({
  resolve: {
    alias: {
      '@convene/protocol': src('protocol'),
      '@convene/turn': src('turn'),
      '@convene/client': src('client'),
    },
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'apps/web/src/**/*.test.{ts,tsx}',
      'scripts/**/*.test.mjs',
    ],
    environment: 'node',
    testTimeout: 20_000,
  },
});
