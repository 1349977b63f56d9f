import { createSocket } from 'node:dgram';
import type { IceServer } from '@convene/protocol';
import {
  decodeStunMessage,
  longTermKey,
  newTransactionId,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
} from '@convene/turn';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hostnameOf } from '../src/iceServers.js';
import { ConfigError, createConveneServer, createSilentLogger, TurnStartError } from '../src/index.js';
import { emptyDir, startServer, TestClient } from './helpers.js';

/**
 * What a browser does with the TURN server `joined` hands it: Allocate over UDP, answer the 401
 * challenge with the given username/credential. Resolves with the final answer's error code (0 =
 * allocated) and the relayed address.
 */
async function allocateWith(
  url: string,
  username: string,
  credential: string,
): Promise<{ code: number; relayed?: string }> {
  const match = /^turn:([^:?]+):(\d+)/.exec(url);
  if (!match) throw new Error(`not a turn: URL: ${url}`);
  const host = match[1] ?? '';
  const port = Number(match[2]);
  const socket = createSocket('udp4');
  const exchange = (bytes: Uint8Array) =>
    new Promise<StunMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no TURN answer')), 2000);
      socket.once('message', (answer: Buffer) => {
        clearTimeout(timer);
        resolve(decodeStunMessage(answer));
      });
      socket.send(bytes, port, host);
    });
  try {
    const challenge = await exchange(
      new StunMessageBuilder(StunClass.Request, StunMethod.Allocate, newTransactionId()).requestedTransport(17).build(),
    );
    const realm = challenge.realm ?? '';
    const answer = await exchange(
      new StunMessageBuilder(StunClass.Request, StunMethod.Allocate, newTransactionId())
        .requestedTransport(17)
        .username(username)
        .realm(realm)
        .nonce(challenge.nonce ?? '')
        .build({ integrityKey: longTermKey(username, realm, credential), fingerprint: true }),
    );
    const relayed = answer.xorRelayedAddress;
    return {
      code: answer.cls === StunClass.ErrorResponse ? (answer.errorCode?.code ?? -1) : 0,
      ...(relayed ? { relayed: `${relayed.address}:${relayed.port}` } : {}),
    };
  } finally {
    socket.close();
  }
}

