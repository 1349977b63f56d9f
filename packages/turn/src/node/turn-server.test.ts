import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeChannelData, encodeChannelData } from '../server/channel-data.js';
import type { StunAddress } from '../stun/attributes.js';
import { StunMethod } from '../stun/constants.js';
import { decodeStunMessage } from '../stun/message.js';
import { TestTurnClient } from '../test-support/turn-client.js';
import { TurnTestSocket } from '../test-support/turn-socket.js';
import { TurnServer } from './turn-server.js';

// Real sockets on loopback: `npm test` runs this file inside a loopback-only network namespace.
const SECRET = 'integration-secret';
const REALM = 'convene.test';

/** A UDP peer that echoes every datagram back, prefixed with 0xEE so the test sees it was the echo. */
async function startEchoPeer(): Promise<{ socket: UdpSocket; address: StunAddress; received: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const peer = {
    socket,
    address: { family: 'IPv4' as const, address: '127.0.0.1', port: socket.address().port },
    received: 0,
  };
  socket.on('message', (bytes: Buffer, from: RemoteInfo) => {
    peer.received++;
    socket.send(Buffer.concat([Buffer.of(0xee), bytes]), from.port, from.address);
  });
  return peer;
}

async function allocate(
  socket: TurnTestSocket,
  client: TestTurnClient,
  family: 'IPv4' | 'IPv6' = 'IPv4',
): Promise<StunAddress> {
  const challenge = await socket.exchange(client.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
  expect(challenge?.code).toBe(401);
  if (challenge) client.learn(challenge.message);
  const answer = await socket.exchange(client.allocate(undefined, family));
  expect(answer?.code).toBe(0);
  const relayed = answer?.message.xorRelayedAddress;
  if (!relayed) throw new Error('no relayed address');
  return relayed;
}

describe('TurnServer on real sockets (loopback peers allowed, as in tests)', () => {
  let server: TurnServer;
  let peer: Awaited<ReturnType<typeof startEchoPeer>>;
  let tlsPort: number;

  beforeAll(async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256' });
    server = await TurnServer.start({
      secret: SECRET,
      realm: REALM,
      port: 0,
      listenAddresses: ['127.0.0.1'],
      relayPorts: { min: 42000, max: 42999 },
      allowLoopbackPeers: true,
      tls: { cert: pems.cert, key: pems.private, port: 0 },
    });
    tlsPort = server.listening.find((l) => l.transport === 'tls')?.port ?? 0;
    peer = await startEchoPeer();
  });

  afterAll(async () => {
    await server.close();
    peer.socket.close();
  });

  const port = () => server.listening.find((l) => l.transport === 'udp')?.port ?? 0;

  it('answers a Binding request with the client’s address', async () => {
    const socket = await TurnTestSocket.udp(port());
    const client = TestTurnClient.rest(SECRET, 'alice', REALM, Date.now());
    const answer = await socket.exchange(client.request(StunMethod.Binding));
    expect(answer?.message.xorMappedAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: socket.localPort });
    socket.close();
  });

  it.each([
    ['UDP', () => TurnTestSocket.udp(port())],
    ['TCP', () => TurnTestSocket.stream(port())],
    ['TLS', () => TurnTestSocket.stream(tlsPort, true)],
  ])('relays both ways over %s, through a channel and through indications', async (_name, open) => {
    const socket = await open();
    const client = TestTurnClient.rest(SECRET, `user-${_name}`, REALM, Date.now());
    const relayed = await allocate(socket, client);
    expect(relayed.address).toBe('127.0.0.1');
    expect(relayed.port).toBeGreaterThanOrEqual(42000);
    expect(relayed.port).toBeLessThanOrEqual(42999);

    expect((await socket.exchange(client.createPermission(peer.address)))?.code).toBe(0);
    socket.send(client.send(peer.address, Uint8Array.of(1, 2, 3)));
    const viaIndication = decodeStunMessage((await socket.nextData()) ?? new Uint8Array());
    expect(viaIndication.method).toBe(StunMethod.Data);
    expect([...(viaIndication.data ?? [])]).toEqual([0xee, 1, 2, 3]);
    expect(viaIndication.xorPeerAddresses[0]).toEqual(peer.address);

    expect((await socket.exchange(client.channelBind(0x4000, peer.address)))?.code).toBe(0);
    const payload = new Uint8Array(1001).fill(7); // odd length: TCP/TLS must pad
    socket.send(encodeChannelData(0x4000, payload, _name !== 'UDP'));
    const viaChannel = decodeChannelData((await socket.nextData()) ?? new Uint8Array());
    expect(viaChannel?.channel).toBe(0x4000);
    expect(viaChannel?.data.length).toBe(1002);
    expect(viaChannel?.data[0]).toBe(0xee);

    expect((await socket.exchange(client.refresh(0)))?.code).toBe(0);
    socket.close();
  });

  it('frees the relay port when the allocation ends, and drops a TCP client’s allocation when it disconnects', async () => {
    const before = server.core.allocationCount;
    const socket = await TurnTestSocket.stream(port());
    await allocate(socket, TestTurnClient.rest(SECRET, 'leaver', REALM, Date.now()));
    expect(server.core.allocationCount).toBe(before + 1);
    socket.close();
    await expect.poll(() => server.core.allocationCount).toBe(before);
  });

  it('drops relayed packets for a TCP client that stopped reading, instead of queueing without bound', async () => {
    const socket = await TurnTestSocket.stream(port());
    const client = TestTurnClient.rest(SECRET, 'stalled', REALM, Date.now());
    const relayed = await allocate(socket, client);
    expect((await socket.exchange(client.createPermission(peer.address)))?.code).toBe(0);
    socket.pauseReading();
    const chunk = Buffer.alloc(1200, 1);
    const before = server.counters.droppedBackpressure;
    // 48 MB from the peer: more than the kernel's socket buffers (up to ≈10 MB on loopback) and our 1 MB backlog.
    for (let i = 0; i < 40_000; i++) {
      peer.socket.send(chunk, relayed.port, relayed.address);
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await expect.poll(() => server.counters.droppedBackpressure - before, { timeout: 5000 }).toBeGreaterThan(1000);
    socket.close();
  });

  it('refuses bad credentials with 401 over the wire', async () => {
    const socket = await TurnTestSocket.udp(port());
    const client = TestTurnClient.rest('not-the-secret', 'mallory', REALM, Date.now());
    const challenge = await socket.exchange(client.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) client.learn(challenge.message);
    expect((await socket.exchange(client.allocate()))?.code).toBe(401);
    socket.close();
  });
});

