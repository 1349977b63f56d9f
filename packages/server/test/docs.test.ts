import { readFileSync } from 'node:fs';
import { ALL_ERROR_CODES, CloseCode, ServerMessageSchema } from '@convene/protocol';
import { TURN_ERROR_REASONS } from '@convene/turn';
import { describe, expect, it } from 'vitest';
import { HttpErrorCode } from '../src/index.js';

const errorsDoc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const protocolDoc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
const turnDoc = readFileSync(new URL('../../../docs/turn.md', import.meta.url), 'utf8');

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

describe('docs/protocol.md', () => {
  const types = ServerMessageSchema.options.map((schema) => schema.entries.type.literal);
  it.each(types)('has a section for the server message %s', (type) => {
    expect(protocolDoc).toMatch(new RegExp(`^### \`${type}\``, 'm'));
  });
});

describe('docs/turn.md', () => {
  it.each(Object.entries(TURN_ERROR_REASONS))('documents the TURN error %s (%s)', (code, reason) => {
    expect(turnDoc).toMatch(new RegExp(`^\\| ${code} \\| ${reason} \\|`, 'm'));
  });
});