function turnEntry(iceServers: IceServer[]): { urls: string[]; username: string; credential: string } {
  const entry = iceServers.find((s) => [s.urls].flat().some((u) => u.startsWith('turn:')));
  if (!entry?.username || !entry.credential) throw new Error(`no TURN server in ${JSON.stringify(iceServers)}`);
  return { urls: [entry.urls].flat(), username: entry.username, credential: entry.credential };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('embedded TURN, handed out in joined', () => {
  it('gives each participant STUN and TURN (UDP and TCP) at the address it reached us by, with working credentials', async () => {
    const { wsUrl, server } = await startServer();
    const turnPort = (await server.listen()).turn.find((l) => l.transport === 'udp')?.port;
    const alice = await TestClient.connect(wsUrl, 'alice');
    const joined = await alice.join('turn-room', 'Alice');
    if (joined.type !== 'joined') throw new Error('not joined');
    expect(joined.iceServers[0]).toEqual({ urls: `stun:127.0.0.1:${turnPort}` });
    const turn = turnEntry(joined.iceServers);
    expect(turn.urls).toEqual([`turn:127.0.0.1:${turnPort}?transport=udp`, `turn:127.0.0.1:${turnPort}?transport=tcp`]);
    // TURN REST: <expiry>:<participant id>, valid for the configured 300 s.
    const [expiry, user] = turn.username.split(':');
    expect(user).toBe(joined.participantId);
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(290);
    expect(Number(expiry) - Date.now() / 1000).toBeLessThanOrEqual(300);

    const allocated = await allocateWith(turn.urls[0] ?? '', turn.username, turn.credential);
    expect(allocated.code).toBe(0);
    expect(server.stats().turn?.allocationsCreated).toBe(1);
    expect(allocated.relayed).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await allocateWith(turn.urls[0] ?? '', turn.username, `${turn.credential}x`)).code).toBe(401);
  });

  it('applies --turn-allocations-per-user: one more allocation with the same credentials gets 486', async () => {
    const { wsUrl } = await startServer({ turnAllocationsPerUser: 1 });
    const joined = await (await TestClient.connect(wsUrl)).join('quota', 'Quinn');
    if (joined.type !== 'joined') throw new Error('not joined');
    const turn = turnEntry(joined.iceServers);
    expect((await allocateWith(turn.urls[0] ?? '', turn.username, turn.credential)).code).toBe(0);
    expect((await allocateWith(turn.urls[0] ?? '', turn.username, turn.credential)).code).toBe(486);
  });

  it('uses --announced-address in the URLs when set', async () => {
    const { wsUrl } = await startServer({ announcedAddress: 'meet.example.org' });
    const joined = await (await TestClient.connect(wsUrl)).join('announced', 'Ann');
    if (joined.type !== 'joined') throw new Error('not joined');
    expect(turnEntry(joined.iceServers).urls[0]).toMatch(/^turn:meet\.example\.org:\d+\?transport=udp$/);
  });

  it('sends fresh credentials before they expire (ice-servers), and keeps doing so', async () => {
    const { wsUrl } = await startServer({ pingIntervalMs: 3_000_000, pingTimeoutMs: 3_600_000 });
    // Fake time that also runs by itself, so sockets and the join work as usual.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true });
    const alice = await TestClient.connect(wsUrl, 'alice');
    const joined = await alice.join('renewal', 'Alice');
    if (joined.type !== 'joined') throw new Error('not joined');
    const first = turnEntry(joined.iceServers);
    vi.advanceTimersByTime(239_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(alice.unconsumed.filter((m) => m.type === 'ice-servers')).toEqual([]);
    vi.advanceTimersByTime(1_000); // 80% of 300 s
    vi.useRealTimers();
    const renewed = await alice.nextOfType('ice-servers');
    const second = turnEntry(renewed.iceServers);
    expect(second.username).not.toBe(first.username);
    expect(Number(second.username.split(':')[0])).toBeGreaterThan(Number(first.username.split(':')[0]));
    expect((await allocateWith(second.urls[0] ?? '', second.username, second.credential)).code).toBe(0);
  });

  it('hands out no TURN server with --no-turn', async () => {
    const { wsUrl, server } = await startServer({ turnDisabled: true, iceServers: ['stun:stun.example.org:3478'] });
    expect((await server.listen()).turn).toEqual([]);
    const joined = await (await TestClient.connect(wsUrl)).join('no-turn', 'Nat');
    if (joined.type !== 'joined') throw new Error('not joined');
    expect(joined.iceServers).toEqual([{ urls: 'stun:stun.example.org:3478' }]);
  });

  it('hands out an external TURN server (--turn-url) with credentials from --turn-secret, and starts none', async () => {
    const { wsUrl, server } = await startServer({
      turnUrls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'],
      turnSecret: 'shared-with-coturn',
    });
    expect((await server.listen()).turn).toEqual([]);
    const joined = await (await TestClient.connect(wsUrl)).join('external', 'Ext');
    if (joined.type !== 'joined') throw new Error('not joined');
    const turn = turnEntry(joined.iceServers);
    expect(turn.urls).toEqual(['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp']);
    const { createHmac } = await import('node:crypto');
    expect(turn.credential).toBe(createHmac('sha1', 'shared-with-coturn').update(turn.username).digest('base64'));
  });

  it('fails to start with TurnStartError (EADDRINUSE) when the TURN port is taken, and frees the HTTP port', async () => {
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', resolve));
    const taken = squatter.address().port;
    const server = createConveneServer(
      { host: '127.0.0.1', port: 0, turnPort: taken, webRoot: emptyDir() },
      { logger: createSilentLogger() },
    );
    const error: unknown = await server.listen().catch((e: unknown) => e);
    squatter.close();
    expect(error).toBeInstanceOf(TurnStartError);
    expect((error as TurnStartError).code).toBe('EADDRINUSE');
    await server.close();
  });

  it('refuses --turn-url without --turn-secret, and bad TURN settings, at startup', () => {
    const problems = (options: Parameters<typeof createConveneServer>[0]) => {
      try {
        createConveneServer(options, { logger: createSilentLogger() });
        return [];
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.problems;
      }
    };
    expect(problems({ turnUrls: ['turn:turn.example.org'] })).toEqual([
      expect.stringMatching(/--turn-url needs --turn-secret/),
    ]);
    expect(problems({ turnUrls: ['http://nope'], turnSecret: 'long-enough' })).toEqual([
      expect.stringMatching(/is not a TURN URL/),
    ]);
    expect(problems({ turnRelayPorts: '60000-50000' })).toEqual([expect.stringMatching(/--turn-relay-ports/)]);
    expect(problems({ turnSecret: 'short' })).toEqual(['--turn-secret must be at least 8 characters']);
    expect(problems({ announcedAddress: 'bad host!' })).toEqual([expect.stringMatching(/--announced-address/)]);
    expect(problems({ turnAllocationsPerUser: 0 })).toEqual([expect.stringMatching(/--turn-allocations-per-user/)]);
  });
});

describe('hostnameOf (Host header → URL host)', () => {
  it.each([
    ['127.0.0.1:8080', '127.0.0.1'],
    ['meet.example.org', 'meet.example.org'],
    ['[::1]:8080', '::1'],
    ['localhost:443', 'localhost'],
    ['evil.example/?x=', undefined],
    ['a b', undefined],
    ['[zz]:1', undefined],
    [undefined, undefined],
  ])('%s → %s', (header, host) => {
    expect(hostnameOf(header)).toBe(host);
  });
});
