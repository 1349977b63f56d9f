#!/usr/bin/env node
// Import-boundary rule: the dependency direction in ARCHITECTURE.md must not rot.
//   protocol → {turn, sfu} → server;  protocol → client → web
// Each workspace may import only the @convene/* packages listed here, and no relative path may
// climb out of its own folder (that would be an undeclared dependency).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const ALLOWED_IMPORTS = {
  'packages/protocol': [],
  'packages/turn': [],
  'packages/sfu': ['@convene/protocol'],
  'packages/server': ['@convene/protocol', '@convene/turn', '@convene/sfu'],
  'packages/client': ['@convene/protocol'],
  'apps/web': ['@convene/client'],
};

const IMPORT_PATTERN =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry)) yield path;
  }
}

/** Returns a list of human-readable violations for one workspace folder. */
export function checkWorkspace(baseDir, workspace, allowed) {
  const workspaceDir = join(baseDir, workspace);
  const violations = [];
  let files;
  try {
    files = [...sourceFiles(join(workspaceDir, 'src'))];
  } catch {
    return violations; // workspace not created yet
  }
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(IMPORT_PATTERN)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (!specifier) continue;
      const where = relative(baseDir, file);
      if (specifier.startsWith('@convene/') && !allowed.includes(specifier.split('/').slice(0, 2).join('/'))) {
        violations.push(`${where}: imports ${specifier}, but ${workspace} may import only [${allowed.join(', ')}]`);
      }
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (!(target + sep).startsWith(workspaceDir + sep) && target !== workspaceDir) {
          violations.push(`${where}: relative import ${specifier} leaves ${workspace}`);
        }
      }
    }
  }
  return violations;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const violations = Object.entries(ALLOWED_IMPORTS).flatMap(([workspace, allowed]) =>
    checkWorkspace(root, workspace, allowed),
  );
  if (violations.length > 0) {
    console.error(
      `Import boundary violations (allowed directions: scripts/check-boundaries.mjs):\n  ${violations.join('\n  ')}`,
    );
    process.exit(1);
  }
  console.log('import boundaries: ok');
}
