import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCoturn, runUclient, startTurnutilsPeer, type TurnutilsPeer } from '../test-support/coturn.js';
import { TurnServer } from './turn-server.js';

// Interop with the reference implementation (STYLE #17): coturn's own client, turnutils_uclient,
// allocates on our server with TURN REST credentials (-W), binds channels (or uses Send
// indications with -s) and relays to coturn's echo peer, turnutils_peer. Every message must come
// back. `npm test` reports these as skipped (with the apt-get line) when coturn is not installed.
const SECRET = 'interop-secret';
// -u: REST usernames are `<expiry>:<user>`; we refuse coturn's bare `<expiry>` form, because the
// allocation quota is per user and a bare timestamp names nobody.
const AS_USER = ['-u', 'interop'];

describe.skipIf(!hasCoturn())('turnutils_uclient (coturn) through our TURN server', { timeout: 60_000 }, () => {
  let server: TurnServer;
  let peer: TurnutilsPeer;
  let udpPort: number;
  let tlsPort: number;

  beforeAll(async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256' });
    server = await TurnServer.start({
      secret: SECRET,
      realm: 'convene',
      port: 0,
      listenAddresses: ['127.0.0.1'],
      relayPorts: { min: 45000, max: 45999 },
      allowLoopbackPeers: true,
      tls: { cert: pems.cert, key: pems.private, port: 0 },
    });
    udpPort = server.listening.find((l) => l.transport === 'udp')?.port ?? 0;
    tlsPort = server.listening.find((l) => l.transport === 'tls')?.port ?? 0;
    peer = await startTurnutilsPeer();
  });

  afterAll(async () => {
    await peer?.close();
    await server?.close();
  });

  // Each row: how uclient reaches us and relays, and how many messages it must send (and get back).
  it.each([
    ['over UDP with channels', { clients: 4 }, [], 160],
    ['over TCP with channels', { clients: 4, tcp: true }, [], 160],
    ['over TLS with channels', { clients: 4, tls: true }, [], 160],
    ['over UDP with Send/Data indications (-s)', { clients: 2 }, ['-s'], 80],
    ['between two of its own allocations (client to client, -y)', { clients: 4 }, ['-y'], 160],
  ] as const)('relays every message %s, 0 lost', async (_name, options, extraArgs, expectedSent) => {
    const relayedBefore = server.counters.clientToPeerPackets;
    const result = await runUclient({
      serverPort: 'tls' in options ? tlsPort : udpPort,
      secret: SECRET,
      peerPort: peer.port,
      messages: 40,
      length: 1000,
      extraArgs: [...AS_USER, ...extraArgs, '-z', '5'],
      ...options,
    });
    expect(result.exitCode, result.output).toBe(0);
    expect(result.completed).toBe(true);
    expect(result.sent).toBe(expectedSent); // sessions × 40 messages
    expect(result.lost).toBe(0);
    expect(result.received).toBe(result.sent);
    expect(server.counters.clientToPeerPackets - relayedBefore).toBeGreaterThanOrEqual(result.sent);
  });

  it('is refused with a wrong secret (uclient cannot allocate)', async () => {
    const result = await runUclient({
      serverPort: udpPort,
      secret: 'wrong',
      peerPort: peer.port,
      messages: 1,
      extraArgs: AS_USER,
    });
    expect(result.exitCode).toBe(255);
    expect(result.completed).toBe(false);
    expect(result.output).toMatch(/Cannot complete Allocation|401/);
  });
});
