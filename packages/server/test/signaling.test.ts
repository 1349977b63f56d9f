import { CloseCode, ErrorCode, LIMITS, PROTOCOL_VERSION } from '@convene/protocol';
import { describe, expect, it } from 'vitest';
import { arrivals, sleep, startServer, TestClient } from './helpers.js';

const offer = { description: { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' } } as const;
const candidate = {
  candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
} as const;

describe('join', () => {
  it('answers joined with the participant id, ICE servers, the others in the room and the limits', async () => {
    // TURN off here: what the embedded TURN server adds is tested in turn.test.ts.
    const { wsUrl } = await startServer({
      iceServers: ['stun:stun.example.org:3478'],
      maxParticipants: 7,
      turnDisabled: true,
    });
    const ada = await TestClient.joined(wsUrl, 'daily-standup', 'Ada');
    const bob = await TestClient.connect(wsUrl, 'Bob');
    const reply = await bob.join('daily-standup', '  Bob  ', { videoMuted: true });

    expect(reply).toMatchObject({
      type: 'joined',
      version: PROTOCOL_VERSION,
      iceServers: [{ urls: 'stun:stun.example.org:3478' }],
      room: {
        name: 'daily-standup',
        mode: 'mesh',
        participants: [{ id: ada.participantId, name: 'Ada', audioMuted: false, videoMuted: false }],
      },
      self: { name: 'Bob', audioMuted: false, videoMuted: true },
      limits: { maxMessageBytes: LIMITS.defaultMaxMessageBytes, maxParticipants: 7 },
    });
    if (reply.type !== 'joined') throw new Error('unreachable');
    expect(reply.participantId).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(reply.self.id).toBe(reply.participantId);
    expect(reply.participantId).not.toBe(ada.participantId);
    expect(Buffer.from(reply.resumeToken, 'base64url')).toHaveLength(32);
    expect(Math.abs(reply.self.joinedAt - Date.now())).toBeLessThan(5000);
  });

  it('tells everyone already in the room before it tells the newcomer', async () => {
    const { wsUrl } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'order', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'order', 'Bob');
    await ada.nextOfType('participant-joined');
    arrivals.length = 0;

    const cyd = await TestClient.connect(wsUrl, 'Cyd');
    await cyd.join('order', 'Cyd');
    const [toAda, toBob] = await Promise.all([
      ada.nextOfType('participant-joined'),
      bob.nextOfType('participant-joined'),
    ]);
    expect(toAda.participant).toMatchObject({ id: cyd.participantId, name: 'Cyd' });
    expect(toBob.participant.id).toBe(cyd.participantId);
    const order = arrivals.map((a) => `${a.client}:${a.message.type}`);
    expect(order.indexOf('Cyd:joined')).toBeGreaterThan(order.indexOf('Ada:participant-joined'));
    expect(order.indexOf('Cyd:joined')).toBeGreaterThan(order.indexOf('Bob:participant-joined'));

    // What the order is for: the newcomer's first offer never reaches someone who does not know it yet.
    cyd.send({ type: 'signal', to: ada.participantId, data: offer });
    const relayed = await ada.nextOfType('signal');
    expect(relayed.from).toBe(cyd.participantId);
    expect(
      ada.received.findIndex((m) => m.type === 'participant-joined' && m.participant.id === cyd.participantId),
    ).toBeLessThan(ada.received.indexOf(relayed));
  });

  it('refuses an unsupported protocol version with the request id, then closes 4004', async () => {
    const { wsUrl, server } = await startServer();
    const client = await TestClient.connect(wsUrl);
    const reply = await client.join('room', 'Ada', { version: PROTOCOL_VERSION + 1 });
    expect(reply).toMatchObject({ type: 'error', code: ErrorCode.UnsupportedVersion, id: expect.any(Number) });
    expect((await client.closed).code).toBe(CloseCode.JoinRefused);
    expect(server.stats().rooms).toBe(0);
  });

  it.each([['Daily Standup'], ['-edge'], ['x'.repeat(65)], ['../etc'], ['']])(
    'refuses the invalid room name %j with invalid_room_name and 4004',
    async (room) => {
      const { wsUrl, server } = await startServer();
      const client = await TestClient.connect(wsUrl);
      expect(await client.join(room, 'Ada')).toMatchObject({ type: 'error', code: ErrorCode.InvalidRoomName });
      expect((await client.closed).code).toBe(CloseCode.JoinRefused);
      expect(server.stats().rooms).toBe(0);
    },
  );

  it('refuses a join to a full room with room_full and 4004; the people inside see nothing', async () => {
    const { wsUrl, server } = await startServer({ maxParticipants: 2 });
    const ada = await TestClient.joined(wsUrl, 'small', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'small', 'Bob');
    await ada.nextOfType('participant-joined');
    const cyd = await TestClient.connect(wsUrl, 'Cyd');
    expect(await cyd.join('small', 'Cyd')).toMatchObject({ type: 'error', code: ErrorCode.RoomFull });
    expect((await cyd.closed).code).toBe(CloseCode.JoinRefused);
    await sleep(50);
    expect(ada.unconsumed).toEqual([]);
    expect(bob.unconsumed).toEqual([]);
    expect(server.stats().participants).toBe(2);
    // Someone leaving frees the seat.
    bob.send({ type: 'leave' });
    await ada.nextOfType('participant-left');
    const dan = await TestClient.connect(wsUrl, 'Dan');
    expect((await dan.join('small', 'Dan')).type).toBe('joined');
  });

  it('answers a second join with already_joined and keeps the participant in its room', async () => {
    const { wsUrl, server } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'one', 'Ada');
    const reply = await ada.join('two', 'Ada');
    expect(reply).toMatchObject({ type: 'error', code: ErrorCode.AlreadyJoined });
    expect(server.stats()).toMatchObject({ rooms: 1, participants: 1 });
    const id = ada.request({ type: 'update', audioMuted: true });
    expect(await ada.next((m) => 'id' in m && m.id === id)).toEqual({ type: 'ok', id });
  });

  it('closes a connection that does not join in time with 4002', async () => {
    const { wsUrl, server } = await startServer({ joinTimeoutMs: 100 });
    const client = await TestClient.connect(wsUrl);
    const started = performance.now();
    expect((await client.closed).code).toBe(CloseCode.JoinTimeout);
    expect(performance.now() - started).toBeLessThan(1000);
    await sleep(20);
    expect(server.stats().connections).toBe(0);
  });

  it('lets a client retry a join that was malformed (the join timer keeps running)', async () => {
    const { wsUrl } = await startServer();
    const client = await TestClient.connect(wsUrl);
    const id = client.request({
      type: 'join',
      version: PROTOCOL_VERSION,
      room: 'r',
      name: '',
      audioMuted: false,
      videoMuted: false,
    });
    expect(await client.next()).toMatchObject({ type: 'error', id, code: ErrorCode.InvalidMessage });
    expect((await client.join('r', 'Ada')).type).toBe('joined');
  });
});

