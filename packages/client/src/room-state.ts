/** connecting → connected → closed. A later version adds reconnecting (connected → connecting). */
export type RoomState = 'connecting' | 'connected' | 'closed';

export class InvalidTransitionError extends Error {
  override readonly name = 'InvalidTransitionError';
  constructor(
    readonly from: RoomState,
    readonly to: RoomState,
  ) {
    super(`room state cannot go from ${from} to ${to}`);
  }
}

const LEGAL: Record<RoomState, readonly RoomState[]> = {
  connecting: ['connected', 'closed'],
  connected: ['closed'],
  closed: [],
};

/** null if `from → to` is legal (or no change), else the error to raise. */
export function checkRoomTransition(from: RoomState, to: RoomState): InvalidTransitionError | null {
  if (from === to || LEGAL[from].includes(to)) return null;
  return new InvalidTransitionError(from, to);
}