describe('TurnServer limits on TCP clients', () => {
  it('closes a connection that does not allocate in time, and refuses connections beyond the cap', async () => {
    const server = await TurnServer.start({
      secret: SECRET,
      realm: REALM,
      port: 0,
      listenAddresses: ['127.0.0.1'],
      streamLimits: { maxConnections: 2, unallocatedTimeoutMs: 300 },
    });
    const port = server.listening[0]?.port ?? 0;
    const closedWithin = (socket: Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    const open = () =>
      new Promise<Socket>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
        socket.on('error', () => {});
      });
    const [first, second] = [await open(), await open()];
    const idleStart = Date.now();
    const firstClosed = closedWithin(first, 2000); // listening before anything can close it
    const third = await open();
    // Over the cap: closed at once, long before the 300 ms idle limit could be the reason.
    expect(await closedWithin(third, 100)).toBe(true);
    expect(await firstClosed).toBe(true); // never allocated: closed after 300 ms
    expect(Date.now() - idleStart).toBeGreaterThanOrEqual(200);
    second.destroy();
    await server.close();
  });
});

describe('TurnServer deny-list with default settings (no loopback peers)', () => {
  let server: TurnServer;
  let socket: TurnTestSocket;
  let client: TestTurnClient;
  let socket6: TurnTestSocket;
  let client6: TestTurnClient;

  beforeAll(async () => {
    server = await TurnServer.start({
      secret: SECRET,
      realm: REALM,
      port: 0,
      listenAddresses: ['127.0.0.1', '::1'],
      relayPorts: { min: 43000, max: 43999 },
      limits: { allocationsPerUser: 2 },
    });
    const port = server.listening[0]?.port ?? 0;
    socket = await TurnTestSocket.udp(port);
    client = TestTurnClient.rest(SECRET, 'prober', REALM, Date.now());
    await allocate(socket, client);
    // An IPv6 relay, so that IPv6 forms are judged by the deny-list and not refused for their family.
    socket6 = await TurnTestSocket.udp(port);
    client6 = TestTurnClient.rest(SECRET, 'prober6', REALM, Date.now());
    expect((await allocate(socket6, client6, 'IPv6')).family).toBe('IPv6');
  });

  afterAll(async () => {
    socket.close();
    socket6.close();
    await server.close();
  });

  const ownPort = () => server.listening[0]?.port ?? 0;
  const v4 = (address: string, port = 9): StunAddress => ({ family: 'IPv4', address, port });

  /** CreatePermission and ChannelBind get 403; a Send indication to it relays nothing. */
  async function expectRefused(via: TurnTestSocket, as: TestTurnClient, target: StunAddress): Promise<void> {
    const relayedBefore = server.counters.clientToPeerPackets;
    expect((await via.exchange(as.createPermission(target)))?.code).toBe(403);
    expect((await via.exchange(as.channelBind(0x4100, target)))?.code).toBe(403);
    via.send(as.send(target, Uint8Array.of(1)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.counters.clientToPeerPackets).toBe(relayedBefore);
  }

  it.each([
    ['loopback', '127.0.0.1'],
    ['loopback, elsewhere in 127/8', '127.3.2.1'],
    ['unspecified', '0.0.0.0'],
    ['private 10/8', '10.0.0.1'],
    ['private 172.16/12', '172.31.255.254'],
    ['private 192.168/16', '192.168.0.1'],
    ['link-local (cloud metadata)', '169.254.169.254'],
    ['carrier-grade NAT', '100.64.0.1'],
    ['multicast', '224.0.0.1'],
    ['broadcast', '255.255.255.255'],
  ])('refuses %s (%s) with 403 and relays nothing', async (_name, address) => {
    await expectRefused(socket, client, v4(address));
  });

  it.each([
    ['IPv6 unspecified', '::'],
    ['IPv6 loopback', '::1'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['IPv4-mapped private', '::ffff:10.1.2.3'],
    ['IPv4-mapped unspecified', '::ffff:0.0.0.0'],
    ['IPv4-compatible loopback', '::127.0.0.1'],
    ['NAT64 loopback', '64:ff9b::7f00:1'],
    ['NAT64 private', '64:ff9b::c0a8:101'],
    ['6to4 loopback', '2002:7f00:1::1'],
    ['6to4 private', '2002:a00:1::1'],
    ['link-local', 'fe80::1'],
    ['unique local', 'fd00::1'],
    ['multicast', 'ff02::1'],
    ['Teredo', '2001:0:4136:e378::1'],
  ])('refuses %s (%s) on an IPv6 relay with 403 and relays nothing', async (_name, address) => {
    await expectRefused(socket6, client6, { family: 'IPv6', address, port: 9 });
  });

  it('refuses our own listening port', async () => {
    expect((await socket.exchange(client.createPermission(v4('127.0.0.1', ownPort()))))?.code).toBe(403);
  });

  it('counts quota: a third allocation for the same user gets 486', async () => {
    const second = await TurnTestSocket.udp(ownPort());
    await allocate(second, TestTurnClient.rest(SECRET, 'prober', REALM, Date.now()));
    const third = await TurnTestSocket.udp(ownPort());
    const thirdClient = TestTurnClient.rest(SECRET, 'prober', REALM, Date.now());
    const challenge = await third.exchange(thirdClient.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) thirdClient.learn(challenge.message);
    expect((await third.exchange(thirdClient.allocate()))?.code).toBe(486);
    second.close();
    third.close();
  });
});
