import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { NdcEngine } from '../engine/ndc-engine.js';
import { until, WrtcPublisher, WrtcSubscriber } from '../test-support/wrtc-peers.js';
import { Router } from './router.js';
import type { SubscribeTransport } from './transports.js';

// Real libwebrtc peers (@roamhq/wrtc, Chromium's engine) through the router over node-datachannel,
// on loopback (npm test runs this file in a loopback-only network namespace).

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function newRouter(): Router {
  const engine = new NdcEngine({ bindAddress: '127.0.0.1' });
  const router = new Router({ engine });
  cleanups.push(() => {
    router.close();
    engine.close();
  });
  return router;
}

/** Negotiations that failed, in any test (each test expects none). */
const negotiationFailures: unknown[] = [];
afterEach(() => {
  expect(negotiationFailures.splice(0)).toEqual([]);
});

/** Runs our offer / their answer whenever the transport asks, like the signaling server will. */
function autoNegotiate(transport: SubscribeTransport, subscriber: WrtcSubscriber): void {
  const negotiate = async () => {
    const offer = await transport.createOffer();
    await subscriber.addCandidates(transport.setAnswer(await subscriber.answer(offer)));
  };
  transport.on('negotiationneeded', () => {
    negotiate().catch((error: unknown) => negotiationFailures.push(error));
  });
}

/** A full garbage collection, from inside a test. */
function collectGarbage(): void {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
}

async function publishAs(router: Router, publisher: WrtcPublisher, streamId: string) {
  const transport = await router.publish(await publisher.offer(), { streamId });
  await publisher.accept(transport.answerSdp);
  return transport;
}

const publish = (router: Router, publisher: WrtcPublisher) => publishAs(router, publisher, 'alice');

function subscribe(router: Router) {
  const subscriber = new WrtcSubscriber();
  cleanups.push(() => subscriber.close());
  const transport = router.subscribe();
  autoNegotiate(transport, subscriber);
  for (const producer of router.producers) transport.consume(producer);
  return { subscriber, transport };
}

