import { describe, expect, it } from 'vitest';
import { checkRoomTransition, InvalidTransitionError, type RoomState } from './room-state.js';

describe('checkRoomTransition', () => {
  const table: [from: RoomState, to: RoomState, legal: boolean][] = [
    ['connecting', 'connecting', true],
    ['connecting', 'connected', true],
    ['connecting', 'closed', true],
    ['connected', 'connected', true],
    ['connected', 'closed', true],
    ['connected', 'connecting', false], // until reconnect exists
    ['closed', 'closed', true],
    ['closed', 'connecting', false],
    ['closed', 'connected', false],
  ];
  it.each(table)('%s → %s legal=%s', (from, to, legal) => {
    const error = checkRoomTransition(from, to);
    if (legal) {
      expect(error).toBeNull();
    } else {
      expect(error).toBeInstanceOf(InvalidTransitionError);
      expect(error).toMatchObject({ from, to });
    }
  });
});