describe('signal relay', () => {
  it('relays descriptions and candidates both ways, in order, stamped with the sender', async () => {
    const { wsUrl } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'pair', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'pair', 'Bob');

    ada.send({ type: 'signal', to: bob.participantId, data: offer });
    ada.send({ type: 'signal', to: bob.participantId, data: candidate });
    ada.send({ type: 'signal', to: bob.participantId, data: { candidate: null } });
    expect(await bob.nextOfType('signal')).toEqual({ type: 'signal', from: ada.participantId, data: offer });
    expect(await bob.nextOfType('signal')).toEqual({ type: 'signal', from: ada.participantId, data: candidate });
    expect(await bob.nextOfType('signal')).toEqual({
      type: 'signal',
      from: ada.participantId,
      data: { candidate: null },
    });

    const answer = { description: { type: 'answer', sdp: 'v=0\r\n' } };
    bob.send({ type: 'signal', to: ada.participantId, data: answer });
    expect(await ada.nextOfType('signal')).toEqual({ type: 'signal', from: bob.participantId, data: answer });
  });

  it('never relays across rooms, to unknown ids or back to the sender: unknown_participant without id', async () => {
    const { wsUrl } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'red', 'Ada');
    const eve = await TestClient.joined(wsUrl, 'blue', 'Eve');

    for (const to of [eve.participantId, 'no-such-id', ada.participantId, '__proto__', 'constructor']) {
      ada.send({ type: 'signal', to, data: offer });
      const error = await ada.nextOfType('error');
      expect(error).toEqual({ type: 'error', code: ErrorCode.UnknownParticipant, message: expect.any(String) });
    }
    await sleep(50);
    expect(eve.unconsumed).toEqual([]);
  });

  it('answers not_joined to anything before join, keeping the request id, and keeps serving', async () => {
    const { wsUrl } = await startServer();
    const client = await TestClient.connect(wsUrl);
    const id = client.request({ type: 'update', audioMuted: true });
    expect(await client.next()).toMatchObject({ type: 'error', id, code: ErrorCode.NotJoined });
    client.send({ type: 'signal', to: 'someone', data: offer });
    const error = await client.next();
    expect(error).toMatchObject({ type: 'error', code: ErrorCode.NotJoined });
    expect(error).not.toHaveProperty('id');
    client.send({ type: 'leave' });
    expect(await client.next()).toMatchObject({ type: 'error', code: ErrorCode.NotJoined });
    expect((await client.join('later', 'Ada')).type).toBe('joined');
  });
});

