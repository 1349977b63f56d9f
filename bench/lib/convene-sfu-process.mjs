#!/usr/bin/env node
// Runs Convene's SFU (the built packages/sfu) alone, for bench/sfu-forward.mjs: one NdcEngine and one
// Router (one room), in this process only, so its pid carries all of the SFU's CPU and memory
// (node-datachannel's ICE/DTLS/SRTP threads included). Forked by lib/convene-sfu.mjs with an IPC
// channel:
//   node bench/lib/convene-sfu-process.mjs [--bind 127.0.0.1] [--udp-port N]
//     --udp-port N  every connection on one UDP port (ICE UDP mux); default: a port per connection
//
// Requests (process.on('message')), each `{ req, cmd, ...args }`, answered `{ req, ...result }` or
// `{ req, error }`:
//   { cmd: 'publish', id, offerSdp }  → { answerSdp }        router.publish(), streamId = id
//   { cmd: 'subscribe', id }          → { offerSdp }         router.subscribe(), consume every producer,
//                                                            our first offer (no candidates in it)
//   { cmd: 'answer', id, sdp }        → { candidates }       that subscriber's answer (setAnswer); our
//                                                            candidates to trickle to it
//   { cmd: 'counters' }               → { counters, transports }   router.counters, transport states
// Sends `{ ready: true, pid }` once it can take requests. SIGTERM/SIGINT: router.close(),
// engine.close(), prints the final counters on stdout, exits 0. Exits when the parent goes away.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const DIST = fileURLToPath(new URL('../../packages/sfu/dist/index.js', import.meta.url));

const { values } = parseArgs({
  options: {
    bind: { type: 'string', default: '127.0.0.1' },
    'udp-port': { type: 'string' },
  },
});

if (!process.send) {
  console.error('convene-sfu: needs an IPC channel: it is forked by bench/lib/convene-sfu.mjs (conveneTarget)');
  process.exit(2);
}
if (!existsSync(DIST)) {
  console.error(`convene-sfu: ${DIST} is missing: build the SFU first (\`npm run build\` at the repo root)`);
  process.exit(2);
}
const { NdcEngine, Router } = await import('../../packages/sfu/dist/index.js');

const engine = new NdcEngine({
  bindAddress: values.bind,
  ...(values['udp-port'] ? { udpPort: Number(values['udp-port']) } : {}),
});
const router = new Router({ engine });

const publishers = new Map(); // id → PublishTransport
const subscribers = new Map(); // id → SubscribeTransport
const states = { publish: {}, subscribe: {} }; // kind → state → transports that reached it (ever)
const failures = []; // the first few transports that failed or closed, for the log

function watch(kind, id, transport) {
  transport.on('state', (state) => {
    states[kind][state] = (states[kind][state] ?? 0) + 1;
    if ((state === 'failed' || state === 'disconnected') && failures.length < 50) {
      failures.push({ kind, id, state });
      console.error(`convene-sfu: ${kind} ${id} ${state}`);
    }
  });
}

const handlers = {
  async publish({ id, offerSdp }) {
    if (publishers.has(id)) throw new Error(`publisher ${id} exists`);
    const transport = await router.publish(offerSdp, { streamId: id });
    publishers.set(id, transport);
    watch('publish', id, transport);
    return { answerSdp: transport.answerSdp, producers: transport.producers.length };
  },
  async subscribe({ id }) {
    if (subscribers.has(id)) throw new Error(`subscriber ${id} exists`);
    const producers = router.producers;
    if (producers.length === 0) return { notReady: 'no producers yet' };
    const transport = router.subscribe({ id });
    subscribers.set(id, transport);
    watch('subscribe', id, transport);
    for (const producer of producers) transport.consume(producer);
    return { offerSdp: await transport.createOffer() };
  },
  answer({ id, sdp }) {
    const transport = subscribers.get(id);
    if (!transport) throw new Error(`no subscriber ${id}`);
    return { candidates: transport.setAnswer(sdp) };
  },
  counters: () => ({ counters: router.counters, transports: transportFacts() }),
};

function transportFacts() {
  const now = (map) => {
    const byState = {};
    for (const t of map.values()) byState[t.state] = (byState[t.state] ?? 0) + 1;
    return byState;
  };
  return {
    publishers: publishers.size,
    subscribers: subscribers.size,
    consumers: [...subscribers.values()].reduce((sum, t) => sum + t.consumers.length, 0),
    stateNow: { publish: now(publishers), subscribe: now(subscribers) },
    statesReached: states,
    failures,
  };
}

process.on('message', async (msg) => {
  const { req, cmd, ...args } = msg ?? {};
  try {
    const handler = handlers[cmd];
    if (!handler) throw new Error(`unknown command ${cmd}`);
    process.send({ req, ...(await handler(args)) });
  } catch (error) {
    process.send({ req, error: String(error?.message ?? error) });
  }
});

let stopping = false;
const stop = (code) => {
  if (stopping) return;
  stopping = true;
  try {
    router.close();
    engine.close();
  } finally {
    process.stdout.write(`counters ${JSON.stringify(router.counters)}\n`);
    process.exit(code);
  }
};
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.on('disconnect', () => stop(0));

process.send({ ready: true, pid: process.pid });
