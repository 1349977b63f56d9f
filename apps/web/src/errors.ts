import { type ClientErrorCode, isConveneError } from '@convene/client';
import type { MessageKey } from './i18n';

/** The code of an error the SDK reported, else null. */
function errorCode(error: unknown): ClientErrorCode | null {
  return isConveneError(error) ? error.code : null;
}

/** Camera and microphone could not even be opened receive-only (no media API at all). */
export const MEDIA_FAILURE = new Error('local media could not be opened');

/** The plain-words message for an error the SDK reported. */
export function errorMessageKey(error: unknown): MessageKey {
  if (error === MEDIA_FAILURE) return 'error.media';
  switch (errorCode(error)) {
    case 'room_full':
      return 'error.room_full';
    case 'invalid_room_name':
      return 'error.invalid_room_name';
    case 'server_unreachable':
      return 'error.server_unreachable';
    case 'connection_lost':
      return 'error.connection_lost';
    case 'shutting_down':
      return 'error.shutting_down';
    case 'unsupported_version':
      return 'error.unsupported_version';
    case 'join_timeout':
      return 'error.join_timeout';
    case 'rate_limited':
      return 'error.rate_limited';
    default:
      return 'error.generic';
  }
}

/** What the main button on an error screen should do: try again, reload (stale page), or nothing useful. */
export function errorRecovery(error: unknown): 'retry' | 'reload' | 'none' {
  switch (errorCode(error)) {
    case 'unsupported_version':
      return 'reload';
    case 'invalid_room_name':
      return 'none';
    default:
      return 'retry';
  }
}