describe('Router with libwebrtc peers', () => {
  it('forwards one publisher’s VP8 and Opus to three subscribers, who decode them', async () => {
    const router = newRouter();
    const publisher = new WrtcPublisher();
    cleanups.push(() => publisher.close());
    const published = await publish(router, publisher);
    expect(published.producers.map((p) => p.kind)).toEqual(['video', 'audio']);

    const subscribers = [subscribe(router), subscribe(router), subscribe(router)];
    const decoding = () => subscribers.every(({ subscriber }) => subscriber.videoFrames >= 30);
    expect(await until(decoding, 10_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const { subscriber } of subscribers) {
      const inbound = await subscriber.inbound();
      expect(inbound.video.framesDecoded).toBeGreaterThanOrEqual(30);
      expect(inbound.audio.packets).toBeGreaterThan(50); // 1.5 s of 20 ms packets
      expect(inbound.video.lost + inbound.audio.lost).toBe(0);
      expect(subscriber.lastFrameSize).toEqual({ width: 320, height: 240 });
      // Both tracks of a publisher arrive as one MediaStream (for lip sync), named by the app.
      expect(subscriber.streams).toEqual(['alice', 'alice']);
    }
    expect(router.counters.dropped.malformedRtp).toBe(0);
    expect(router.counters.forwardedPackets).toBeGreaterThan(300);
    // Our receiver reports reach the publisher: it knows its RTT to us and sees no loss.
    const remote = [...(await publisher.pc.getStats()).values()].filter((r) => r.type === 'remote-inbound-rtp');
    expect(remote.map((r) => r.kind).sort()).toEqual(['audio', 'video']);
    for (const report of remote) expect(report.fractionLost).toBe(0);
    // RTT needs a report answering one of its sender reports (video sends them every second).
    expect(remote.find((r) => r.kind === 'video')?.roundTripTimeMeasurements).toBeGreaterThan(0);
    // ...and the subscribers get our sender reports (lip sync).
    expect(router.counters.senderReportsSent).toBeGreaterThan(0);

    // A paused subscription receives no video; resumed, it decodes again.
    const [, , third] = subscribers;
    if (!third) throw new Error('three subscribers');
    const thirdVideo = third.transport.consumers.filter((c) => c.kind === 'video');
    for (const consumer of thirdVideo) consumer.pause();
    await new Promise((resolve) => setTimeout(resolve, 300)); // frames already in its jitter buffer
    const pausedAt = third.subscriber.videoFrames;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(third.subscriber.videoFrames).toBe(pausedAt);
    expect(subscribers[0]?.subscriber.videoFrames).toBeGreaterThan(60); // the others go on
    for (const consumer of thirdVideo) consumer.resume();
    expect(await until(() => third.subscriber.videoFrames > pausedAt + 10, 5000)).toBe(true);
  });

  it('a late subscriber decodes video within 500 ms of its connection coming up', async () => {
    const router = newRouter();
    const publisher = new WrtcPublisher();
    cleanups.push(() => publisher.close());
    await publish(router, publisher);
    const early = subscribe(router);
    expect(await until(() => early.subscriber.videoFrames > 10, 10_000)).toBe(true);
    // Past the publisher's first keyframe: the newcomer needs one of its own.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const late = subscribe(router);
    let connectedAt: number | undefined;
    late.transport.on('state', (state) => {
      if (state === 'connected') connectedAt ??= performance.now();
    });
    expect(await until(() => late.subscriber.firstFrameAtMs !== undefined, 10_000)).toBe(true);
    expect(connectedAt).toBeDefined();
    const firstFrameMs = (late.subscriber.firstFrameAtMs ?? 0) - (connectedAt ?? 0);
    expect(firstFrameMs).toBeLessThan(500);
    expect(router.counters.keyframeRequestsSent).toBeGreaterThanOrEqual(1);
  });

  it('when a publisher leaves, its consumers close and the next publisher reuses their m-lines', async () => {
    const router = newRouter();
    const publisher = new WrtcPublisher();
    cleanups.push(() => publisher.close());
    const published = await publish(router, publisher);
    const { subscriber, transport } = subscribe(router);
    expect(await until(() => subscriber.videoFrames > 5, 10_000)).toBe(true);

    const closes: string[] = [];
    for (const consumer of transport.consumers) consumer.on('close', (reason) => closes.push(reason));
    published.close();
    expect(closes).toEqual(['producer-closed', 'producer-closed']);
    expect(transport.consumers).toEqual([]);

    // A second publisher reuses the freed m-lines once the subscriber agreed they are inactive.
    const second = new WrtcPublisher({ width: 160, height: 120 });
    cleanups.push(() => second.close());
    expect(await until(() => !transport.negotiationPending, 5000)).toBe(true); // the "inactive" renegotiation
    await publish(router, second);
    for (const producer of router.producers) transport.consume(producer);
    expect(transport.consumers.map((c) => c.mid).sort()).toEqual(['0', '1']);
    expect(await until(() => subscriber.lastFrameSize.width === 160, 10_000)).toBe(true);

    // Regression: a reused m-line's replaced Track object, once collected, closed the native track
    // (and for m-line 0, the BUNDLE tag, the whole transport at the next negotiation).
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 200));
    collectGarbage();
    const framesAfterGc = subscriber.videoFrames;
    expect(await until(() => subscriber.videoFrames > framesAfterGc + 10, 5000)).toBe(true);
    for (const consumer of transport.consumers) consumer.close(); // one more renegotiation
    expect(await until(() => !transport.negotiationPending, 5000)).toBe(true);
    expect(transport.state).toBe('connected');
  });
});

describe('Router dominant speaker with libwebrtc publishers', () => {
  it('names the publisher who talks, not the silent one, from their audio levels', async () => {
    const router = newRouter();
    const changes: (string | undefined)[] = [];
    router.on('dominant-speaker', (producer) => changes.push(producer?.appData.streamId as string | undefined));
    const quiet = new WrtcPublisher({ audio: 'silence' });
    const talker = new WrtcPublisher({ audio: 'talk' });
    cleanups.push(
      () => quiet.close(),
      () => talker.close(),
    );
    await publishAs(router, quiet, 'quiet');
    await publishAs(router, talker, 'talker');
    expect(await until(() => changes.length > 0, 5000)).toBe(true);
    expect(changes).toEqual(['talker']);
    expect(router.dominantSpeaker?.appData.streamId).toBe('talker');
    // It stays: nobody else talks.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(changes).toEqual(['talker']);
  });
});

