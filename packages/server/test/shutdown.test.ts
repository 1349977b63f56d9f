import type { Socket } from 'node:net';
import { CloseCode } from '@convene/protocol';
import { describe, expect, it } from 'vitest';
import { rawRequest, sleep, startServer, TestClient, upgradeStatus } from './helpers.js';

describe('graceful shutdown', () => {
  it('says bye to every participant, closes with 1001, and tells nobody that others "left"', async () => {
    const { server, wsUrl, port } = await startServer();
    const ada = await TestClient.joined(wsUrl, 'standup', 'Ada');
    const bob = await TestClient.joined(wsUrl, 'standup', 'Bob');
    const cyd = await TestClient.joined(wsUrl, 'retro', 'Cyd');
    const lurker = await TestClient.connect(wsUrl, 'lurker');
    await ada.nextOfType('participant-joined');

    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(900);

    for (const client of [ada, bob, cyd]) {
      expect(client.unconsumed).toEqual([{ type: 'bye', reason: 'shutdown' }]);
      expect((await client.closed).code).toBe(CloseCode.GoingAway);
    }
    expect((await lurker.closed).code).toBe(CloseCode.GoingAway);
    expect(lurker.received).toEqual([]);
    expect(server.stats()).toMatchObject({ connections: 0, rooms: 0, participants: 0 });
    await expect(rawRequest(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses new connections (503) while it waits for stalled clients, then cuts them off', async () => {
    const { server, wsUrl } = await startServer({ shutdownTimeoutMs: 600 });
    const stalled = await TestClient.joined(wsUrl, 'standup', 'Stalled');
    // The client stops reading (a frozen network): it never answers the close handshake.
    (stalled.socket as unknown as { _socket: Socket })._socket.pause();

    const started = performance.now();
    const closing = server.close();
    await sleep(50);
    // Regression: a socket accepted during the drain used to be cut off without a close code.
    expect((await upgradeStatus(wsUrl)).status).toBe(503);

    await closing;
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(1500);
    expect(server.stats().connections).toBe(0);
  });

  it('is idempotent', async () => {
    const { server } = await startServer();
    await Promise.all([server.close(), server.close()]);
    await server.close();
  });
});
