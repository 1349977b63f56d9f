#!/usr/bin/env node
// `npm test`: builds, then runs unit/integration tests and real-browser tests, each inside a
// loopback-only network namespace when the machine allows one (root + unshare), so no test can
// send traffic beyond loopback. Browser suites whose browser is missing are skipped LOUDLY, with
// the one apt-get line that enables them; `--require-all` (used by .ci/run) turns a skip into a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(root, '.test-results');
const { values: args } = parseArgs({
  options: {
    only: { type: 'string' }, // unit | e2e
    'require-all': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
});

const BROWSERS = [
  { name: 'chromium', path: '/usr/bin/chromium', apt: 'chromium' },
  { name: 'firefox', path: '/usr/bin/firefox-esr', apt: 'firefox-esr' },
];
// Interop tests against coturn's own client and echo peer skip themselves when these are missing.
const COTURN_TOOLS = ['/usr/bin/turnutils_uclient', '/usr/bin/turnutils_peer', '/usr/bin/turnserver'];

function run(label, command, commandArgs, env = {}) {
  console.log(`\n▶ ${label}: ${command} ${commandArgs.join(' ')}`);
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** Runs a command in a fresh network namespace that has only `lo`, if this machine can make one. */
function isolatedCommand(command, commandArgs) {
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
  if (probe.status === 0) {
    return [
      'unshare',
      ['-n', 'sh', '-c', 'ip link set lo up && CONVENE_TEST_NETNS=1 exec "$@"', 'sh', command, ...commandArgs],
    ];
  }
  console.warn('⚠ cannot create a network namespace (needs root and unshare): network tests run on the host loopback');
  return [command, commandArgs];
}

mkdirSync(resultsDir, { recursive: true });
const failures = [];
const skipped = [];

if (!args['no-build']) {
  if (run('build', 'npm', ['run', 'build']) !== 0) {
    console.error('✖ build failed');
    process.exit(1);
  }
}

if (!args.only || args.only === 'unit') {
  if (!COTURN_TOOLS.every((path) => existsSync(path))) {
    skipped.push({ what: 'TURN interop tests with coturn (turnutils_uclient, turnutils_peer)', apt: 'coturn' });
  }
  const [cmd, cmdArgs] = isolatedCommand('npx', ['vitest', 'run']);
  if (run('unit and integration tests', cmd, cmdArgs) !== 0) failures.push('unit and integration tests');
}

if (!args.only || args.only === 'e2e') {
  const available = BROWSERS.filter((browser) => existsSync(browser.path));
  for (const browser of BROWSERS) {
    if (!available.includes(browser)) skipped.push({ what: `${browser.name} browser tests`, apt: browser.apt });
  }
  if (available.length > 0) {
    const jsonReport = join(resultsDir, 'e2e.json');
    const [cmd, cmdArgs] = isolatedCommand('npx', [
      'vitest',
      'run',
      '--config',
      'e2e/vitest.config.ts',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${jsonReport}`,
    ]);
    const status = run('browser tests', cmd, cmdArgs, {
      CONVENE_E2E_BROWSERS: available.map((browser) => browser.name).join(','),
    });
    if (status !== 0) failures.push('browser tests');
    if (existsSync(jsonReport)) {
      const report = JSON.parse(readFileSync(jsonReport, 'utf8'));
      const pending = report.numPendingTests + report.numTodoTests;
      if (pending > 0) skipped.push({ what: `${pending} browser test(s) marked skipped inside the suite`, apt: null });
    }
  }
}

writeFileSync(join(resultsDir, 'skipped.json'), JSON.stringify(skipped, null, 2));
if (skipped.length > 0) {
  const packages = [...new Set(skipped.map((entry) => entry.apt).filter(Boolean))];
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n!! SKIPPED — these tests did NOT run:`);
  for (const entry of skipped) console.warn(`!!   - ${entry.what}`);
  if (packages.length > 0) {
    console.warn(`!! Enable them with:\n!!   sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`);
  }
  console.warn(bar);
  if (args['require-all']) failures.push('skipped tests (--require-all)');
}

if (failures.length > 0) {
  console.error(`\n✖ failed: ${failures.join(', ')}`);
  process.exit(1);
}
console.log('\n✔ all tests passed');
