import type { ServerMessage } from '@convene/protocol';
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from './logger.js';
import { Participant } from './participant.js';
import { Room, RoomRegistry } from './room.js';

const logger = createSilentLogger();

/** Every frame any fake participant received, in global order. */
type Delivery = { to: string; message: ServerMessage };

function person(id: string, log: Delivery[], sink?: (frame: string) => void): Participant {
  return new Participant({
    id,
    resumeToken: `token-${id}`,
    name: id.toUpperCase(),
    audioMuted: false,
    videoMuted: false,
    joinedAt: 1_700_000_000_000,
    sink: sink ?? ((frame) => log.push({ to: id, message: JSON.parse(frame) as ServerMessage })),
    logger,
  });
}

function welcomeInto(log: Delivery[], id: string) {
  return (others: unknown[]) => log.push({ to: id, message: { type: 'joined-welcome', others } as never });
}

describe('Room', () => {
  it('announces a newcomer to everyone already in the room before welcoming it', () => {
    const log: Delivery[] = [];
    const room = new Room('standup', { maxParticipants: 10, logger });
    room.admit(person('a', log), welcomeInto(log, 'a'));
    room.admit(person('b', log), welcomeInto(log, 'b'));
    log.length = 0;
    room.admit(person('c', log), welcomeInto(log, 'c'));

    expect(log.map((d) => `${d.to}:${d.message.type}`)).toEqual([
      'a:participant-joined',
      'b:participant-joined',
      'c:joined-welcome',
    ]);
    const welcome = log[2]?.message as unknown as { others: { id: string }[] };
    expect(welcome.others.map((p) => p.id)).toEqual(['a', 'b']);
    expect(log[0]?.message).toEqual({
      type: 'participant-joined',
      participant: { id: 'c', name: 'C', audioMuted: false, videoMuted: false, joinedAt: 1_700_000_000_000 },
    });
  });

  it('tells the others when someone leaves, and closes itself when empty', () => {
    const log: Delivery[] = [];
    const room = new Room('standup', { maxParticipants: 10, logger });
    const a = person('a', log);
    const b = person('b', log);
    room.admit(a, () => {});
    room.admit(b, () => {});
    let closed = 0;
    room.on('close', () => {
      closed += 1;
    });
    log.length = 0;

    b.close('disconnected');
    expect(log).toEqual([
      { to: 'a', message: { type: 'participant-left', participantId: 'b', reason: 'disconnected' } },
    ]);
    expect(room.size).toBe(1);
    expect(room.getParticipant('b')).toBeUndefined();
    b.close('left'); // idempotent: nothing more
    expect(log).toHaveLength(1);

    a.close('left');
    expect(room.closed).toBe(true);
    expect(closed).toBe(1);
  });

  it('closing the room closes every participant silently', () => {
    const log: Delivery[] = [];
    const room = new Room('standup', { maxParticipants: 10, logger });
    const a = person('a', log);
    const b = person('b', log);
    room.admit(a, () => {});
    room.admit(b, () => {});
    log.length = 0;
    const events: string[] = [];
    a.on('roomclose', (reason) => events.push(`a:roomclose:${reason}`));
    a.on('close', () => events.push('a:close'));
    b.on('@close', () => events.push('b:@close (must not happen)'));

    room.close('shutdown');
    expect(log).toEqual([]);
    expect(events).toEqual(['a:roomclose:shutdown', 'a:close']);
    expect(a.closed && b.closed).toBe(true);
    expect(room.size).toBe(0);
  });

  it('refuses to admit beyond its capacity', () => {
    const log: Delivery[] = [];
    const room = new Room('tiny', { maxParticipants: 1, logger });
    room.admit(person('a', log), () => {});
    expect(room.isFull).toBe(true);
    expect(() => room.admit(person('b', log), () => {})).toThrow(/full/);
    expect(log).toEqual([]);
  });

  it('keeps broadcasting to the others when one participant cannot be reached', () => {
    const log: Delivery[] = [];
    const room = new Room('standup', { maxParticipants: 10, logger });
    room.admit(
      person('broken', log, () => {
        throw new Error('socket exploded');
      }),
      () => {},
    );
    room.admit(person('a', log), () => {});
    room.admit(person('b', log), () => {});
    log.length = 0;
    room.broadcast({ type: 'participant-left', participantId: 'x', reason: 'left' });
    expect(log.map((d) => d.to)).toEqual(['a', 'b']);
  });

  it('applies updates and reports whether anything changed', () => {
    const p = person('a', []);
    expect(p.update({ audioMuted: false })).toBe(false);
    expect(p.update({ audioMuted: true, name: 'Ada' })).toBe(true);
    expect(p.info()).toMatchObject({ name: 'Ada', audioMuted: true, videoMuted: false });
  });
});

describe('RoomRegistry', () => {
  it('creates rooms on demand and forgets them when they empty', () => {
    const registry = new RoomRegistry({ maxParticipants: 5, logger });
    const room = registry.getOrCreate('standup');
    expect(registry.getOrCreate('standup')).toBe(room);
    const a = person('a', []);
    room.admit(a, () => {});
    registry.getOrCreate('retro').admit(person('b', []), () => {});
    expect(registry.size).toBe(2);
    expect(registry.participantCount).toBe(2);
    a.close('left');
    expect(registry.get('standup')).toBeUndefined();
    expect(registry.size).toBe(1);
    // A new room of the same name is a fresh room.
    expect(registry.getOrCreate('standup')).not.toBe(room);
  });

  it('keeps names like constructor and __proto__ as ordinary keys', () => {
    const registry = new RoomRegistry({ maxParticipants: 5, logger });
    expect(registry.get('constructor')).toBeUndefined();
    expect(registry.get('__proto__')).toBeUndefined();
    registry.getOrCreate('constructor').admit(person('a', []), () => {});
    expect(registry.get('constructor')?.size).toBe(1);
  });

  it('closeAll closes every room even when one of them fails', () => {
    const registry = new RoomRegistry({ maxParticipants: 5, logger });
    const first = person('a', []);
    const second = person('b', []);
    registry.getOrCreate('one').admit(first, () => {});
    registry.getOrCreate('two').admit(second, () => {});
    first.on('roomclose', () => {
      throw new Error('listener bug');
    });
    registry.closeAll('shutdown');
    expect(first.closed && second.closed).toBe(true);
    expect(registry.size).toBe(0);
  });
});
