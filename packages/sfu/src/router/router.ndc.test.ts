import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { MediaEngine } from '../engine/engine.js';
import { NdcEngine } from '../engine/ndc-engine.js';
import { lossyEngine } from '../test-support/lossy-engine.js';
import { BotPublisher, BotSubscriber } from '../test-support/ndc-bots.js';
import { until } from '../test-support/wrtc-peers.js';
import { Router } from './router.js';
import type { SubscribeTransport } from './transports.js';

// node-datachannel bots (real ICE, DTLS, SRTP; synthetic VP8 / Opus) through the router on
// loopback (npm test runs this in a loopback-only network namespace).

const cleanups: (() => void)[] = [];
/** Negotiations that failed, in any test (each test expects none; a failure would otherwise show as a timeout). */
const negotiationFailures: unknown[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  expect(negotiationFailures.splice(0)).toEqual([]);
});

function newRouter(wrap: (engine: MediaEngine) => MediaEngine = (engine) => engine): Router {
  const engine = wrap(new NdcEngine({ bindAddress: '127.0.0.1' }));
  const router = new Router({ engine });
  cleanups.push(() => {
    router.close();
    engine.close();
  });
  return router;
}

async function addPublisher(router: Router, bot: BotPublisher, name: string): Promise<void> {
  cleanups.push(() => bot.close());
  const transport = await router.publish(await bot.offer(), { streamId: name });
  await bot.accept(transport.answerSdp);
}

function addSubscriber(router: Router, bot: BotSubscriber): SubscribeTransport {
  cleanups.push(() => bot.close());
  const transport = router.subscribe();
  transport.on('negotiationneeded', () => {
    void (async () => {
      const offer = await transport.createOffer();
      bot.addCandidates(transport.setAnswer(await bot.answer(offer)));
    })().catch((error: unknown) => negotiationFailures.push(error));
  });
  for (const producer of router.producers) transport.consume(producer);
  return transport;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Router with node-datachannel bots', () => {
  it('10 publishers × 10 subscribers: every stream arrives at everyone, nothing missing', async () => {
    const router = newRouter();
    const publishers = Array.from({ length: 10 }, () => new BotPublisher({ videoPps: 100 }));
    await Promise.all(publishers.map((bot, i) => addPublisher(router, bot, `p${i}`)));
    expect(router.producers).toHaveLength(20);
    const subscribers = Array.from({ length: 10 }, () => new BotSubscriber());
    for (const bot of subscribers) addSubscriber(router, bot);

    const everything = () => subscribers.every((s) => s.videoStreams().length === 10 && s.audioStreams().length === 10);
    expect(await until(everything, 20_000)).toBe(true);
    await sleep(2000);
    for (const bot of publishers) bot.stopSending();
    await sleep(300);

    for (const subscriber of subscribers) {
      for (const tally of [...subscriber.videoStreams(), ...subscriber.audioStreams()]) {
        expect(tally.missing()).toEqual([]);
        expect(tally.received.size).toBeGreaterThan(80); // ≥ 2 s of 100 (video) or 50 (audio) pps
      }
    }
    expect(router.counters.dropped).toEqual({
      malformedRtp: 0,
      malformedRtcp: 0,
      unknownPayloadType: 0,
      unknownSsrc: 0,
      wrongDirection: 0,
    });
  }, 40_000);

  it('NACKs recover loss on both legs: the publisher’s upload and the subscriber’s download', async () => {
    // Every 25th video packet lost on the way up, every 20th on the way down.
    let downlink: { lost: number } = { lost: 0 };
    const router = newRouter((engine) => {
      const lossy = lossyEngine(engine, ({ mid, sequenceNumber }) => mid === '0' && sequenceNumber % 20 === 7);
      downlink = lossy;
      return lossy;
    });
    const publisher = new BotPublisher({ videoPps: 200, dropVideo: (seq) => seq % 25 === 3 });
    await addPublisher(router, publisher, 'lossy');
    const subscriber = new BotSubscriber({ nack: true });
    addSubscriber(router, subscriber);
    expect(await until(() => (subscriber.videoStreams()[0]?.received.size ?? 0) >= 200, 15_000)).toBe(true);
    await sleep(1000);
    publisher.stopSending();
    await sleep(500);

    const [video] = subscriber.videoStreams();
    expect(video?.received.size).toBeGreaterThan(300);
    expect(video?.missing()).toEqual([]);
    // Upload loss: the router asked the publisher, which retransmitted.
    expect(router.counters.nacksSent).toBeGreaterThan(0);
    expect(publisher.retransmitted).toBeGreaterThan(0);
    // Download loss: the subscriber asked the router, which answered from its cache.
    expect(downlink.lost).toBeGreaterThan(10);
    expect(subscriber.nacksSent).toBeGreaterThan(0);
    expect(router.counters.retransmittedPackets).toBeGreaterThan(0);
  }, 30_000);

  it('churn: 250 subscribers connect, receive and leave; JS heap and open sockets stay flat', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const router = newRouter();
    const publisher = new BotPublisher({ videoPps: 100 });
    await addPublisher(router, publisher, 'steady');
    let received = 0;
    const closedObjects: WeakRef<object>[] = [];
    const cycle = async () => {
      const bot = new BotSubscriber();
      const transport = router.subscribe();
      for (const producer of router.producers) closedObjects.push(new WeakRef(transport.consume(producer)));
      closedObjects.push(new WeakRef(transport));
      bot.addCandidates(transport.setAnswer(await bot.answer(await transport.createOffer())));
      if (await until(() => bot.videoStreams().length === 1 && bot.audioStreams().length === 1, 10_000)) received++;
      transport.close();
      bot.close();
    };
    const measure = async () => {
      await sleep(200);
      gc();
      return {
        heap: process.memoryUsage().heapUsed,
        rss: process.memoryUsage().rss,
        fds: readdirSync('/proc/self/fd').length,
      };
    };
    const batches = async (count: number) => {
      for (let i = 0; i < count; i++) await Promise.all(Array.from({ length: 10 }, cycle));
    };
    await batches(5); // warm-up: pools, JIT, the first allocations of every kind
    const before = await measure();
    await batches(20);
    const after = await measure();

    expect(received).toBe(250);
    expect(after.fds).toBe(before.fds);
    expect(router.counters.dropped.unknownSsrc).toBe(0);
    // Every closed transport and consumer is collectable: nothing of ours (the router's sets, the
    // producers' consumer sets, engine callbacks) keeps a closed one.
    expect(closedObjects.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    expect(after.heap - before.heap).toBeLessThan(2e6);
    // RSS also holds libdatachannel's own allocations (~30 KB per connection pair here, native,
    // outside our reach); this loose bound catches leaked packet buffers (a cache is 1.5 MB).
    expect(after.rss - before.rss).toBeLessThan(20e6);
  }, 120_000);
});