describe('update', () => {
  it('answers ok and tells the others the new state', async () => {
    const { wsUrl } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'mute', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'mute', 'Bob');
    await ada.nextOfType('participant-joined');

    const id = ada.request({ type: 'update', audioMuted: true, name: 'Ada L.' });
    expect(await ada.next()).toEqual({ type: 'ok', id });
    expect(await bob.nextOfType('participant-updated')).toEqual({
      type: 'participant-updated',
      participant: {
        id: ada.participantId,
        name: 'Ada L.',
        audioMuted: true,
        videoMuted: false,
        joinedAt: expect.any(Number),
      },
    });
    await sleep(30);
    expect(ada.unconsumed).toEqual([]);

    // A newcomer sees the current state in joined.
    const cyd = await TestClient.connect(wsUrl, 'Cyd');
    const joined = await cyd.join('mute', 'Cyd');
    expect(joined.type === 'joined' && joined.room.participants.find((p) => p.id === ada.participantId)).toMatchObject({
      name: 'Ada L.',
      audioMuted: true,
    });
  });

  it('answers invalid_message with the id for wrong field types, and changes nothing', async () => {
    const { wsUrl } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'types', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'types', 'Bob');
    await ada.nextOfType('participant-joined');
    const id = ada.request({ type: 'update', audioMuted: 'yes' });
    expect(await ada.next()).toMatchObject({ type: 'error', id, code: ErrorCode.InvalidMessage });
    ada.send({ type: 'signal', to: 42, data: offer });
    expect(await ada.nextOfType('error')).toMatchObject({ code: ErrorCode.InvalidMessage });
    await sleep(30);
    expect(bob.unconsumed).toEqual([]);
  });
});

describe('leaving', () => {
  it('on leave: the others get participant-left "left" and the socket closes 1000', async () => {
    const { wsUrl, server } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'bye', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'bye', 'Bob');
    bob.send({ type: 'leave' });
    expect(await ada.nextOfType('participant-left')).toEqual({
      type: 'participant-left',
      participantId: bob.participantId,
      reason: 'left',
    });
    expect((await bob.closed).code).toBe(CloseCode.Normal);
    expect(server.stats()).toMatchObject({ rooms: 1, participants: 1 });
  });

  it.each([
    ['closes its socket', (client: TestClient) => client.socket.close()],
    ['loses its connection abruptly', (client: TestClient) => client.socket.terminate()],
  ])('when a participant %s without leave, the others see "disconnected" within 2 s', async (_label, drop) => {
    const { wsUrl, server } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'tab', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'tab', 'Bob');
    const started = performance.now();
    drop(bob);
    expect(await ada.nextOfType('participant-left', 2000)).toEqual({
      type: 'participant-left',
      participantId: bob.participantId,
      reason: 'disconnected',
    });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(server.stats().participants).toBe(1);
  });

  it('removes a room when its last participant leaves', async () => {
    const { wsUrl, server } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'empty-me', 'Ada');
    expect(server.stats().rooms).toBe(1);
    ada.send({ type: 'leave' });
    await ada.closed;
    await sleep(20);
    expect(server.stats()).toMatchObject({ rooms: 0, participants: 0, connections: 0 });
  });

  it('drops a participant that stops answering pings, as "unresponsive", and closes it with 4003', async () => {
    const { wsUrl } = await startServer({ pingIntervalMs: 40, pingTimeoutMs: 200 });
    const ada = await TestClient.joined(wsUrl, 'ping', 'Ada');
    const ghost = await TestClient.joined(wsUrl, 'ping', 'Ghost', { autoPong: false });
    const started = performance.now();
    expect(await ada.nextOfType('participant-left', 2000)).toEqual({
      type: 'participant-left',
      participantId: ghost.participantId,
      reason: 'unresponsive',
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(100);
    expect(elapsed).toBeLessThan(1000);
    expect((await ghost.closed).code).toBe(CloseCode.Unresponsive);

    // Ada answers pings (ws does by default) and stays, well past the timeout.
    await sleep(400);
    const id = ada.request({ type: 'update', videoMuted: true });
    expect(await ada.next((m) => 'id' in m && m.id === id)).toEqual({ type: 'ok', id });
  });

  it('with the default settings, announces a participant whose network died within 15 s', async () => {
    const { wsUrl } = await startServer(); // default ping interval and timeout, as shipped
    const ada = await TestClient.joined(wsUrl, 'dead-network', 'Ada');
    // A dead network looks like this from the server: the socket stays open, nothing comes back.
    const ghost = await TestClient.joined(wsUrl, 'dead-network', 'Ghost', { autoPong: false });
    const started = performance.now();
    const left = await ada.nextOfType('participant-left', 16_000);
    const elapsed = performance.now() - started;
    expect(left).toMatchObject({ participantId: ghost.participantId, reason: 'unresponsive' });
    expect(elapsed).toBeLessThan(15_000);
  }, 20_000);
});

