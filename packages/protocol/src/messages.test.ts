import { describe, expect, it } from 'vitest';
import { ErrorCode } from './errors.js';
import { isValidRoomName, PROTOCOL_VERSION, parseClientMessage, parseServerMessage } from './messages.js';

const join = {
  type: 'join',
  id: 1,
  version: PROTOCOL_VERSION,
  room: 'daily-standup',
  name: 'Ada',
  audioMuted: false,
  videoMuted: false,
};

describe('parseClientMessage', () => {
  it('accepts a valid join and trims the name', () => {
    const result = parseClientMessage(JSON.stringify({ ...join, name: '  Ada  ' }));
    expect(result).toEqual({ ok: true, message: { ...join, name: 'Ada' } });
  });

  it.each([
    ['not json', '{', ErrorCode.InvalidJson],
    ['an array', '[1,2]', ErrorCode.InvalidJson],
    ['null', 'null', ErrorCode.InvalidJson],
    ['no type', '{"id":3}', ErrorCode.UnknownType],
    ['an unknown type', '{"type":"hack","id":3}', ErrorCode.UnknownType],
    ['a prototype key as type', '{"type":"__proto__"}', ErrorCode.UnknownType],
    ['a join without a name', JSON.stringify({ ...join, name: undefined }), ErrorCode.InvalidMessage],
    ['a join with a blank name', JSON.stringify({ ...join, name: '   ' }), ErrorCode.InvalidMessage],
    ['a join with a numeric room', JSON.stringify({ ...join, room: 5 }), ErrorCode.InvalidMessage],
    [
      'a signal with an extra data key',
      JSON.stringify({ type: 'signal', to: 'p1', data: { description: { type: 'offer', sdp: 'v=0' }, evil: 1 } }),
      ErrorCode.InvalidMessage,
    ],
    [
      'a signal with a huge sdp',
      JSON.stringify({ type: 'signal', to: 'p1', data: { description: { type: 'offer', sdp: 'x'.repeat(70_000) } } }),
      ErrorCode.InvalidMessage,
    ],
  ])('rejects %s', (_label, text, code) => {
    const result = parseClientMessage(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe(code);
  });

  it('keeps the request id on a rejected request so the error can answer it', () => {
    const result = parseClientMessage(JSON.stringify({ type: 'update', id: 7, audioMuted: 'yes' }));
    expect(result).toMatchObject({ ok: false, code: ErrorCode.InvalidMessage, id: 7 });
  });

  it('accepts candidates, end-of-candidates and descriptions', () => {
    for (const data of [
      { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } },
      { candidate: null },
      { description: { type: 'answer', sdp: 'v=0\r\n' } },
    ]) {
      expect(parseClientMessage(JSON.stringify({ type: 'signal', to: 'p2', data })).ok).toBe(true);
    }
  });

  it.each([
    [{}, 'data.candidate'],
    [{ candidate: 5 }, 'data.candidate'],
    [{ description: { type: 'offer', sdp: 'v=0' }, candidate: null }, 'data.candidate'],
    [{ description: { type: 'hello', sdp: 'v=0' } }, 'data.description.type'],
    [null, 'data'],
  ])('signal data must be exactly a candidate or a description: %j is refused at %s', (data, path) => {
    const result = parseClientMessage(JSON.stringify({ type: 'signal', to: 'p2', data }));
    expect(result).toMatchObject({ ok: false, code: ErrorCode.InvalidMessage });
    if (!result.ok) expect(result.message).toContain(`at ${path}:`);
  });
});

describe('parseServerMessage', () => {
  it('reads an error code from a newer server as internal_error, keeping its message', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'error', id: 4, code: 'made_up', message: 'x' }))).toEqual({
      ok: true,
      message: { type: 'error', id: 4, code: ErrorCode.Internal, message: 'x' },
    });
  });

  it('rejects an error without a code', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'error', message: 'x' })).ok).toBe(false);
  });
});

describe('isValidRoomName', () => {
  it.each([
    ['brave-otter-42', true],
    ['a', true],
    ['A', false],
    ['-x', false],
    ['x-', false],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['../etc', false],
    ['', false],
  ])('%s → %s', (name, valid) => expect(isValidRoomName(name)).toBe(valid));
});
