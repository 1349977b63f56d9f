import type * as Net from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import { TurnServer } from './turn-server.js';

// With port 0, UDP draws a free number and TCP must take the same one, which something else may
// already hold (in CI: another test's connection): TCP's listen fails with EADDRINUSE. This file
// makes the first TCP listen fail that way (the only fake here; the sockets are real, on loopback).

const tcpListenFailures = { left: 0 };

vi.mock('node:net', async (importOriginal) => {
  const net = await importOriginal<typeof Net>();
  const createServer = ((...args: Parameters<typeof net.createServer>) => {
    const server = net.createServer(...args);
    if (tcpListenFailures.left > 0) {
      tcpListenFailures.left--;
      server.listen = ((..._args: unknown[]) => {
        const error = Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE' });
        process.nextTick(() => server.emit('error', error));
        return server;
      }) as typeof server.listen;
    }
    return server;
  }) as typeof net.createServer;
  return { ...net, createServer, default: { ...net, createServer } };
});

const servers: TurnServer[] = [];
afterEach(async () => {
  tcpListenFailures.left = 0;
  for (const server of servers.splice(0)) await server.close();
});

const start = async (port: number) => {
  const server = await TurnServer.start({ port, listenAddresses: ['127.0.0.1'], secret: 's', realm: 'r' });
  servers.push(server);
  return server;
};

/** Open UDP sockets of this process, once the loop has finished closing the ones being closed. */
async function udpSockets(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().filter((resource) => resource === 'UDPWrap').length;
}

it('port 0: when TCP cannot take the number UDP drew, both draw again, and the first UDP sockets are let go', async () => {
  const before = await udpSockets();
  tcpListenFailures.left = 2;
  const server = await start(0);
  expect(tcpListenFailures.left).toBe(0); // two attempts failed, the third stuck
  const udp = server.listening.filter((l) => l.transport === 'udp');
  const tcp = server.listening.filter((l) => l.transport === 'tcp');
  expect(udp).toHaveLength(1);
  expect(tcp).toHaveLength(1);
  expect(tcp[0]?.port).toBe(udp[0]?.port);
  expect((await udpSockets()) - before).toBe(1);
});

it('a port asked for by number is never swapped for another: EADDRINUSE is the answer, nothing stays bound', async () => {
  const before = await udpSockets();
  tcpListenFailures.left = 1;
  await expect(start(34_999)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  expect(await udpSockets()).toBe(before);
});