describe('bad input', () => {
  it('answers invalid JSON, unknown types and binary frames with an error, and keeps serving', async () => {
    const { wsUrl } = await startServer();
    const client = await TestClient.connect(wsUrl);
    client.sendRaw('{not json');
    expect(await client.next()).toMatchObject({ type: 'error', code: ErrorCode.InvalidJson });
    client.sendRaw('[1,2,3]');
    expect(await client.next()).toMatchObject({ type: 'error', code: ErrorCode.InvalidJson });
    client.send({ type: 'hack', id: 9 });
    expect(await client.next()).toEqual({
      type: 'error',
      id: 9,
      code: ErrorCode.UnknownType,
      message: expect.any(String),
    });
    client.send({ id: 10 });
    expect(await client.next()).toMatchObject({ type: 'error', id: 10, code: ErrorCode.UnknownType });
    client.sendRaw(Buffer.from([1, 2, 3]));
    expect(await client.next()).toMatchObject({ type: 'error', code: ErrorCode.InvalidMessage });
    expect((await client.join('still-fine', 'Ada')).type).toBe('joined');
  });

  it('closes with 1009 on a frame above the size limit; the room hears "disconnected"', async () => {
    const { wsUrl } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'big', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'big', 'Bob');
    bob.sendRaw(
      JSON.stringify({
        type: 'signal',
        to: ada.participantId,
        data: { description: { type: 'offer', sdp: 'x'.repeat(LIMITS.defaultMaxMessageBytes) } },
      }),
    );
    expect((await bob.closed).code).toBe(CloseCode.MessageTooBig);
    expect(await ada.nextOfType('participant-left')).toMatchObject({
      participantId: bob.participantId,
      reason: 'disconnected',
    });
    expect(ada.unconsumed.filter((m) => m.type === 'signal')).toEqual([]);
  });

  it('accepts a message just under the size limit', async () => {
    const { wsUrl } = await startServer({ maxMessageBytes: 2048 });
    const ada = await TestClient.joined(wsUrl, 'edge', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'edge', 'Bob');
    const envelope = JSON.stringify({
      type: 'signal',
      to: bob.participantId,
      data: { description: { type: 'offer', sdp: '' } },
    });
    const sdp = 'x'.repeat(2048 - envelope.length);
    ada.sendRaw(
      JSON.stringify({ type: 'signal', to: bob.participantId, data: { description: { type: 'offer', sdp } } }),
    );
    expect((await bob.nextOfType('signal')).data).toEqual({ description: { type: 'offer', sdp } });
    ada.sendRaw(
      JSON.stringify({
        type: 'signal',
        to: bob.participantId,
        data: { description: { type: 'offer', sdp: `${sdp}x` } },
      }),
    );
    expect((await ada.closed).code).toBe(CloseCode.MessageTooBig);
  });

  it('treats __proto__ and constructor keys as plain data', async () => {
    const { wsUrl, server } = await startServer();
    const ada = await TestClient.connect(wsUrl, 'Ada');
    ada.sendRaw(
      `{"type":"join","id":1,"version":${PROTOCOL_VERSION},"room":"constructor","name":"__proto__","audioMuted":false,"videoMuted":false,` +
        '"__proto__":{"polluted":true,"type":"leave"},"constructor":{"prototype":{"polluted":true}}}',
    );
    const joined = await ada.next();
    expect(joined).toMatchObject({ type: 'joined', room: { name: 'constructor' }, self: { name: '__proto__' } });
    if (joined.type === 'joined') ada.participantId = joined.participantId;
    const bob = await TestClient.joined(wsUrl, 'constructor', 'Bob');

    ada.sendRaw('{"type":"update","id":2,"__proto__":{"audioMuted":true},"constructor":{"name":"x"}}');
    expect(await ada.next((m) => m.type === 'ok')).toEqual({ type: 'ok', id: 2 });
    bob.sendRaw(
      `{"type":"signal","to":"${ada.participantId}","data":{"candidate":null,"__proto__":{"candidate":"evil"}}}`,
    );
    const answer = await bob.nextOfType('error');
    expect(answer.code).toBe(ErrorCode.InvalidMessage);
    bob.sendRaw(`{"type":"signal","to":"${ada.participantId}","__proto__":{"to":"x"},"data":{"candidate":null}}`);
    expect(await ada.nextOfType('signal')).toEqual({
      type: 'signal',
      from: bob.participantId,
      data: { candidate: null },
    });

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('audioMuted');
    expect(server.stats()).toMatchObject({ rooms: 1, participants: 2 });
  });
});

