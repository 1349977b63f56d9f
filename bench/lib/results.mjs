import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes a benchmark's results (everything it measured, stamped with the date) to `out` as JSON,
 * says where, and exits 1 when the harness itself failed: a run that could not measure must not
 * look like one that did.
 */
export function saveResults(out, data, { failures, failed = failures.length > 0, what = 'harness failures' }) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), ...data }, null, 1));
  console.log(`results: ${out}`);
  if (failed) {
    console.error(`\n✖ ${what}:\n${failures.join('\n')}`);
    process.exit(1);
  }
}
