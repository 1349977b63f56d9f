import { type ClientErrorCode, ConveneError } from '@convene/client';
import { describe, expect, it } from 'vitest';
import { errorMessageKey, errorRecovery, MEDIA_FAILURE } from './errors';

const failure = (code: string) => new ConveneError(code as ClientErrorCode, code);

describe('errors in plain words', () => {
  it.each([
    ['room_full', 'error.room_full'],
    ['invalid_room_name', 'error.invalid_room_name'],
    ['server_unreachable', 'error.server_unreachable'],
    ['connection_lost', 'error.connection_lost'],
    ['shutting_down', 'error.shutting_down'],
    ['unsupported_version', 'error.unsupported_version'],
    ['join_timeout', 'error.join_timeout'],
    ['internal_error', 'error.generic'],
  ])('%s → %s', (code, key) => {
    expect(errorMessageKey(failure(code))).toBe(key);
  });

  it('handles errors without a code', () => {
    expect(errorMessageKey(new TypeError('boom'))).toBe('error.generic');
    expect(errorMessageKey(null)).toBe('error.generic');
    expect(errorMessageKey(MEDIA_FAILURE)).toBe('error.media');
  });

  it('offers the right way back', () => {
    expect(errorRecovery(failure('room_full'))).toBe('retry');
    expect(errorRecovery(failure('unsupported_version'))).toBe('reload');
    expect(errorRecovery(failure('invalid_room_name'))).toBe('none');
  });
});
