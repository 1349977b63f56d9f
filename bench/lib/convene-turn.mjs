#!/usr/bin/env node
// Runs Convene's TURN server alone (the built packages/turn), for bench/turn-relay.mjs:
//   node bench/lib/convene-turn.mjs --port <p> --secret <s> --realm <r> [--allow-loopback]
//     [--relay-ports min-max] [--address 127.0.0.1] [--user-quota N]
// Prints `listening <port>` on stdout once bound; stops on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { TurnServer } from '../../packages/turn/dist/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3478' },
    secret: { type: 'string' },
    realm: { type: 'string', default: 'bench' },
    'allow-loopback': { type: 'boolean', default: false },
    'relay-ports': { type: 'string', default: '49152-65535' },
    address: { type: 'string', default: '127.0.0.1' },
    // One uclient authenticates all its sessions as one user; coturn has no per-user quota by
    // default, so neither does the benchmark (the product default is 12, see docs/turn.md).
    'user-quota': { type: 'string', default: '1000000' },
  },
});
if (!values.secret) {
  console.error('convene-turn: --secret is required');
  process.exit(2);
}
const [min, max] = values['relay-ports'].split('-').map(Number);
const server = await TurnServer.start({
  secret: values.secret,
  realm: values.realm,
  port: Number(values.port),
  listenAddresses: [values.address],
  relayPorts: { min, max },
  allowLoopbackPeers: values['allow-loopback'],
  limits: { allocationsPerUser: Number(values['user-quota']) },
  // Same size coturn asks for; the kernel caps it at net.core.[rw]mem_max either way.
  socketBufferBytes: 4 * 1024 * 1024,
});
const udp = server.listening.find((listener) => listener.transport === 'udp');
process.stdout.write(`listening ${udp?.port}\n`);

const stop = async () => {
  await server.close();
  process.stdout.write(`counters ${JSON.stringify(server.counters)}\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
