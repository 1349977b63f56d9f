import { readFileSync } from 'node:fs';
import { ALL_ERROR_CODES, CloseCode } from '@convene/protocol';
import { describe, expect, it } from 'vitest';
import { HttpErrorCode } from '../src/index.js';

const errorsDoc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** docs/errors.md promises every code is listed; this keeps the promise when codes are added. */
describe('docs/errors.md', () => {
  it.each(ALL_ERROR_CODES)('documents the error code %s', (code) => {
    expect(errorsDoc).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, 'm'));
  });

  it.each(Object.entries(CloseCode))('documents the close code %s (%i)', (name, code) => {
    expect(errorsDoc).toMatch(new RegExp(`^\\| ${code} +\\| \`${name}\` +\\|`, 'm'));
  });

  it.each(Object.values(HttpErrorCode))('documents the HTTP API code %s', (code) => {
    expect(errorsDoc).toMatch(new RegExp(`^\\| \`${code}\` +\\| \\d{3} +\\|`, 'm'));
  });
});