describe('rate limiting', () => {
  it('warns a flooding client, then closes it with 4001, while other rooms carry on untouched', async () => {
    const { wsUrl } = await startServer({ rateLimitPerSecond: 20, rateLimitBurst: 20 });
    const ada = await TestClient.joined(wsUrl, 'calm', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'calm', 'Bob');
    await ada.nextOfType('participant-joined');
    const flooder = await TestClient.joined(wsUrl, 'noisy', 'Flooder');

    const relayed: Promise<unknown>[] = [];
    const relay = async () => {
      for (let i = 0; i < 8; i += 1) {
        ada.send({ type: 'signal', to: bob.participantId, data: { candidate: { candidate: `candidate:${i}` } } });
        relayed.push(bob.nextOfType('signal'));
        await sleep(15);
      }
    };
    const flooding = (async () => {
      for (let i = 0; i < 300; i += 1) flooder.send({ type: 'update', id: 1000 + i, audioMuted: i % 2 === 0 });
    })();
    await Promise.all([relay(), flooding]);

    expect((await flooder.closed).code).toBe(CloseCode.RateLimited);
    const errors = flooder.received.filter((m) => m.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.every((m) => m.type === 'error' && m.code === ErrorCode.RateLimited)).toBe(true);
    // at most one warning a second
    expect(errors.length).toBeLessThanOrEqual(2);
    const firstWarning = flooder.received.findIndex((m) => m.type === 'error');
    expect(flooder.received.slice(0, firstWarning).every((m) => m.type === 'ok' || m.type === 'joined')).toBe(true);
    // About a burst (20) got through, plus whatever refilled while the flood arrived; not the 300.
    expect(flooder.received.filter((m) => m.type === 'ok').length).toBeLessThan(40);

    const signals = (await Promise.all(relayed)) as { data: { candidate: { candidate: string } } }[];
    expect(signals.map((s) => s.data.candidate.candidate)).toEqual([...Array(8).keys()].map((i) => `candidate:${i}`));
    await sleep(30);
    expect(ada.unconsumed).toEqual([]);
    expect(bob.unconsumed).toEqual([]);
  });

  it('drops messages over the limit but keeps a client that slows down after the warning', async () => {
    const { wsUrl } = await startServer({ rateLimitPerSecond: 5, rateLimitBurst: 10 });
    const ada = await TestClient.joined(wsUrl, 'burst', 'Ada');
    for (let i = 0; i < 14; i += 1) ada.send({ type: 'update', id: 100 + i, audioMuted: true });
    expect(await ada.nextOfType('error')).toMatchObject({ code: ErrorCode.RateLimited });
    await sleep(400); // 2 tokens back at 5/s
    const oks = ada.received.filter((m) => m.type === 'ok');
    expect(oks.length).toBeGreaterThanOrEqual(9);
    expect(oks.length).toBeLessThan(14);
    const id = ada.request({ type: 'update', audioMuted: false });
    expect(await ada.next((m) => 'id' in m && m.id === id)).toEqual({ type: 'ok', id });
    expect(ada.socket.readyState).toBe(ada.socket.OPEN);
  });
});

describe('stats', () => {
  it('counts connections, rooms, participants and messages', async () => {
    const { wsUrl, server } = await startServer();
    expect(server.stats()).toMatchObject({ connections: 0, rooms: 0, participants: 0, messagesIn: 0, messagesOut: 0 });
    const ada = await TestClient.joined(wsUrl, 'a', 'Ada');
    await TestClient.joined(wsUrl, 'a', 'Bob');
    await TestClient.joined(wsUrl, 'b', 'Cyd');
    await TestClient.connect(wsUrl, 'lurker');
    await ada.nextOfType('participant-joined');
    expect(server.stats()).toMatchObject({ connections: 4, rooms: 2, participants: 3, messagesIn: 3 });
    // joined ×3 + participant-joined ×1
    expect(server.stats().messagesOut).toBe(4);
  });
});
