import { readFileSync } from 'node:fs';

/**
 * The server's version, read from packages/server/package.json. The path is the same from src/
 * (tests) and dist/ (built): both sit one level below the package root.
 */
export const SERVER_VERSION: string = readVersion();

function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
      return pkg.version;
    }
  } catch {
    // Fall through: a missing package.json must not stop the server.
  }
  return '0.0.0-unknown';
}
