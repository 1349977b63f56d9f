import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, PROTOCOL_VERSION, type ServerMessage } from '@convene/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type WebSocket as WsSocket } from 'ws';
import type { ConveneError } from './errors.js';
import { SignalingClient } from './signaling.js';
import { captureLogs } from './test-support/logs.js';
import { unusedPort } from './test-support/relay-server.js';
import { sleep } from './test-support/wait.js';

// Boundary: ws's client class implements the browser WebSocket API the SDK uses.
const WebSocketCtor = WebSocket as unknown as new (url: string) => globalThis.WebSocket;

const joinRequest = {
  type: 'join',
  version: PROTOCOL_VERSION,
  room: 'standup',
  name: 'Ada',
  audioMuted: false,
  videoMuted: true,
} as const;

function joinedReply(id: number): ServerMessage {
  const self = { id: 'p1', name: 'Ada', audioMuted: false, videoMuted: true, joinedAt: 1 };
  return {
    type: 'joined',
    id,
    version: PROTOCOL_VERSION,
    participantId: 'p1',
    resumeToken: 'r',
    iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
    room: { name: 'standup', mode: 'mesh', participants: [] },
    self,
    limits: { maxMessageBytes: 65536, maxParticipants: 50 },
  };
}

interface ScriptedServer {
  url: string;
  /** Messages the server received, parsed. */
  received: Record<string, unknown>[];
  closes: number[];
  close(): Promise<void>;
}

/** A ws server whose reaction to each client message is scripted by the test. */
async function scriptedServer(
  onMessage: (socket: WsSocket, message: Record<string, unknown>) => void,
): Promise<ScriptedServer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const received: Record<string, unknown>[] = [];
  const closes: number[] = [];
  server.on('connection', (socket) => {
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as Record<string, unknown>;
      received.push(message);
      onMessage(socket, message);
    });
    socket.on('close', (code) => closes.push(code));
  });
  const { port } = server.address() as AddressInfo;
  const result: ScriptedServer = {
    url: `ws://127.0.0.1:${port}`,
    received,
    closes,
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(result);
  return result;
}

const servers: ScriptedServer[] = [];
const clients: SignalingClient[] = [];
let logs = captureLogs();

function client(url: string, requestTimeoutMs?: number): SignalingClient {
  const signaling = new SignalingClient({ url, WebSocket: WebSocketCtor, requestTimeoutMs });
  clients.push(signaling);
  return signaling;
}

function nextClose(signaling: SignalingClient): Promise<ConveneError | null> {
  return new Promise((resolve) => signaling.once('closed', resolve));
}

const reply = (socket: WsSocket, message: unknown): void => socket.send(JSON.stringify(message));

afterEach(async () => {
  for (const signaling of clients.splice(0)) signaling.close();
  for (const server of servers.splice(0)) await server.close();
  logs.restore();
  logs = captureLogs();
});