describe('Router audio RED with libwebrtc peers', () => {
  it('forwards RED to a subscriber that took it and plain Opus to one that did not; both hear the tone', async () => {
    const router = newRouter();
    const publisher = new WrtcPublisher({ audio: 'talk' });
    cleanups.push(() => publisher.close());
    const published = await publish(router, publisher);
    expect(published.producers.find((p) => p.kind === 'audio')?.track.redPayloadType).toBeDefined();

    const withRed = subscribe(router);
    // A browser without RED: its answer lists Opus only.
    const withoutRed = new WrtcSubscriber();
    cleanups.push(() => withoutRed.close());
    const transport = router.subscribe();
    transport.on('negotiationneeded', () => {
      void (async () => {
        const answer = await withoutRed.answer(await transport.createOffer());
        await withoutRed.addCandidates(transport.setAnswer(withoutRedCodec(answer)));
      })().catch((error: unknown) => negotiationFailures.push(error));
    });
    for (const producer of router.producers) transport.consume(producer);

    const hearing = () => withRed.subscriber.audibleChunks > 100 && withoutRed.audibleChunks > 100;
    expect(await until(hearing, 10_000)).toBe(true);
    // libwebrtc's stats name the decoded codec (Opus) either way; the router says what it sent.
    expect(router.counters.redForwarded).toBeGreaterThan(30); // 20 ms packets: the ≥ 1 s both heard
    expect(router.counters.redPrimaryOnly).toBeGreaterThan(30);
    expect(Math.abs(router.counters.redForwarded - router.counters.redPrimaryOnly)).toBeLessThan(30);
    expect(router.counters.dropped.unknownPayloadType).toBe(0);
  });
});

/** An answer with RED taken out of its audio m-line, as a browser without RED would answer. */
function withoutRedCodec(answer: string): string {
  const red = /a=rtpmap:(\d+) red\/48000/.exec(answer)?.[1];
  if (!red) return answer;
  return answer
    .split('\r\n')
    .filter((line) => !line.startsWith(`a=rtpmap:${red} `) && !line.startsWith(`a=fmtp:${red} `))
    .map((line) => (line.startsWith('m=audio') ? line.replace(` ${red}`, '') : line))
    .join('\r\n');
}

describe('Router with a libwebrtc simulcast publisher', () => {
  it('sends a small subscriber a lower layer than a large one, and switches when asked', async () => {
    const router = newRouter();
    // Simulcast needs a video-only connection (libdatachannel routes RTP by announced SSRC).
    const publisher = new WrtcPublisher({
      width: 640,
      height: 480,
      audio: false,
      simulcast: [
        { rid: 'q', scaleResolutionDownBy: 4 },
        { rid: 'h', scaleResolutionDownBy: 2 },
        { rid: 'f', scaleResolutionDownBy: 1 },
      ],
    });
    cleanups.push(() => publisher.close());
    const published = await publish(router, publisher);
    expect(published.producers.map((p) => p.track.layers.map((l) => l.rid))).toEqual([['q', 'h', 'f']]);
    const [producer] = published.producers;
    if (!producer) throw new Error('no producer');
    expect(await until(() => producer.streams.length >= 2, 10_000)).toBe(true);

    const small = subscribe(router);
    const large = subscribe(router);
    for (const consumer of small.transport.consumers) consumer.setPreferredSize(160, 120);
    for (const consumer of large.transport.consumers) consumer.setPreferredSize(640, 480);
    const decodedBoth = () => small.subscriber.videoFrames > 20 && large.subscriber.videoFrames > 20;
    expect(await until(decodedBoth, 15_000)).toBe(true);
    expect(small.subscriber.lastFrameSize.width).toBe(160);
    expect(large.subscriber.lastFrameSize.width).toBeGreaterThan(160);

    // The small tile grows: its stream moves up a layer, and keeps decoding.
    const framesBefore = small.subscriber.videoFrames;
    for (const consumer of small.transport.consumers) consumer.setPreferredSize(640, 480);
    expect(await until(() => small.subscriber.lastFrameSize.width > 160, 10_000)).toBe(true);
    const grownAt = small.subscriber.videoFrames;
    expect(await until(() => small.subscriber.videoFrames > grownAt + 30, 5000)).toBe(true);
    expect(small.subscriber.videoFrames).toBeGreaterThan(framesBefore);
    expect(router.counters.layerSwitches).toBeGreaterThanOrEqual(1);
    const inbound = await small.subscriber.inbound();
    expect(inbound.video.lost).toBe(0);
  });
});
