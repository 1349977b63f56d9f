import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOWED_IMPORTS, checkWorkspace } from './check-boundaries.mjs';

function workspaceWith(files) {
  const base = mkdtempSync(join(tmpdir(), 'boundaries-'));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(join(base, path, '..'), { recursive: true });
    writeFileSync(join(base, path), source);
  }
  return base;
}

describe('import boundaries', () => {
  it('flags the web app importing the server', () => {
    const base = workspaceWith({ 'apps/web/src/app.tsx': "import { createConveneServer } from '@convene/server';\n" });
    expect(checkWorkspace(base, 'apps/web', ALLOWED_IMPORTS['apps/web'])).toHaveLength(1);
  });

  it('flags the protocol importing anything of ours, including by dynamic import', () => {
    const base = workspaceWith({ 'packages/protocol/src/x.ts': "const c = await import('@convene/client');\n" });
    expect(checkWorkspace(base, 'packages/protocol', [])).toHaveLength(1);
  });

  it('flags a relative import that climbs into another package', () => {
    const base = workspaceWith({ 'packages/client/src/a.ts': "import { x } from '../../server/src/rooms.js';\n" });
    expect(checkWorkspace(base, 'packages/client', ALLOWED_IMPORTS['packages/client'])[0]).toMatch(/leaves/);
  });

  it('accepts allowed imports and relative imports inside the package', () => {
    const base = workspaceWith({
      'packages/server/src/a.ts':
        "import { LIMITS } from '@convene/protocol';\nimport { b } from './b.js';\nexport * from './c.js';\n",
    });
    expect(checkWorkspace(base, 'packages/server', ALLOWED_IMPORTS['packages/server'])).toEqual([]);
  });
});
