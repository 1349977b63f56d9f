import { describe, expect, it } from 'vitest';
import { type ConnectionState, checkConnectionTransition, IllegalTransitionError } from './connection.js';

describe('checkConnectionTransition', () => {
  const table: [ConnectionState, ConnectionState, boolean][] = [
    ['awaiting-join', 'joined', true],
    ['awaiting-join', 'closed', true],
    ['awaiting-join', 'awaiting-join', false],
    ['joined', 'closed', true],
    ['joined', 'awaiting-join', false],
    ['joined', 'joined', false],
    ['closed', 'awaiting-join', false],
    ['closed', 'joined', false],
    ['closed', 'closed', false],
  ];
  it.each(table)('%s -> %s legal: %s', (from, to, legal) => {
    const error = checkConnectionTransition(from, to);
    if (legal) expect(error).toBeUndefined();
    else expect(error).toEqual(expect.any(IllegalTransitionError));
  });
});
