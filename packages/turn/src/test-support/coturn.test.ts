import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CoturnServer,
  hasCoturn,
  parseUclientOutput,
  runUclient,
  startCoturn,
  startTurnutilsPeer,
  type TurnutilsPeer,
} from './coturn.js';

// Proves the coturn helpers against real coturn. Needs Debian coturn and a loopback-only network
// namespace: unshare -n sh -c 'ip link set lo up; npx vitest run packages/turn/src/test-support/coturn.test.ts'

const SECRET = 'S';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('parseUclientOutput', () => {
  it('reads the final totals, not the per-second progress lines', () => {
    const output = [
      '4: : start_mclient: msz=4, tot_send_msgs=10, tot_recv_msgs=9, tot_send_bytes ~ 1000, tot_recv_bytes ~ 900',
      '5: : start_mclient: tot_send_msgs=20, tot_recv_msgs=19',
      '5: : start_mclient: tot_send_bytes ~ 2000, tot_recv_bytes ~ 1900',
      '5: : Total transmit time is 5',
      '5: : Total lost packets 1 (5.000000%), total send dropped 0 (0.000000%)',
      '5: : Average round trip delay 0.250000 ms; min = 0 ms, max = 1 ms',
    ].join('\n');
    expect(parseUclientOutput(output)).toEqual({
      sent: 20,
      received: 19,
      lost: 1,
      completed: true,
      averageRttMs: 0.25,
    });
  });

  it('reports an incomplete run when the summary is missing', () => {
    expect(parseUclientOutput('0: : ERROR: Cannot complete Allocation\n').completed).toBe(false);
  });
});

describe.skipIf(!hasCoturn())('coturn helpers against real coturn', () => {
  let server: CoturnServer;
  let peer: TurnutilsPeer;

  beforeAll(async () => {
    server = await startCoturn({ port: 0, secret: SECRET, realm: 'test' });
    peer = await startTurnutilsPeer();
  });

  afterAll(async () => {
    await peer?.close();
    await server?.close();
  });

  it('relays UDP through coturn to turnutils_peer and back with nothing lost', async () => {
    const result = await runUclient({ serverPort: server.port, secret: SECRET, peerPort: peer.port, messages: 10 });
    expect(result.exitCode, result.output).toBe(0);
    expect(result.completed).toBe(true);
    expect(result.sent).toBe(20); // -m 1 is rounded up to an RTP + RTCP pair: 2 sessions x 10 messages
    expect(result.received).toBe(20);
    expect(result.lost).toBe(0);
  });

  it('relays over TCP, several clients, 1,000-byte messages, with nothing lost', async () => {
    const result = await runUclient({
      serverPort: server.port,
      secret: SECRET,
      peerPort: peer.port,
      tcp: true,
      localAddress: '127.0.0.2',
      clients: 4,
      messages: 20,
      length: 1000,
      extraArgs: ['-z', '5'],
    });
    expect(result.exitCode, result.output).toBe(0);
    expect(result.sent).toBe(80);
    expect(result.received).toBe(80);
    expect(result.lost).toBe(0);
  });

  it('reports a setup failure as exit code 255 without a summary (wrong secret)', async () => {
    const result = await runUclient({ serverPort: server.port, secret: 'wrong', peerPort: peer.port, messages: 1 });
    expect(result.exitCode).toBe(255);
    expect(result.completed).toBe(false);
    expect(result.output).toContain('Cannot complete Allocation');
  });

  it('kills uclient by pid and rejects when it does not finish in time', async () => {
    // Pointed at turnutils_peer instead of a TURN server, uclient reads its own Allocate back (an echo
    // is neither a success nor an error) and waits forever: uclient never retransmits nor gives up.
    await expect(
      runUclient({ serverPort: peer.port, secret: SECRET, peerPort: peer.port, messages: 1, timeoutMs: 1500 }),
    ).rejects.toThrow(/did not finish within 1500 ms/);
  });

  it('stops every process it started on close', async () => {
    const otherServer = await startCoturn({ port: 0 });
    const otherPeer = await startTurnutilsPeer();
    expect(alive(otherServer.pid)).toBe(true);
    expect(alive(otherPeer.pid)).toBe(true);
    await otherPeer.close();
    await otherServer.close();
    expect(alive(otherServer.pid)).toBe(false);
    expect(alive(otherPeer.pid)).toBe(false);
  });
});
