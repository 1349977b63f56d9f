import { ALL_ERROR_CODES, CloseCode, ErrorCode } from '@convene/protocol';
import { describe, expect, it } from 'vitest';
import { ConveneError, MediaAccessError, mediaErrorReason } from './errors.js';

describe('ConveneError.fromClose', () => {
  // What the room reports when the socket closes with each code the server uses.
  const table: [code: number, expected: string][] = [
    [CloseCode.Normal, 'connection_lost'], // without our leave, a normal close still loses the room
    [CloseCode.GoingAway, ErrorCode.ShuttingDown],
    [CloseCode.ProtocolError, ErrorCode.InvalidMessage],
    [CloseCode.MessageTooBig, ErrorCode.InvalidMessage],
    [CloseCode.InternalError, ErrorCode.Internal],
    [CloseCode.RateLimited, ErrorCode.RateLimited],
    [CloseCode.JoinTimeout, 'join_timeout'],
    [CloseCode.Unresponsive, 'connection_lost'],
    [CloseCode.JoinRefused, ErrorCode.Internal],
    [1006, 'connection_lost'],
    [4999, 'connection_lost'],
  ];
  it.each(table)('close %i → %s', (code, expected) => {
    const error = ConveneError.fromClose(code, 'why');
    expect(error).toBeInstanceOf(ConveneError);
    expect(error.code).toBe(expected);
    expect(error.message).toContain(String(code));
  });

  it('a join refusal (4004) carries the code of the error message that preceded it', () => {
    const refusal = ConveneError.fromServer({ code: ErrorCode.RoomFull, message: 'room is full' });
    expect(ConveneError.fromClose(CloseCode.JoinRefused, '', refusal).code).toBe('room_full');
  });

  it('every server error code survives fromServer unchanged', () => {
    for (const code of ALL_ERROR_CODES) {
      const error = ConveneError.fromServer({ code, message: 'text' });
      expect(error.code).toBe(code);
      expect(error.message).toBe('text');
      expect(error.name).toBe('ConveneError');
    }
  });

  it('client-side factories have their stable codes', () => {
    expect(ConveneError.serverUnreachable('ws://x/ws').code).toBe('server_unreachable');
    expect(ConveneError.connectionLost('gone').code).toBe('connection_lost');
    expect(ConveneError.joinTimeout(10).code).toBe('join_timeout');
    expect(ConveneError.closed().code).toBe('closed');
  });
});

describe('mediaErrorReason', () => {
  const table: [name: string, reason: string][] = [
    ['NotAllowedError', 'denied'],
    ['SecurityError', 'denied'],
    ['NotFoundError', 'not-found'],
    ['OverconstrainedError', 'not-found'],
    ['NotReadableError', 'in-use'],
    ['AbortError', 'in-use'],
    ['TypeError', 'unknown'],
  ];
  it.each(table)('%s → %s', (name, reason) => {
    expect(mediaErrorReason(new DOMException('x', name))).toBe(reason);
    expect(MediaAccessError.fromDomException('video', new DOMException('x', name)).reason).toBe(reason);
  });

  it('anything that is not an error maps to unknown', () => {
    expect(mediaErrorReason('denied')).toBe('unknown');
    expect(mediaErrorReason(null)).toBe('unknown');
  });
});