describe('SignalingClient requests', () => {
  it('numbers requests and resolves each with its own reply, whatever the reply order', async () => {
    const server = await scriptedServer((socket, message) => {
      if (message.type === 'join') reply(socket, joinedReply(message.id as number));
      // Answer the first update late so the second one's reply arrives first.
      if (message.type === 'update')
        setTimeout(() => reply(socket, { type: 'ok', id: message.id }), message.audioMuted ? 30 : 0);
    });
    const signaling = client(server.url);
    await signaling.connect(2000);
    expect(signaling.state).toBe('open');
    const joined = await signaling.request(joinRequest);
    expect(joined.participantId).toBe('p1');
    const [first, second] = await Promise.all([
      signaling.request({ type: 'update', audioMuted: true }),
      signaling.request({ type: 'update', audioMuted: false }),
    ]);
    expect([first.type, second.type]).toEqual(['ok', 'ok']);
    const ids = server.received.map((message) => message.id);
    expect(new Set(ids).size).toBe(3);
    expect(first.id).toBe(ids[1]);
    expect(second.id).toBe(ids[2]);
  });

  it('an error reply rejects the request with the server code', async () => {
    const server = await scriptedServer((socket, message) => {
      reply(socket, { type: 'error', id: message.id, code: ErrorCode.RoomFull, message: 'room is full' });
      socket.close(4004, 'room_full');
    });
    const signaling = client(server.url);
    await signaling.connect(2000);
    const closed = nextClose(signaling);
    await expect(signaling.request(joinRequest)).rejects.toMatchObject({ code: 'room_full', message: 'room is full' });
    // The 4004 close that follows reports the same reason.
    expect((await closed)?.code).toBe('room_full');
  });

  it('times out a request the server never answers, and ignores its late reply', async () => {
    let lateReply: (() => void) | undefined;
    const server = await scriptedServer((socket, message) => {
      lateReply = () => reply(socket, { type: 'ok', id: message.id });
    });
    const signaling = client(server.url, 50);
    await signaling.connect(2000);
    const started = Date.now();
    await expect(signaling.request({ type: 'update', videoMuted: true })).rejects.toMatchObject({
      code: 'connection_lost',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    await expect(
      signaling.request(joinRequest, { timeoutMs: 30, timeoutError: () => ({ code: 'join_timeout' }) as ConveneError }),
    ).rejects.toMatchObject({ code: 'join_timeout' });
    lateReply?.();
    await sleep(30);
    expect(signaling.state).toBe('open');
    expect(logs.records.some((record) => record.message.includes('unknown or expired request'))).toBe(true);
  });

  it('a reply of the wrong type rejects instead of resolving with the wrong shape', async () => {
    const server = await scriptedServer((socket, message) => reply(socket, { type: 'ok', id: message.id }));
    const signaling = client(server.url);
    await signaling.connect(2000);
    await expect(signaling.request(joinRequest)).rejects.toMatchObject({ code: 'internal_error' });
  });
});

describe('SignalingClient frames and events', () => {
  it('drops bad frames with a warning and still delivers the next good event', async () => {
    const participant = { id: 'p2', name: 'Bo', audioMuted: false, videoMuted: false, joinedAt: 2 };
    const server = await scriptedServer((socket) => {
      socket.send('not json');
      socket.send(JSON.stringify({ type: 'no-such-type' }));
      socket.send(JSON.stringify({ type: 'participant-joined', participant: { id: 7 } }));
      socket.send(Buffer.from([1, 2, 3]));
      reply(socket, { type: 'participant-joined', participant });
    });
    const signaling = client(server.url);
    await signaling.connect(2000);
    const event = new Promise((resolve) => signaling.once('message', resolve));
    signaling.send({ type: 'leave' });
    expect(await event).toEqual({ type: 'participant-joined', participant });
    const warnings = logs.records.filter((record) => record.level === 'warn').map((record) => record.message);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toContain('invalid_json');
    expect(signaling.state).toBe('open');
  });

  it('an error without id is an event (e.g. a signal to someone who left)', async () => {
    const server = await scriptedServer((socket) =>
      reply(socket, { type: 'error', code: ErrorCode.UnknownParticipant, message: 'no p9 here' }),
    );
    const signaling = client(server.url);
    await signaling.connect(2000);
    const event = new Promise((resolve) => signaling.once('message', resolve));
    signaling.send({ type: 'signal', to: 'p9', data: { candidate: null } });
    expect(await event).toMatchObject({ type: 'error', code: 'unknown_participant' });
  });
});

describe('SignalingClient connection', () => {
  it('nothing listening: connect rejects with server_unreachable', async () => {
    const signaling = client(`ws://127.0.0.1:${await unusedPort()}/ws`);
    await expect(signaling.connect(2000)).rejects.toMatchObject({ code: 'server_unreachable' });
    expect(signaling.state).toBe('closed');
  });

  it('a malformed URL: server_unreachable, and the client reports itself closed', async () => {
    const signaling = client('not a url');
    const closed = nextClose(signaling);
    await expect(signaling.connect(2000)).rejects.toMatchObject({ code: 'server_unreachable' });
    expect((await closed)?.code).toBe('server_unreachable');
  });

  it('a server that accepts TCP but never upgrades: server_unreachable after the timeout', async () => {
    const sockets: Socket[] = [];
    const tcp: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const signaling = client(`ws://127.0.0.1:${(tcp.address() as AddressInfo).port}/ws`);
      const started = Date.now();
      await expect(signaling.connect(100)).rejects.toMatchObject({ code: 'server_unreachable' });
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it.each([
    [1001, 'shutting_down'],
    [4001, 'rate_limited'],
    [4003, 'connection_lost'],
    [1011, 'internal_error'],
  ])('server closes with %i: closed(%s), and a pending request rejects with it', async (code, expected) => {
    const server = await scriptedServer((socket) => socket.close(code, 'bye'));
    const signaling = client(server.url);
    await signaling.connect(2000);
    const closed = nextClose(signaling);
    await expect(signaling.request({ type: 'update', audioMuted: true })).rejects.toMatchObject({ code: expected });
    expect((await closed)?.code).toBe(expected);
    expect(signaling.state).toBe('closed');
  });

  it('a connection dropped without a close frame is connection_lost', async () => {
    const server = await scriptedServer((socket) => socket.terminate());
    const signaling = client(server.url);
    await signaling.connect(2000);
    const closed = nextClose(signaling);
    signaling.send({ type: 'leave' });
    expect((await closed)?.code).toBe('connection_lost');
  });

  it('close() by us: closed(null), pending requests reject with closed, the server sees 1000', async () => {
    const server = await scriptedServer(() => {});
    const signaling = client(server.url);
    await signaling.connect(2000);
    const pending = signaling.request({ type: 'update', audioMuted: true });
    const closed = nextClose(signaling);
    signaling.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    expect(await closed).toBeNull();
    expect(signaling.send({ type: 'leave' })).toBe(false);
    await expect(signaling.request({ type: 'update' })).rejects.toMatchObject({ code: 'closed' });
    await sleep(50);
    expect(server.closes).toEqual([1000]);
  });
});
