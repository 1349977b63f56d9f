import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type ProxyOptions } from 'vite';

// Workspace packages resolve to their TypeScript sources, so the app builds without a prior `tsc -b`.
const source = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

// The Convene server during development (`npm start` in another terminal).
const server = 'http://localhost:8080';
const proxy: Record<string, ProxyOptions> = {
  '/ws': { target: server, ws: true },
  '/api': { target: server },
  '/healthz': { target: server },
};

export default defineConfig({
  plugins: [preact()],
  resolve: {
    alias: {
      '@convene/client': source('../../packages/client/src/index.ts'),
      '@convene/protocol': source('../../packages/protocol/src/index.ts'),
    },
  },
  server: { proxy },
  preview: { proxy },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
