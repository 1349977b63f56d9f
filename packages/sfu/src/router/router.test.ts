import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LayerSelector } from '../layers/layer-selector.js';
import {
  buildFir,
  buildNack,
  buildPli,
  buildReceiverReport,
  buildRemb,
  buildSenderReport,
  type RtcpItem,
  readRtcpCompound,
} from '../rtcp/rtcp-packet.js';
import { type RtpHeader, readRtpHeader } from '../rtp/rtp-packet.js';
import { FakeEngine, type FakePublisher, type FakeSubscriber, fakeAnswer } from '../test-support/fake-engine.js';
import {
  OFFER_EXTENSION_IDS,
  OFFER_PAYLOAD_TYPES,
  type PublisherOfferOptions,
  publisherOffer,
} from '../test-support/publisher-offer.js';
import { buildRtp, type ExtensionElement } from '../test-support/rtp-builder.js';
import type { Consumer } from './consumer.js';
import type { CloseReason, Producer } from './producer.js';
import { Router } from './router.js';
import type { RouterTuning } from './router-context.js';
import { RouterError, type SubscribeTransport } from './transports.js';

// The router's logic through a fake engine (test-support/fake-engine.ts): real SDP offers through
// the real offer parser, real RTP/RTCP bytes in and out, no sockets. Time is vitest's fake clock
// (performance.now() included), moved by hand.

const VIDEO_SSRC = 0x1a2b3c4d;
const AUDIO_SSRC = 0x5e6f7081;

// --- Packets ------------------------------------------------------------------------------------

type Vp8Frame = 'key' | 'delta' | 'continuation';

/**
 * A VP8 RTP payload as libwebrtc writes it (RFC 7741): X=1 with a 15-bit picture ID, S=1 on a
 * frame's first packet; then the frame tag (RFC 6386 §9.1; P=0 on a keyframe, which also carries
 * the start code and its size).
 */
function vp8Payload(frame: Vp8Frame, pictureId: number, size = { width: 320, height: 240 }): Uint8Array {
  const descriptor = [
    0x80 | (frame === 'continuation' ? 0 : 0x10),
    0x80,
    0x80 | ((pictureId >> 8) & 0x7f),
    pictureId & 0xff,
  ];
  if (frame === 'continuation') return Uint8Array.from([...descriptor, 0x5a, 0xa5, 0x3c, pictureId & 0xff]);
  if (frame === 'delta') return Uint8Array.from([...descriptor, 0x31, 0x02, 0x00, 0xde, 0xad, pictureId & 0xff]);
  const { width, height } = size;
  return Uint8Array.from([
    ...descriptor,
    0x30, // P=0: keyframe; show_frame
    0x01,
    0x00,
    0x9d,
    0x01,
    0x2a,
    width & 0xff,
    width >> 8,
    height & 0xff,
    height >> 8,
    0x07,
    pictureId & 0xff,
  ]);
}

function padded(payload: Uint8Array, length: number | undefined): Uint8Array {
  if (length === undefined || length <= payload.length) return payload;
  const bytes = new Uint8Array(length);
  bytes.set(payload);
  return bytes;
}

const absSendTime = (n: number): ExtensionElement => ({
  id: OFFER_EXTENSION_IDS.absSendTime,
  data: Uint8Array.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]),
});

/** Publishes one stream's packets into a fake publisher, numbering them as a sender would. */
class VideoSource {
  seq: number;
  ts: number;
  pictureId = 1;
  private readonly ssrc: number;
  private readonly payloadType: number;
  /** The simulcast layer's RID, sent in every packet (libwebrtc stops once it is acknowledged). */
  private readonly rid: string | undefined;
  private readonly size: { width: number; height: number } | undefined;
  /** Payload bytes per packet (the VP8 bytes, then zeros), to give layers distinct bitrates. */
  private readonly payloadBytes: number | undefined;

  constructor(
    private readonly publisher: FakePublisher,
    options: {
      ssrc?: number;
      seq?: number;
      ts?: number;
      payloadType?: number;
      rid?: string;
      size?: { width: number; height: number };
      payloadBytes?: number;
    } = {},
  ) {
    this.ssrc = options.ssrc ?? VIDEO_SSRC;
    this.seq = options.seq ?? 1000;
    this.ts = options.ts ?? 90_000;
    this.payloadType = options.payloadType ?? OFFER_PAYLOAD_TYPES.vp8;
    this.rid = options.rid;
    this.size = options.size;
    this.payloadBytes = options.payloadBytes;
  }

  /** The next packet (a whole frame), without sending it; the numbering moves on. */
  build(frame: Vp8Frame, overrides: { payloadType?: number; ssrc?: number } = {}): Uint8Array {
    const elements = [absSendTime(this.seq)];
    if (this.rid !== undefined) {
      elements.push({ id: OFFER_EXTENSION_IDS.rtpStreamId, data: new TextEncoder().encode(this.rid) });
    }
    const bytes = buildRtp({
      marker: true,
      payloadType: overrides.payloadType ?? this.payloadType,
      sequenceNumber: this.seq,
      timestamp: this.ts,
      ssrc: overrides.ssrc ?? this.ssrc,
      csrcs: [],
      extension: { form: 'one-byte', elements },
      payload: padded(vp8Payload(frame, this.pictureId, this.size), this.payloadBytes),
      padding: 0,
    });
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 3000) >>> 0;
    this.pictureId = (this.pictureId + 1) & 0x7fff;
    return bytes;
  }

  send(frame: Vp8Frame = 'delta'): Uint8Array {
    const bytes = this.build(frame);
    this.publisher.deliverRtp('video', bytes);
    return bytes;
  }

  keyframe(): Uint8Array {
    return this.send('key');
  }

  /** A packet lost on the way to us: numbered, never delivered. */
  lose(): void {
    this.build('delta');
  }
}

class AudioSource {
  seq: number;
  ts: number;
  private readonly ssrc: number;
  private readonly payloadType: number;

  constructor(
    private readonly publisher: FakePublisher,
    options: { ssrc?: number; seq?: number; ts?: number; payloadType?: number } = {},
  ) {
    this.ssrc = options.ssrc ?? AUDIO_SSRC;
    this.seq = options.seq ?? 20_000;
    this.ts = options.ts ?? 480_000;
    this.payloadType = options.payloadType ?? OFFER_PAYLOAD_TYPES.opus;
  }

  /** One 20 ms Opus packet with the RFC 6464 audio level (0 loudest, 127 silence) and the V bit. */
  build(level = 40, voice = true, overrides: { payloadType?: number } = {}): Uint8Array {
    const bytes = buildRtp({
      marker: false,
      payloadType: overrides.payloadType ?? this.payloadType,
      sequenceNumber: this.seq,
      timestamp: this.ts,
      ssrc: this.ssrc,
      csrcs: [],
      extension: {
        form: 'one-byte',
        elements: [
          { id: OFFER_EXTENSION_IDS.audioLevel, data: Uint8Array.of((voice ? 0x80 : 0) | level) },
          absSendTime(this.seq),
        ],
      },
      payload: Uint8Array.from([0x78, 0x0b, this.seq & 0xff, 0xe4, 0x41]),
      padding: 0,
    });
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 960) >>> 0;
    return bytes;
  }

  send(level = 40, voice = true): Uint8Array {
    const bytes = this.build(level, voice);
    this.publisher.deliverRtp('audio', bytes);
    return bytes;
  }
}

function rtp(bytes: Uint8Array): RtpHeader {
  const header = readRtpHeader(bytes);
  if (!header.ok) throw new Error(`not RTP: ${header.reason}`);
  return header;
}

function rtcpItems(packets: readonly Uint8Array[]): RtcpItem[] {
  return packets.flatMap((packet) => readRtcpCompound(packet).items);
}

/** The PLIs (media SSRC) and NACKs (media SSRC, lost) the router sent a publisher. */
function plisTo(publisher: FakePublisher): number[] {
  return rtcpItems(publisher.sentRtcp.map((s) => s.packet)).flatMap((item) =>
    item.type === 'pli' ? [item.mediaSsrc] : [],
  );
}

/** The feedback the router sent a publisher (PLI, FIR, NACK), leaving out its receiver reports and REMB. */
function feedbackTo(publisher: FakePublisher): RtcpItem[] {
  return rtcpItems(publisher.sentRtcp.map((s) => s.packet)).filter((item) =>
    ['pli', 'fir', 'nack'].includes(item.type),
  );
}

function nacksTo(publisher: FakePublisher): { ssrc: number; lost: number[] }[] {
  return rtcpItems(publisher.sentRtcp.map((s) => s.packet)).flatMap((item) =>
    item.type === 'nack' ? [{ ssrc: item.mediaSsrc, lost: item.lost }] : [],
  );
}

const next16 = (seq: number, n = 1) => (seq + n) & 0xffff;

function expectConsecutive(headers: readonly RtpHeader[]): void {
  for (let i = 1; i < headers.length; i++) {
    expect(headers[i]?.sequenceNumber).toBe(next16(headers[i - 1]?.sequenceNumber ?? 0));
  }
}

function must<T>(value: T | undefined, what = 'value'): T {
  if (value === undefined) throw new Error(`no ${what}`);
  return value;
}

// --- Router set-up ------------------------------------------------------------------------------

let engine: FakeEngine;
let router: Router;
let listenerErrors: { event: string; error: unknown }[];
const routers: Router[] = [];

function newRouter(tuning: Partial<RouterTuning> = {}): Router {
  const created = new Router({
    engine,
    tuning,
    onListenerError: (event, error) => listenerErrors.push({ event, error }),
  });
  routers.push(created);
  return created;
}

beforeEach(() => {
  vi.useFakeTimers();
  engine = new FakeEngine();
  listenerErrors = [];
  router = newRouter();
});

afterEach(() => {
  const unexpected = engine.subscribers.flatMap((subscriber) => subscriber.unexpected);
  for (const created of routers.splice(0)) created.close();
  engine.close();
  vi.useRealTimers();
  // Whatever a test did, nothing went out on an m-line the subscriber had not agreed to.
  expect(unexpected).toEqual([]);
});

/** A RED packet of the default audio stream, for tests that vary the payload only. */
const RTP_DEFAULTS = {
  marker: false,
  payloadType: OFFER_PAYLOAD_TYPES.audioRed,
  sequenceNumber: 7001,
  timestamp: 48_960,
  ssrc: AUDIO_SSRC,
  csrcs: [],
  padding: 0,
};

const WITH_SSRCS: PublisherOfferOptions = { video: { ssrc: VIDEO_SSRC }, audio: { ssrc: AUDIO_SSRC } };

async function publish(offer: PublisherOfferOptions = WITH_SSRCS, streamId = 'alice', on: Router = router) {
  const transport = await on.publish(publisherOffer(offer), { streamId });
  const publisher = engine.lastPublisher;
  return {
    transport,
    publisher,
    video: transport.producers.find((p) => p.kind === 'video') as Producer,
    audio: transport.producers.find((p) => p.kind === 'audio') as Producer,
  };
}

function subscribe(on: Router = router): { transport: SubscribeTransport; sub: FakeSubscriber } {
  const transport = on.subscribe({ user: 'bob' });
  return { transport, sub: engine.lastSubscriber };
}

async function negotiate(transport: SubscribeTransport): Promise<void> {
  transport.setAnswer(fakeAnswer(await transport.createOffer()));
}

/** Lets queued microtasks run (negotiationneeded is emitted from one). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A consumer of `producer` on a new subscriber, negotiated. */
async function forwardedTo(producer: Producer, on: Router = router) {
  const { transport, sub } = subscribe(on);
  const consumer = transport.consume(producer);
  await negotiate(transport);
  return { transport, sub, consumer };
}

/** Anything of the cascade: router, transports, producers, consumers. */
interface Closable {
  on(event: 'close', listener: (reason: CloseReason) => void): unknown;
}

function closeLog() {
  const log: string[] = [];
  const watch = (name: string, emitter: Closable) => emitter.on('close', (reason) => log.push(`${name}:${reason}`));
  return { log, watch };
}

// --- Tests --------------------------------------------------------------------------------------

describe('Router close cascade', () => {
  it('router.close(): every transport, producer and consumer closes once, children first, with router-closed', async () => {
    const alice = await publish();
    const bob = await publish({ video: { ssrc: 7 }, audio: { ssrc: 8 } }, 'bob');
    const s1 = subscribe();
    const s2 = subscribe();
    const c1 = [s1.transport.consume(alice.video), s1.transport.consume(bob.audio)];
    const c2 = [s2.transport.consume(alice.audio)];
    const { log, watch } = closeLog();
    watch('router', router);
    watch('aliceT', alice.transport);
    watch('bobT', bob.transport);
    watch('s1', s1.transport);
    watch('s2', s2.transport);
    for (const [name, p] of Object.entries({
      aliceV: alice.video,
      aliceA: alice.audio,
      bobV: bob.video,
      bobA: bob.audio,
    })) {
      watch(name, p);
    }
    for (const [name, c] of Object.entries({ c1v: c1[0], c1a: c1[1], c2a: c2[0] })) watch(name, must(c));
    const negotiations = vi.fn();
    s1.transport.on('negotiationneeded', negotiations);

    router.close();
    router.close();
    await flush();

    expect([...log].sort()).toEqual(
      [
        'router:closed',
        'aliceT:router-closed',
        'bobT:router-closed',
        's1:router-closed',
        's2:router-closed',
        'aliceV:router-closed',
        'aliceA:router-closed',
        'bobV:router-closed',
        'bobA:router-closed',
        'c1v:router-closed',
        'c1a:router-closed',
        'c2a:router-closed',
      ].sort(),
    );
    // Children before their parents; the router last.
    const at = (name: string) => log.findIndex((entry) => entry.startsWith(`${name}:`));
    for (const [child, parent] of [
      ['c1v', 's1'],
      ['c1a', 's1'],
      ['c2a', 's2'],
      ['aliceV', 'aliceT'],
      ['aliceA', 'aliceT'],
      ['bobV', 'bobT'],
      ['bobA', 'bobT'],
    ] as const) {
      expect(at(child)).toBeLessThan(at(parent));
    }
    expect(at('router')).toBe(log.length - 1);
    expect(negotiations).not.toHaveBeenCalled(); // a closing transport does not renegotiate
    expect(router.closed).toBe(true);
    expect(router.producers).toEqual([]);
    expect([alice.transport, bob.transport, s1.transport, s2.transport].every((t) => t.closed)).toBe(true);
    expect([...c1, ...c2].every((c) => c?.closed)).toBe(true);
    expect(engine.publishers.map((p) => p.closeCalls)).toEqual([1, 1]);
    expect(engine.subscribers.map((s) => s.closeCalls)).toEqual([1, 1]);
    expect(listenerErrors).toEqual([]);
  });

  it('producer.close(): its consumers close with producer-closed, their m-lines are released, the rest goes on', async () => {
    const alice = await publish();
    const { transport, sub } = subscribe();
    const video = transport.consume(alice.video);
    const audio = transport.consume(alice.audio);
    await negotiate(transport);
    const { log, watch } = closeLog();
    watch('producer', alice.video);
    watch('video', video);
    watch('audio', audio);
    watch('publish', alice.transport);
    watch('subscribe', transport);
    const negotiations = vi.fn();
    transport.on('negotiationneeded', negotiations);

    alice.video.close();
    alice.video.close();
    await flush();

    expect(log).toEqual(['video:producer-closed', 'producer:closed']);
    expect(router.producers).toEqual([alice.audio]);
    expect(router.getProducer(alice.video.id)).toBeUndefined();
    expect(transport.consumers).toEqual([audio]);
    expect(negotiations).toHaveBeenCalledTimes(1);
    expect(() => transport.consume(alice.video)).toThrow(expect.objectContaining({ reason: 'closed' }));
    await negotiate(transport);
    expect(sub.slots.get('0')).toEqual({ kind: 'video', media: undefined });
    expect(alice.publisher.closed).toBe(false);
  });

  it('publishTransport.close(): producers transport-closed, their consumers producer-closed, the connection closed', async () => {
    const alice = await publish();
    const { transport } = subscribe();
    const video = transport.consume(alice.video);
    const { log, watch } = closeLog();
    watch('publish', alice.transport);
    watch('video', alice.video);
    watch('audio', alice.audio);
    watch('consumer', video);

    alice.transport.close();
    alice.transport.close();

    expect(log).toEqual([
      'consumer:producer-closed',
      'video:transport-closed',
      'audio:transport-closed',
      'publish:closed',
    ]);
    expect(alice.publisher.closeCalls).toBe(1);
    expect(router.producers).toEqual([]);
    expect(transport.closed).toBe(false);
    expect(transport.consumers).toEqual([]);
  });

  it('subscribeTransport.close(): consumers transport-closed, producers untouched, the connection closed', async () => {
    const alice = await publish();
    const { transport, sub } = subscribe();
    const consumers = [transport.consume(alice.video), transport.consume(alice.audio)];
    const { log, watch } = closeLog();
    watch('subscribe', transport);
    consumers.forEach((c, i) => {
      watch(`c${i}`, c);
    });
    watch('producer', alice.video);

    transport.close();
    transport.close();

    expect(log).toEqual(['c0:transport-closed', 'c1:transport-closed', 'subscribe:closed']);
    expect(sub.closeCalls).toBe(1);
    expect(alice.video.consumers.size).toBe(0);
    expect(router.producers).toHaveLength(2);
  });

  it('a connection that fails closes its transport with connection-failed, children transport-closed', async () => {
    const alice = await publish();
    const bob = await publish({ video: { ssrc: 7 }, audio: { ssrc: 8 } }, 'bob');
    const { transport, sub } = subscribe();
    const fromAlice = transport.consume(alice.video);
    const fromBob = transport.consume(bob.video);
    const { log, watch } = closeLog();
    watch('aliceT', alice.transport);
    watch('aliceV', alice.video);
    watch('aliceA', alice.audio);
    watch('fromAlice', fromAlice);
    watch('subscribe', transport);
    watch('fromBob', fromBob);
    const states: string[] = [];
    alice.transport.on('state', (state) => states.push(state));

    alice.publisher.setState('connecting');
    alice.publisher.setState('connected');
    alice.publisher.setState('disconnected'); // may come back: nothing closes
    expect(log).toEqual([]);
    alice.publisher.setState('failed');

    // 'closed' is the engine reporting its own close(), from inside the cascade.
    expect(states).toEqual(['connecting', 'connected', 'disconnected', 'failed', 'closed']);
    expect(log).toEqual([
      'fromAlice:producer-closed',
      'aliceV:transport-closed',
      'aliceA:transport-closed',
      'aliceT:connection-failed',
    ]);
    expect(alice.publisher.closeCalls).toBe(1);
    expect(router.producers).toEqual([bob.video, bob.audio]);

    sub.setState('failed');
    expect(log.slice(4)).toEqual(['fromBob:transport-closed', 'subscribe:connection-failed']);
    expect(sub.closeCalls).toBe(1);
    expect(bob.video.closed).toBe(false);
  });

  it('an engine connection closing by itself counts as failed', async () => {
    const alice = await publish();
    const reasons: CloseReason[] = [];
    alice.transport.on('close', (reason) => reasons.push(reason));
    alice.publisher.setState('closed');
    expect(reasons).toEqual(['connection-failed']);
    expect(alice.video.closed).toBe(true);
  });

  it('every call after close throws RouterError closed', async () => {
    const alice = await publish();
    const { transport } = subscribe();
    await transport.createOffer();
    alice.video.close();
    expect(() => transport.consume(alice.video)).toThrow(RouterError);

    transport.close();
    const closed = expect.objectContaining({ name: 'RouterError', code: 'SFU_ROUTER_ERROR', reason: 'closed' });
    expect(() => transport.consume(alice.audio)).toThrow(closed);
    await expect(transport.createOffer()).rejects.toThrow(closed);
    expect(() => transport.setAnswer('v=0\r\n')).toThrow(closed);

    router.close();
    await expect(router.publish(publisherOffer())).rejects.toThrow(closed);
    expect(() => router.subscribe()).toThrow(closed);
    expect(engine.publishers).toHaveLength(1); // the engine was not asked
    expect(engine.subscribers).toHaveLength(1);
  });

  it('a publish that completes after router.close() closes its connection and rejects', async () => {
    const publishing = router.publish(publisherOffer());
    router.close();
    await expect(publishing).rejects.toThrow(expect.objectContaining({ reason: 'closed' }));
    expect(engine.lastPublisher.closeCalls).toBe(1);
    expect(router.producers).toEqual([]);
  });

  it('an offer the engine refuses is a bad-description; unsupported m-lines get no producer', async () => {
    await expect(router.publish('not sdp')).rejects.toThrow(expect.objectContaining({ reason: 'bad-description' }));
    const audioOnly = await publish({ video: false, audio: {} });
    expect(audioOnly.transport.producers.map((p) => p.kind)).toEqual(['audio']);
    const h264Only = publisherOffer({ audio: false }).replaceAll('VP8/90000', 'H264/90000');
    expect((await router.publish(h264Only)).producers).toEqual([]);
  });

  it('listeners that throw do not break the cascade: the router’s onListenerError gets each error', async () => {
    const alice = await publish();
    const { transport } = subscribe();
    const consumer = transport.consume(alice.video);
    const boom = (what: string) => () => {
      throw new Error(what);
    };
    const closed: string[] = [];
    const emitters: [string, Closable][] = [
      ['consumer', consumer],
      ['producer', alice.video],
      ['publish', alice.transport],
      ['subscribe', transport],
      ['router', router],
    ];
    for (const [name, emitter] of emitters) {
      emitter.on('close', boom(name));
      emitter.on('close', () => closed.push(name));
    }
    transport.on('negotiationneeded', boom('negotiationneeded'));
    transport.on('state', boom('state'));

    alice.video.close(); // consumer, producer; the subscribe transport wants an offer
    await flush();
    engine.lastSubscriber.setState('failed');
    router.close();

    expect(closed).toEqual(['consumer', 'producer', 'subscribe', 'publish', 'router']);
    expect(alice.audio.closed).toBe(true);
    expect(listenerErrors.map((e) => [e.event, (e.error as Error).message])).toEqual([
      ['close', 'consumer'],
      ['close', 'producer'],
      ['negotiationneeded', 'negotiationneeded'],
      ['state', 'state'], // failed
      ['state', 'state'], // closed, from the engine's close()
      ['close', 'subscribe'],
      ['close', 'publish'],
      ['close', 'router'],
    ]);
  });

  it('the default listener-error handler logs to console.error', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const quiet = new Router({ engine });
    routers.push(quiet);
    quiet.on('close', () => {
      throw new Error('boom');
    });
    quiet.close();
    expect(log).toHaveBeenCalledWith(expect.stringContaining('"close" listener threw'), expect.any(Error));
    log.mockRestore();
  });
});

describe('Router negotiation', () => {
  it('consuming a publisher’s audio and video together asks for one negotiation; the offer carries both', async () => {
    const alice = await publish();
    const { transport, sub } = subscribe();
    const negotiations = vi.fn();
    transport.on('negotiationneeded', negotiations);
    const video = transport.consume(alice.video);
    const audio = transport.consume(alice.audio);
    expect(negotiations).not.toHaveBeenCalled(); // not from inside consume()
    await flush();
    expect(negotiations).toHaveBeenCalledTimes(1);

    const offer = await transport.createOffer();
    expect(offer).toContain(`a=ssrc:${video.ssrc}`);
    expect(sub.offers).toBe(1);
    expect([...sub.slots]).toEqual([
      ['0', { kind: 'video', media: { ssrc: video.ssrc, streamId: 'alice', trackId: video.id } }],
      ['1', { kind: 'audio', media: { ssrc: audio.ssrc, streamId: 'alice', trackId: audio.id } }],
    ]);
    expect([video.mid, audio.mid]).toEqual(['0', '1']);
    expect(video.ssrc).not.toBe(audio.ssrc);
    transport.setAnswer(fakeAnswer(offer));
    await flush();
    expect(negotiations).toHaveBeenCalledTimes(1);
  });

  it('streamId defaults to the producer id when the publisher gave none', async () => {
    const transport = await router.publish(publisherOffer(WITH_SSRCS));
    const { transport: subscriber, sub } = subscribe();
    const producer = must(transport.producers[0]);
    subscriber.consume(producer);
    await subscriber.createOffer();
    expect(sub.slots.get('0')?.media?.streamId).toBe(producer.id);
  });

  it('one offer at a time: createOffer while one waits → negotiation-pending; setAnswer without one → no-offer', async () => {
    const alice = await publish();
    const { transport } = subscribe();
    expect(() => transport.setAnswer('v=0\r\n')).toThrow(expect.objectContaining({ reason: 'no-offer' }));
    transport.consume(alice.video);
    const offer = await transport.createOffer();
    await expect(transport.createOffer()).rejects.toThrow(expect.objectContaining({ reason: 'negotiation-pending' }));
    transport.setAnswer(fakeAnswer(offer));
    expect(() => transport.setAnswer(fakeAnswer(offer))).toThrow(expect.objectContaining({ reason: 'no-offer' }));
    await expect(transport.createOffer()).resolves.toContain('v=0');
  });

  it('an answer the engine refuses is a bad-description and leaves the offer waiting', async () => {
    const alice = await publish();
    const { transport, sub } = subscribe();
    const consumer = transport.consume(alice.video);
    const offer = await transport.createOffer();
    expect(() => transport.setAnswer('garbage')).toThrow(expect.objectContaining({ reason: 'bad-description' }));
    await expect(transport.createOffer()).rejects.toThrow(expect.objectContaining({ reason: 'negotiation-pending' }));
    transport.setAnswer(fakeAnswer(offer));
    expect(sub.answers).toBe(1);
    // Negotiated now: its packets flow.
    const source = new VideoSource(alice.publisher);
    source.keyframe();
    expect(sub.sentRtp(consumer.mid)).toHaveLength(1);
  });

  it('our candidates come back from the first setAnswer only, to be trickled to the subscriber', async () => {
    const alice = await publish();
    const { transport } = subscribe();
    transport.consume(alice.video);
    const first = transport.setAnswer(fakeAnswer(await transport.createOffer()));
    expect(first).toEqual([{ candidate: expect.stringMatching(/^candidate:/), sdpMid: '0' }]);
    transport.consume(alice.audio);
    expect(transport.setAnswer(fakeAnswer(await transport.createOffer()))).toEqual([]);
  });

  it('a connection that goes down while its answer is applied closes the transport as connection-failed', async () => {
    const alice = await publish();
    const { transport, sub } = subscribe();
    const closes = vi.fn();
    transport.on('close', closes);
    const consumer = transport.consume(alice.video);
    const offer = await transport.createOffer();
    sub.failWhileAnswering = true;
    expect(() => transport.setAnswer(fakeAnswer(offer))).toThrow(expect.objectContaining({ reason: 'closed' }));
    expect(closes).toHaveBeenCalledWith('connection-failed');
    expect(consumer.closed).toBe(true);
  });

  it('changes while an offer waits ask for negotiation again after setAnswer, not before', async () => {
    const alice = await publish();
    const { transport, sub } = subscribe();
    const negotiations = vi.fn();
    transport.on('negotiationneeded', negotiations);
    transport.consume(alice.video);
    await flush();
    expect(negotiations).toHaveBeenCalledTimes(1);

    const offering = transport.createOffer(); // waiting from here on, even before it resolves
    const audio = transport.consume(alice.audio);
    const offer = await offering;
    expect([...sub.slots.keys()]).toEqual(['0']); // the audio came too late for this offer
    await flush();
    expect(negotiations).toHaveBeenCalledTimes(1);

    transport.setAnswer(fakeAnswer(offer));
    expect(negotiations).toHaveBeenCalledTimes(2); // right away: nothing else is pending
    await negotiate(transport);
    expect(sub.slots.get('1')?.media?.ssrc).toBe(audio.ssrc);
    await flush();
    expect(negotiations).toHaveBeenCalledTimes(2);
  });

  it('no negotiationneeded when the app makes the offer before the event fires', async () => {
    const alice = await publish();
    const { transport } = subscribe();
    const negotiations = vi.fn();
    transport.on('negotiationneeded', negotiations);
    transport.consume(alice.video);
    const offer = await transport.createOffer();
    transport.setAnswer(fakeAnswer(offer));
    await flush();
    expect(negotiations).not.toHaveBeenCalled();
  });

  it('the first offer without consumers has one inactive video m-line, reused by the first video consumer', async () => {
    const alice = await publish();
    const { transport, sub } = subscribe();
    await negotiate(transport);
    expect([...sub.slots]).toEqual([['0', { kind: 'video', media: undefined }]]);
    const audio = transport.consume(alice.audio);
    const video = transport.consume(alice.video);
    expect([audio.mid, video.mid]).toEqual(['1', '0']);
    await negotiate(transport);
    expect([...sub.slots].map(([mid, slot]) => [mid, slot.kind, slot.media?.ssrc])).toEqual([
      ['0', 'video', video.ssrc],
      ['1', 'audio', audio.ssrc],
    ]);
  });

  it('a released m-line is offered inactive and reused, for its kind, only once an answer agreed to that', async () => {
    const alice = await publish();
    const bob = await publish({ video: { ssrc: 7 }, audio: { ssrc: 8 } }, 'bob');
    const { transport, sub } = subscribe();
    const negotiations = vi.fn();
    transport.on('negotiationneeded', negotiations);
    const first = transport.consume(alice.video);
    await negotiate(transport);
    expect(first.mid).toBe('0');

    expect(negotiations).not.toHaveBeenCalled(); // negotiate() made the offer before the event

    first.close();
    await flush();
    expect(negotiations).toHaveBeenCalledTimes(1);
    // Still sending as far as the subscriber knows: a new video consumer gets a new m-line.
    const beforeOffer = transport.consume(bob.video);
    expect(beforeOffer.mid).toBe('1');
    const offer = await transport.createOffer();
    expect(sub.slots.get('0')).toEqual({ kind: 'video', media: undefined });
    // Offered inactive, not answered yet: still not free.
    beforeOffer.close();
    const duringOffer = transport.consume(alice.video);
    expect(duringOffer.mid).toBe('2');
    transport.setAnswer(fakeAnswer(offer));

    // Agreed inactive: m-line 0 is free for video, never for audio.
    const audio = transport.consume(alice.audio);
    const afterAnswer = transport.consume(bob.video);
    expect([audio.mid, afterAnswer.mid]).toEqual(['3', '0']);
    await negotiate(transport);
    expect([...sub.slots].map(([mid, slot]) => [mid, slot.kind, slot.media?.ssrc])).toEqual([
      ['0', 'video', afterAnswer.ssrc],
      ['1', 'video', undefined],
      ['2', 'video', duringOffer.ssrc],
      ['3', 'audio', audio.ssrc],
    ]);
    expect(transport.consumers).toEqual([afterAnswer, duringOffer, audio]);

    // The reused m-line forwards the new consumer's stream under its SSRC.
    const source = new VideoSource(bob.publisher, { ssrc: 7 });
    source.keyframe();
    expect(sub.sentRtp('0').map((p) => rtp(p).ssrc)).toEqual([afterAnswer.ssrc]);
  });
});

describe('Router forwarding', () => {
  it('sends nothing before the answer; video starts at a keyframe (after a PLI), rewritten to our SSRC, PT and numbering', async () => {
    const alice = await publish({ video: { ssrc: VIDEO_SSRC, payloadType: 100 }, audio: false });
    const source = new VideoSource(alice.publisher, { payloadType: 100, seq: 65530 });
    const { transport, sub } = subscribe();
    const consumer = transport.consume(alice.video);
    source.keyframe();
    source.send();
    const offer = await transport.createOffer();
    source.keyframe(); // offered, not answered
    expect(sub.sent.size).toBe(0);
    expect(plisTo(alice.publisher)).toEqual([]);

    transport.setAnswer(fakeAnswer(offer));
    expect(plisTo(alice.publisher)).toEqual([VIDEO_SSRC]); // the stream is known: ask for a keyframe now
    source.send();
    source.send('continuation');
    expect(sub.sent.size).toBe(0); // no decoder can start there

    const sentIn = [source.keyframe(), source.send('continuation'), source.send(), source.send()];
    const out = sub.sentRtp(consumer.mid).map(rtp);
    expect(out).toHaveLength(4);
    expect(sub.sent.get(consumer.mid)).toHaveLength(4); // and nothing else on the m-line
    expectConsecutive(out);
    expect(out[0]?.sequenceNumber).toBe(65535); // the first stint keeps the source's numbers...
    expect(out[1]?.sequenceNumber).toBe(0); // ...across the wrap
    out.forEach((header, i) => {
      const original = rtp(must(sentIn[i]));
      expect(header.ssrc).toBe(consumer.ssrc);
      expect(header.payloadType).toBe(96);
      expect(header.timestamp).toBe(original.timestamp);
      expect(header.marker).toBe(original.marker);
      expect(header.payload).toEqual(original.payload);
      expect(header.extension(OFFER_EXTENSION_IDS.absSendTime)).toEqual(
        original.extension(OFFER_EXTENSION_IDS.absSendTime),
      );
    });
    expect(plisTo(alice.publisher)).toHaveLength(1); // the others were inside keyframeRequestIntervalMs
    expect(router.counters).toMatchObject({ rtpReceived: 9, forwardedPackets: 4, keyframeRequestsSent: 1 });
    expect(alice.video.streams[0]).toMatchObject({ ssrc: VIDEO_SSRC, rid: '', width: 320, height: 240 });
  });

  it('each subscriber gets its own SSRC on the same packets; keyframe requests are shared and throttled', async () => {
    const alice = await publish();
    const source = new VideoSource(alice.publisher);
    source.keyframe();
    const a = await forwardedTo(alice.video);
    const b = await forwardedTo(alice.video);
    expect(plisTo(alice.publisher)).toEqual([VIDEO_SSRC]); // one for both

    vi.advanceTimersByTime(299);
    source.send();
    source.send();
    expect(plisTo(alice.publisher)).toHaveLength(1);
    vi.advanceTimersByTime(1);
    source.send();
    source.send();
    expect(plisTo(alice.publisher)).toHaveLength(2);

    const key = source.keyframe();
    const delta = source.send();
    vi.advanceTimersByTime(1000);
    source.send();
    expect(plisTo(alice.publisher)).toHaveLength(2); // forwarding: no more requests
    for (const { sub, consumer } of [a, b]) {
      const out = sub.sentRtp(consumer.mid).map(rtp);
      expect(out.map((h) => h.ssrc)).toEqual([consumer.ssrc, consumer.ssrc, consumer.ssrc]);
      expect(out.map((h) => h.payload)).toEqual([rtp(key).payload, rtp(delta).payload, expect.anything()]);
      expectConsecutive(out);
    }
    expect(a.consumer.ssrc).not.toBe(b.consumer.ssrc);
    expect(router.counters.keyframeRequestsSent).toBe(2);
  });

  it('keyframeRequestIntervalMs is the throttle; without it, one PLI per need (not two on the answer)', async () => {
    router = newRouter({ keyframeRequestIntervalMs: 0 });
    const alice = await publish();
    const source = new VideoSource(alice.publisher);
    source.send();
    await forwardedTo(alice.video);
    expect(plisTo(alice.publisher)).toEqual([VIDEO_SSRC]); // one request for one need, even unthrottled
    source.send();
    source.send();
    expect(plisTo(alice.publisher)).toHaveLength(3); // then one per packet until a keyframe comes
    source.keyframe();
    source.send();
    expect(plisTo(alice.publisher)).toHaveLength(3);
  });

  it('audio starts at once (no keyframe, no PLI) with PT 111 and its audio level feeds the dominant speaker', async () => {
    const alice = await publish({ video: false, audio: { ssrc: AUDIO_SSRC, payloadType: 109 } });
    const source = new AudioSource(alice.publisher, { payloadType: 109, seq: 65535 });
    source.send();
    const { sub, consumer } = await forwardedTo(alice.audio);
    const sentIn = [source.send(), source.send(), source.send()];
    const out = sub.sentRtp(consumer.mid).map(rtp);
    expect(out.map((h) => [h.ssrc, h.payloadType])).toEqual(Array(3).fill([consumer.ssrc, 111]));
    expectConsecutive(out);
    expect(out.map((h) => h.payload)).toEqual(sentIn.map((p) => rtp(p).payload));
    expect(feedbackTo(alice.publisher)).toEqual([]);

    const speakers: (Producer | undefined)[] = [];
    router.on('dominant-speaker', (producer) => speakers.push(producer));
    for (let i = 0; i < 25; i++) {
      source.send(100, false); // the room
      vi.advanceTimersByTime(20);
    }
    expect(speakers).toEqual([]);
    for (let i = 0; i < 75; i++) {
      source.send(20, true); // speech
      vi.advanceTimersByTime(20);
    }
    expect(speakers).toEqual([alice.audio]);
    expect(router.dominantSpeaker).toBe(alice.audio);
    alice.audio.close();
    expect(speakers).toEqual([alice.audio, undefined]);
    expect(router.dominantSpeaker).toBeUndefined();
  });

  it('pause() stops sending; resume() waits for a keyframe and continues the numbering (+1, no gap)', async () => {
    const alice = await publish();
    const video = new VideoSource(alice.publisher);
    const audio = new AudioSource(alice.publisher);
    video.keyframe();
    audio.send();
    const { transport, sub } = subscribe();
    const videoConsumer = transport.consume(alice.video);
    const audioConsumer = transport.consume(alice.audio);
    await negotiate(transport);
    video.keyframe();
    video.send();
    audio.send();
    audio.send();
    const layers: (string | undefined)[] = [];
    videoConsumer.on('layer', (rid) => layers.push(rid));

    videoConsumer.pause();
    audioConsumer.pause();
    expect([videoConsumer.isPaused, videoConsumer.currentLayer]).toEqual([true, undefined]);
    expect(layers).toEqual([undefined]);
    vi.advanceTimersByTime(1000);
    video.keyframe();
    video.send();
    audio.send();
    expect(sub.sentRtp('0')).toHaveLength(2);
    expect(sub.sentRtp('1')).toHaveLength(2);
    const plis = plisTo(alice.publisher).length;

    videoConsumer.resume();
    audioConsumer.resume();
    video.send();
    expect(plisTo(alice.publisher)).toHaveLength(plis + 1);
    expect(sub.sentRtp('0')).toHaveLength(2);
    video.keyframe();
    video.send();
    audio.send();
    vi.advanceTimersByTime(20);
    audio.send();
    expect(layers).toEqual([undefined, '']);

    const videoOut = sub.sentRtp('0').map(rtp);
    const audioOut = sub.sentRtp('1').map(rtp);
    expect(videoOut).toHaveLength(4);
    expect(audioOut).toHaveLength(4);
    expectConsecutive(videoOut);
    expectConsecutive(audioOut);
    // The timeline moves on by the wall-clock time paused (1 s), not by what the source skipped.
    const [v1, v2] = [must(videoOut[1]), must(videoOut[2])];
    expect(v2.timestamp - v1.timestamp).toBe(90_000);
    expect(must(audioOut[2]).timestamp - must(audioOut[1]).timestamp).toBe(48_000);
    expect(must(audioOut[3]).timestamp - must(audioOut[2]).timestamp).toBe(960);
  });

  it('a consumer created paused negotiates its m-line but sends nothing until resume()', async () => {
    const alice = await publish();
    const source = new VideoSource(alice.publisher);
    source.keyframe();
    const { transport, sub } = subscribe();
    const consumer = transport.consume(alice.video, { paused: true });
    await negotiate(transport);
    expect(sub.slots.get('0')?.media?.ssrc).toBe(consumer.ssrc);
    source.keyframe();
    expect(sub.sent.size).toBe(0);
    expect(plisTo(alice.publisher)).toEqual([]);
    consumer.resume();
    source.send();
    expect(plisTo(alice.publisher)).toEqual([VIDEO_SSRC]);
    source.keyframe();
    expect(sub.sentRtp('0')).toHaveLength(1);
  });

  it('video RED, RTX and FEC payload types are dropped and counted (audio RED is forwarded)', async () => {
    const alice = await publish();
    const video = new VideoSource(alice.publisher);
    const audio = new AudioSource(alice.publisher);
    video.keyframe();
    audio.send();
    const { transport, sub } = subscribe();
    transport.consume(alice.video);
    transport.consume(alice.audio);
    await negotiate(transport);
    video.keyframe();
    audio.send();
    const pt = OFFER_PAYLOAD_TYPES;
    alice.publisher.deliverRtp('video', video.build('key', { payloadType: pt.vp8Rtx, ssrc: VIDEO_SSRC + 1 }));
    alice.publisher.deliverRtp('video', video.build('key', { payloadType: pt.red }));
    alice.publisher.deliverRtp('video', video.build('key', { payloadType: pt.redRtx, ssrc: VIDEO_SSRC + 1 }));
    alice.publisher.deliverRtp('video', video.build('delta', { payloadType: pt.ulpfec }));
    alice.publisher.deliverRtp('audio', audio.build(40, true, { payloadType: pt.audioRed })); // negotiated
    alice.publisher.deliverRtp('audio', audio.build(40, true, { payloadType: 0 }));
    expect(router.counters.dropped).toMatchObject({ unknownPayloadType: 5, unknownSsrc: 0, malformedRtp: 0 });
    expect(sub.sentRtp('0')).toHaveLength(1);
    expect(sub.sentRtp('1').map((packet) => rtp(packet).payloadType)).toEqual([111, 63]);
    expect(alice.video.streams.map((s) => s.ssrc)).toEqual([VIDEO_SSRC]);
  });

  it('an SSRC the offer did not announce is dropped and counted; without a=ssrc the first one is the stream', async () => {
    const announced = await publish();
    const stranger = new VideoSource(announced.publisher, { ssrc: 0xdeadbeef });
    stranger.keyframe();
    expect(router.counters.dropped.unknownSsrc).toBe(1);
    expect(announced.video.streams).toEqual([]);

    const unannounced = await publish({}, 'bob');
    const first = new VideoSource(unannounced.publisher, { ssrc: 0x1111 });
    const second = new VideoSource(unannounced.publisher, { ssrc: 0x2222 });
    first.keyframe();
    second.keyframe();
    expect(router.counters.dropped.unknownSsrc).toBe(2);
    expect(unannounced.video.streams.map((s) => s.ssrc)).toEqual([0x1111]);
  });

  it('simulcast: each offered RID is a stream, in the offer’s order; an unknown RID is dropped', async () => {
    const alice = await publish({ video: { rids: ['q', 'h', 'f'] }, audio: false });
    const layers = vi.fn();
    alice.video.on('layers', layers);
    new VideoSource(alice.publisher, { ssrc: 3, rid: 'f' }).keyframe();
    new VideoSource(alice.publisher, { ssrc: 1, rid: 'q' }).keyframe();
    new VideoSource(alice.publisher, { ssrc: 2, rid: 'h' }).send();
    new VideoSource(alice.publisher, { ssrc: 4, rid: 'x' }).keyframe();
    new VideoSource(alice.publisher, { ssrc: 5, rid: 'q' }).keyframe(); // a second SSRC for q
    new VideoSource(alice.publisher, { ssrc: 6 }).keyframe(); // no RID at all
    expect(alice.video.streams.map((s) => [s.rid, s.ssrc, s.index])).toEqual([
      ['q', 1, 0],
      ['h', 2, 1],
      ['f', 3, 2],
    ]);
    expect(router.counters.dropped.unknownSsrc).toBe(3);
    expect(layers).toHaveBeenCalled();
  });

  it('simulcast: one layer at a time, re-chosen as layers come and go (no subscriber RTCP needed), switched at keyframes', async () => {
    const alice = await publish({ video: { rids: ['q', 'h', 'f'] }, audio: false });
    const { sub, consumer } = await forwardedTo(alice.video);
    const q = new VideoSource(alice.publisher, { ssrc: 1, rid: 'q', seq: 100, size: { width: 320, height: 180 } });
    const h = new VideoSource(alice.publisher, { ssrc: 2, rid: 'h', seq: 5000, size: { width: 640, height: 360 } });
    const f = new VideoSource(alice.publisher, { ssrc: 3, rid: 'f', seq: 9000, size: { width: 1280, height: 720 } });
    const layers: (string | undefined)[] = [];
    consumer.on('layer', (rid) => layers.push(rid));
    const frame = (sources: VideoSource[], kind: Vp8Frame = 'delta') => {
      for (const source of sources) source.send(kind);
      vi.advanceTimersByTime(20);
    };

    // The layers arrive one after the other, each with a keyframe: a new layer is a fresh choice
    // (no upgrade wait, that is for bandwidth), so the stream steps up at once.
    frame([q, h, f], 'key');
    expect(layers).toEqual(['q', 'h', 'f']);
    frame([q, h, f]);
    expect(consumer.currentLayer).toBe('f');

    // f stops (the publisher's encoder dropped it): once it counts as inactive, h is next.
    for (let i = 0; i < 110; i++) frame([q, h]);
    expect(plisTo(alice.publisher)).toContain(2);
    frame([q, h], 'key');
    expect(layers).toEqual(['q', 'h', 'f', 'h']);

    // A small tile: the smallest covering layer, on the next tick.
    consumer.setPreferredSize(320, 180);
    frame([q, h]);
    frame([q, h], 'key');
    expect(layers).toEqual(['q', 'h', 'f', 'h', 'q']);

    const out = sub.sentRtp(consumer.mid).map(rtp);
    expect(new Set(out.map((header) => header.ssrc))).toEqual(new Set([consumer.ssrc]));
    expectConsecutive(out);
    expect(router.counters.layerSwitches).toBe(4);
  });

  it('simulcast: lower layers keep a quarter of the top layer’s NACK cache', async () => {
    const alice = await publish({ video: { rids: ['q', 'h', 'f'] }, audio: false });
    for (const [ssrc, rid] of [
      [1, 'q'],
      [2, 'h'],
      [3, 'f'],
    ] as const) {
      new VideoSource(alice.publisher, { ssrc, rid }).keyframe();
    }
    const sizes = alice.video.streams.map((stream) => [stream.rid, stream.cache?.capacity]);
    expect(sizes).toEqual([
      ['q', 256],
      ['h', 256],
      ['f', 1024],
    ]);
  });

  it('simulcast: one subscriber’s downlink is shared by its tiles, not spent by each in full', async () => {
    // Three layers with distinct rates at 50 packets/s: q ≈ 60 kb/s, h ≈ 140 kb/s, f ≈ 380 kb/s.
    const layersOf = (publisher: FakePublisher, base: number) => [
      new VideoSource(publisher, { ssrc: base + 1, rid: 'q', size: { width: 320, height: 180 }, payloadBytes: 100 }),
      new VideoSource(publisher, { ssrc: base + 2, rid: 'h', size: { width: 640, height: 360 }, payloadBytes: 300 }),
      new VideoSource(publisher, { ssrc: base + 3, rid: 'f', size: { width: 1280, height: 720 }, payloadBytes: 900 }),
    ];
    const alice = await publish({ video: { rids: ['q', 'h', 'f'] }, audio: false }, 'alice');
    const bob = await publish({ video: { rids: ['q', 'h', 'f'] }, audio: false }, 'bob');
    const sources = [...layersOf(alice.publisher, 10), ...layersOf(bob.publisher, 20)];
    const both = subscribe(); // two big tiles on one downlink
    const bothConsumers = [both.transport.consume(alice.video), both.transport.consume(bob.video)];
    await negotiate(both.transport);
    const one = subscribe(); // one big tile on the same bandwidth
    const oneConsumer = one.transport.consume(alice.video);
    await negotiate(one.transport);
    for (const consumer of [...bothConsumers, oneConsumer]) consumer.setPreferredSize(1280, 720);

    // Each subscriber reports a 200 kb/s downlink (REMB) every 500 ms.
    const remb = (sub: FakeSubscriber, ssrcs: number[]) => sub.deliver('0', buildRemb(1, 200_000, ssrcs));
    for (let i = 0; i < 300; i++) {
      for (const source of sources) source.send(i % 50 === 0 ? 'key' : 'delta');
      if (i % 25 === 0) {
        remb(
          both.sub,
          bothConsumers.map((c) => c.ssrc),
        );
        remb(one.sub, [oneConsumer.ssrc]);
      }
      vi.advanceTimersByTime(20);
    }
    // Alone, a tile gets h (140 kb/s fits 200 kb/s); two tiles share 200 kb/s and both get q.
    expect(oneConsumer.currentLayer).toBe('h');
    expect(bothConsumers.map((c) => c.currentLayer)).toEqual(['q', 'q']);
    expect(one.transport.estimatedBitrate()).toBe(200_000);
  });

  it('audio RED goes as is to subscribers that took it, as its primary block (plain Opus) to the others', async () => {
    // A publisher whose Opus is 109: the blocks inside RED name it, and must name ours (111).
    const alice = await publish({ video: false, audio: { ssrc: AUDIO_SSRC, payloadType: 109 } });
    expect(alice.audio.track.redPayloadType).toBe(OFFER_PAYLOAD_TYPES.audioRed);
    const chrome = await forwardedTo(alice.audio);
    const other = subscribe();
    other.sub.red = false; // a browser that answered without RED
    const otherConsumer = other.transport.consume(alice.audio);
    await negotiate(other.transport);

    // One redundant block (the previous frame: 960 ticks, 3 bytes) and the primary (2 bytes).
    const payload = Uint8Array.from([0x80 | 109, 0x0f, 0x00, 0x03, 109, 0xaa, 0xbb, 0xcc, 0x11, 0x22]);
    const packet = buildRtp({
      marker: false,
      payloadType: OFFER_PAYLOAD_TYPES.audioRed,
      sequenceNumber: 7000,
      timestamp: 48_000,
      ssrc: AUDIO_SSRC,
      csrcs: [],
      extension: {
        form: 'one-byte',
        elements: [{ id: OFFER_EXTENSION_IDS.audioLevel, data: Uint8Array.of(0x80 | 30) }],
      },
      payload,
      padding: 4,
    });
    alice.publisher.deliverRtp('audio', packet);

    const [asIs] = chrome.sub.sentRtp(chrome.consumer.mid).map(rtp);
    expect(asIs?.payloadType).toBe(63);
    expect([...(asIs?.payload ?? [])]).toEqual([0x80 | 111, 0x0f, 0x00, 0x03, 111, 0xaa, 0xbb, 0xcc, 0x11, 0x22]);
    const [primary] = other.sub.sentRtp(otherConsumer.mid).map(rtp);
    expect(primary?.payloadType).toBe(111);
    expect([...(primary?.payload ?? [])]).toEqual([0x11, 0x22]);
    expect(primary?.paddingLength).toBe(0);
    expect(primary?.extension(OFFER_EXTENSION_IDS.audioLevel)).toEqual(Uint8Array.of(0x80 | 30)); // speakers still work
    expect(primary?.sequenceNumber).toBe(asIs?.sequenceNumber);

    // A RED payload whose blocks overrun is malformed: counted, sent to nobody.
    alice.publisher.deliverRtp(
      'audio',
      buildRtp({ ...RTP_DEFAULTS, payload: Uint8Array.from([0xef, 0, 0, 0x40, 111]) }),
    );
    expect(router.counters.dropped.malformedRtp).toBe(1);
    expect(chrome.sub.sentRtp(chrome.consumer.mid)).toHaveLength(1);
  });

  it('a hidden tile (0×0) receives no video, and its packets do not each run the layer selector', async () => {
    const alice = await publish();
    const source = new VideoSource(alice.publisher);
    const { sub, consumer } = await forwardedTo(alice.video);
    source.keyframe();
    expect(sub.sentRtp(consumer.mid)).toHaveLength(1);
    consumer.setPreferredSize(0, 0);
    const select = vi.spyOn(LayerSelector.prototype, 'select');
    for (let i = 0; i < 100; i++) {
      source.send(i % 30 === 0 ? 'key' : 'delta');
      vi.advanceTimersByTime(20);
    }
    expect(sub.sentRtp(consumer.mid)).toHaveLength(1);
    expect(select.mock.calls.length).toBeLessThanOrEqual(5); // the 500 ms shares of the downlink, not 100 packets
    expect(select.mock.calls.length).toBeGreaterThan(0); // and the spy did see those shares
    select.mockRestore();
  });

  it('RTP from a subscriber is counted as wrong direction and dropped', async () => {
    const alice = await publish();
    const { sub } = await forwardedTo(alice.video);
    sub.deliver('0', new VideoSource(alice.publisher).build('key'));
    expect(router.counters.dropped.wrongDirection).toBe(1);
    expect(sub.sent.size).toBe(0);
    expect(feedbackTo(alice.publisher)).toEqual([]);
  });

  it('malformed RTP is counted, not forwarded; packets after a refused send() keep their numbers', async () => {
    const alice = await publish();
    const source = new VideoSource(alice.publisher);
    const { sub, consumer } = await forwardedTo(alice.video);
    alice.publisher.deliverRtp('video', Uint8Array.of(0x80, 96, 0, 1));
    alice.publisher.deliverRtp('video', Uint8Array.from([0x40, ...source.build('key').subarray(1)]));
    expect(router.counters.dropped.malformedRtp).toBe(2);

    source.keyframe();
    sub.canSend = false; // the track is not open (yet, or any more)
    source.send();
    source.send();
    expect(router.counters.forwardedPackets).toBe(1);
    sub.canSend = true;
    source.send();
    const out = sub.sentRtp(consumer.mid).map(rtp);
    expect(out.map((h) => h.sequenceNumber - must(out[0]).sequenceNumber)).toEqual([0, 3]);
    expect(router.counters.forwardedPackets).toBe(2);
  });

  it('loss on the publisher’s upload is NACKed to the publisher on the tick', async () => {
    const alice = await publish();
    const source = new VideoSource(alice.publisher, { seq: 500 });
    source.keyframe(); // 500
    source.lose(); // 501
    source.lose(); // 502
    source.send(); // 503
    vi.advanceTimersByTime(40);
    expect(nacksTo(alice.publisher)).toEqual([{ ssrc: VIDEO_SSRC, lost: [501, 502] }]);
    expect(router.counters.nacksSent).toBe(2);
    // Audio has no NACK: nothing for its gaps.
    const audio = new AudioSource(alice.publisher);
    audio.send();
    audio.build();
    audio.send();
    vi.advanceTimersByTime(200);
    expect(nacksTo(alice.publisher).every((n) => n.ssrc === VIDEO_SSRC)).toBe(true);
  });
});

describe('Router NACKs from subscribers', () => {
  async function forwarding(tuning: Partial<RouterTuning> = {}) {
    if (Object.keys(tuning).length > 0) router = newRouter(tuning);
    const alice = await publish();
    const source = new VideoSource(alice.publisher, { seq: 65533 });
    source.send(); // before the keyframe: never forwarded
    const forwarded = await forwardedTo(alice.video);
    source.keyframe();
    for (let i = 0; i < 5; i++) source.send();
    return { alice, source, ...forwarded };
  }

  const nack = (consumer: Consumer, lost: number[]) => buildNack(0x5b5b5b5b, consumer.ssrc, lost);

  it('answers a NACK with the packets exactly as they were forwarded', async () => {
    const { sub, consumer } = await forwarding();
    const sent = sub.sentRtp(consumer.mid);
    expect(sent).toHaveLength(6);
    const wanted = [must(sent[1]), must(sent[4])];
    // libwebrtc puts its NACK after a receiver report in one compound packet.
    const rr = buildReceiverReport(0x5b5b5b5b, []);
    sub.deliver(
      consumer.mid,
      Buffer.concat([
        rr,
        nack(
          consumer,
          wanted.map((p) => rtp(p).sequenceNumber),
        ),
      ]),
    );
    expect(sub.sentRtp(consumer.mid).slice(6)).toEqual(wanted);
    expect(router.counters).toMatchObject({ nackedPackets: 2, retransmittedPackets: 2, retransmitMisses: 0 });
    expect(router.counters.forwardedPackets).toBe(6); // retransmissions are not counted as forwarded
  });

  it('answers a NACK for a packet the engine could not send the first time', async () => {
    const { sub, consumer, source } = await forwarding();
    sub.canSend = false;
    const lostBytes = source.send();
    sub.canSend = true;
    source.send();
    const out = sub.sentRtp(consumer.mid).map(rtp);
    const missing = next16(must(out.at(-2)).sequenceNumber);
    expect(must(out.at(-1)).sequenceNumber).toBe(next16(missing));
    sub.deliver(consumer.mid, nack(consumer, [missing]));
    const resent = rtp(must(sub.sentRtp(consumer.mid).at(-1)));
    expect([resent.sequenceNumber, resent.ssrc, resent.payloadType]).toEqual([missing, consumer.ssrc, 96]);
    expect(resent.payload).toEqual(rtp(lostBytes).payload);
  });

  it('a NACK for numbers never sent, too old or no longer cached is a miss', async () => {
    const { sub, consumer, source } = await forwarding({ packetCache: { capacity: 8 } });
    const out = sub.sentRtp(consumer.mid).map(rtp);
    const first = must(out[0]).sequenceNumber;
    const last = must(out.at(-1)).sequenceNumber;
    // Before our first packet (the source's pre-keyframe packet), and ahead of the last one.
    sub.deliver(consumer.mid, nack(consumer, [next16(first, -1), next16(last, 1), next16(last, 100)]));
    expect(router.counters).toMatchObject({ nackedPackets: 3, retransmittedPackets: 0, retransmitMisses: 3 });

    // Pushed out of the cache (8 slots) by newer packets.
    for (let i = 0; i < 8; i++) source.send();
    sub.deliver(consumer.mid, nack(consumer, [first]));
    expect(router.counters).toMatchObject({ retransmittedPackets: 0, retransmitMisses: 4 });

    // Older than the cache's 2 s.
    const latest = rtp(must(sub.sentRtp(consumer.mid).at(-1))).sequenceNumber;
    vi.advanceTimersByTime(2001);
    sub.deliver(consumer.mid, nack(consumer, [latest]));
    expect(router.counters).toMatchObject({ retransmittedPackets: 0, retransmitMisses: 5 });
    expect(sub.sentRtp(consumer.mid)).toHaveLength(14);
  });

  it('audio is not cached: a NACK for it is a miss', async () => {
    const alice = await publish();
    const source = new AudioSource(alice.publisher);
    const { sub, consumer } = await forwardedTo(alice.audio);
    source.send();
    sub.deliver(consumer.mid, nack(consumer, [rtp(must(sub.sentRtp(consumer.mid)[0])).sequenceNumber]));
    expect(router.counters).toMatchObject({ nackedPackets: 1, retransmitMisses: 1 });
  });

  it('a NACK naming another SSRC is not answered for this consumer unless it arrived on its m-line', async () => {
    const { sub, consumer } = await forwarding();
    const seq = rtp(must(sub.sentRtp(consumer.mid)[2])).sequenceNumber;
    sub.deliver('5', buildNack(1, 0x0badf00d, [seq])); // unknown SSRC, unknown m-line
    expect(router.counters.nackedPackets).toBe(0);
    sub.deliver(consumer.mid, buildNack(1, 0x0badf00d, [seq])); // the m-line tells whose it is
    expect(router.counters.retransmittedPackets).toBe(1);
  });
});

describe('Router keyframe requests from subscribers', () => {
  it('a PLI or FIR from a subscriber becomes a PLI to the publisher, throttled', async () => {
    const alice = await publish();
    const source = new VideoSource(alice.publisher);
    source.keyframe();
    const { sub, consumer } = await forwardedTo(alice.video);
    source.keyframe();
    expect(plisTo(alice.publisher)).toHaveLength(1); // from the answer

    vi.advanceTimersByTime(300);
    sub.deliver(consumer.mid, buildPli(0x77, consumer.ssrc));
    sub.deliver(consumer.mid, buildPli(0x77, consumer.ssrc));
    expect(plisTo(alice.publisher)).toEqual([VIDEO_SSRC, VIDEO_SSRC]);
    vi.advanceTimersByTime(300);
    sub.deliver(
      consumer.mid,
      Buffer.concat([buildReceiverReport(0x77, []), buildFir(0x77, [{ ssrc: consumer.ssrc, sequenceNumber: 1 }])]),
    );
    expect(plisTo(alice.publisher)).toEqual([VIDEO_SSRC, VIDEO_SSRC, VIDEO_SSRC]);
    expect(router.counters).toMatchObject({ keyframeRequestsReceived: 3, keyframeRequestsSent: 3 });
    // Every PLI names the router's own RTCP SSRC as its sender.
    const senders = feedbackTo(alice.publisher).map((item) => (item.type === 'pli' ? item.senderSsrc : -1));
    expect(new Set(senders).size).toBe(1);
    expect(senders[0]).not.toBe(consumer.ssrc);
  });

  it('a PLI for an audio consumer, or before anything is forwarded, asks the publisher nothing', async () => {
    const alice = await publish();
    const audio = await forwardedTo(alice.audio);
    new AudioSource(alice.publisher).send();
    audio.sub.deliver(audio.consumer.mid, buildPli(1, audio.consumer.ssrc));
    const video = await forwardedTo(alice.video);
    video.sub.deliver(video.consumer.mid, buildPli(1, video.consumer.ssrc));
    expect(feedbackTo(alice.publisher)).toEqual([]);
    expect(router.counters.keyframeRequestsReceived).toBe(2);
  });
});

describe('Router sender reports', () => {
  const senderReport = (rtpTimestamp: number) =>
    buildSenderReport({
      ssrc: VIDEO_SSRC,
      ntpSeconds: 3_900_000_000,
      ntpFraction: 0x80000000,
      rtpTimestamp,
      packetCount: 1234,
      octetCount: 567_890,
    });

  function reportsOn(sub: FakeSubscriber, mid: string) {
    return rtcpItems(sub.sentRtcp(mid)).flatMap((item) => (item.type === 'sr' ? [item] : []));
  }

  it('a publisher’s SR reaches the subscriber with our SSRC, its NTP time and the rewritten RTP time', async () => {
    const alice = await publish();
    const source = new VideoSource(alice.publisher);
    source.keyframe();
    const { sub, consumer } = await forwardedTo(alice.video);
    alice.publisher.deliverRtcp('video', senderReport(source.ts)); // nothing forwarded yet
    expect(sub.sent.size).toBe(0);
    const forwarded = [source.keyframe(), source.send()];

    alice.publisher.deliverRtcp('video', senderReport(source.ts));
    const [report] = reportsOn(sub, consumer.mid);
    expect(report).toMatchObject({
      ssrc: consumer.ssrc,
      ntpSeconds: 3_900_000_000,
      ntpFraction: 0x80000000,
      rtpTimestamp: source.ts, // the first stint keeps the source's timeline
      packetCount: 2,
      octetCount: forwarded.reduce((sum, p) => sum + rtp(p).payloadLength, 0),
      reports: [],
    });
    expect(router.counters.senderReportsSent).toBe(1);

    // At most one per senderReportIntervalMs (1 s).
    alice.publisher.deliverRtcp('video', senderReport(source.ts));
    expect(reportsOn(sub, consumer.mid)).toHaveLength(1);

    // After a pause the outgoing timeline is no longer the source's: the SR follows the mapping.
    consumer.pause();
    vi.advanceTimersByTime(500);
    source.send();
    consumer.resume();
    vi.advanceTimersByTime(500);
    const resumedIn = rtp(source.keyframe());
    const resumedOut = rtp(must(sub.sentRtp(consumer.mid).at(-1)));
    const offset = (resumedOut.timestamp - resumedIn.timestamp) >>> 0;
    expect(offset).not.toBe(0);
    alice.publisher.deliverRtcp('video', senderReport(source.ts));
    const reports = reportsOn(sub, consumer.mid);
    expect(reports).toHaveLength(2);
    expect(reports[1]?.rtpTimestamp).toBe((source.ts + offset) >>> 0);
    expect(reports[1]?.packetCount).toBe(3);
  });

  it('an SR for another SSRC, or a malformed compound, forwards nothing', async () => {
    const alice = await publish();
    const source = new VideoSource(alice.publisher);
    const { sub } = await forwardedTo(alice.video);
    source.keyframe();
    alice.publisher.deliverRtcp(
      'video',
      buildSenderReport({ ssrc: 99, ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 }),
    );
    alice.publisher.deliverRtcp('video', senderReport(source.ts).subarray(0, 20));
    expect(sub.sentRtcp('0')).toEqual([]);
    expect(router.counters.dropped.malformedRtcp).toBe(1);
  });
});

describe('Router robustness (property)', () => {
  /** A forwarding set-up: one publisher (video + audio), one subscriber consuming both. */
  async function forwardingSetup() {
    const alice = await publish();
    const video = new VideoSource(alice.publisher, { seq: 100 });
    const audio = new AudioSource(alice.publisher, { seq: 200 });
    const { transport, sub } = subscribe();
    const consumers = [transport.consume(alice.video), transport.consume(alice.audio)];
    await negotiate(transport);
    video.keyframe();
    video.send();
    audio.send();
    return { alice, video, audio, transport, sub, consumers };
  }

  /** Valid packets of every kind both sides exchange, to mutate. */
  function validPackets(setup: Awaited<ReturnType<typeof forwardingSetup>>) {
    const [videoConsumer, audioConsumer] = setup.consumers.map((c) => c.ssrc) as [number, number];
    const fromPublisher = [
      setup.video.build('key'),
      setup.video.build('delta'),
      setup.video.build('continuation'),
      setup.audio.build(30, true),
      buildSenderReport({
        ssrc: VIDEO_SSRC,
        ntpSeconds: 1,
        ntpFraction: 2,
        rtpTimestamp: 3,
        packetCount: 4,
        octetCount: 5,
      }),
    ];
    const fromSubscriber = [
      buildNack(1, videoConsumer, [100, 101, 103]),
      buildPli(1, videoConsumer),
      buildFir(1, [{ ssrc: videoConsumer, sequenceNumber: 9 }]),
      buildRemb(1, 250_000, [videoConsumer, audioConsumer]),
      buildReceiverReport(1, [
        {
          ssrc: videoConsumer,
          fractionLost: 30,
          cumulativeLost: 3,
          highestSequenceNumber: 101,
          jitter: 4,
          lastSenderReport: 0,
          delaySinceLastSenderReport: 0,
        },
      ]),
    ];
    return { fromPublisher, fromSubscriber };
  }

  type Damage = { kind: 'random'; bytes: Uint8Array } | { kind: 'mutate'; pick: number; flips: number[]; cut: number };

  const damage: fc.Arbitrary<Damage> = fc.oneof(
    fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 80 }) }),
    fc.record({
      kind: fc.constant('mutate' as const),
      pick: fc.nat(),
      flips: fc.array(fc.nat({ max: 8 * 80 }), { maxLength: 4 }),
      cut: fc.nat({ max: 100 }),
    }),
  );

  function apply(d: Damage, valid: readonly Uint8Array[]): Uint8Array {
    if (d.kind === 'random') return d.bytes;
    const bytes = Uint8Array.from(must(valid[d.pick % valid.length]));
    for (const bit of d.flips) {
      const at = (bit >> 3) % bytes.length;
      bytes[at] = (bytes[at] ?? 0) ^ (1 << (bit & 7));
    }
    // Keep the whole packet most of the time; otherwise truncate it.
    return d.cut >= 50 ? bytes : bytes.subarray(0, (d.cut * bytes.length) >> 6);
  }

  const target = fc.constantFrom('video-rtp', 'video-rtcp', 'audio-rtp', 'audio-rtcp', 'sub-0', 'sub-1', 'sub-9');

  it('damaged or random packets from either side never throw; only counters move; valid traffic flows afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(target, damage), { maxLength: 30 }), async (inputs) => {
        const setup = await forwardingSetup();
        const { alice, sub, consumers, transport } = setup;
        const { fromPublisher, fromSubscriber } = validPackets(setup);
        const receivedBefore = router.counters.rtpReceived;
        let delivered = 0;
        for (const [to, d] of inputs) {
          if (to.startsWith('sub-')) {
            sub.deliver(to.slice(4), apply(d, [...fromSubscriber, ...fromPublisher]));
          } else {
            const bytes = apply(d, fromPublisher);
            const [kind, what] = to.split('-') as ['video' | 'audio', 'rtp' | 'rtcp'];
            if (what === 'rtp') {
              alice.publisher.deliverRtp(kind, bytes);
              delivered++;
            } else alice.publisher.deliverRtcp(kind, bytes);
          }
          vi.advanceTimersByTime(7);
        }
        expect(router.counters.rtpReceived - receivedBefore).toBe(delivered);
        expect(listenerErrors).toEqual([]);
        expect([transport.closed, alice.transport.closed, router.closed]).toEqual([false, false, false]);

        // Then a keyframe and a few packets, numbered on from the valid ones.
        const videoBefore = sub.sentRtp('0').length;
        const audioBefore = sub.sentRtp('1').length;
        vi.advanceTimersByTime(1000); // past the keyframe-request throttle
        setup.video.keyframe();
        setup.video.send();
        setup.audio.send();
        setup.audio.send();
        const videoAfter = sub.sentRtp('0').slice(videoBefore).map(rtp);
        const audioAfter = sub.sentRtp('1').slice(audioBefore).map(rtp);
        expect(videoAfter.length).toBeGreaterThanOrEqual(2);
        expect(audioAfter.length).toBeGreaterThanOrEqual(2);
        expect(videoAfter.slice(-2).map((h) => h.ssrc)).toEqual([must(consumers[0]).ssrc, must(consumers[0]).ssrc]);
        expectConsecutive(videoAfter.slice(-2));
        expectConsecutive(audioAfter.slice(-2));

        router.close();
        router = newRouter();
      }),
      { numRuns: 150 },
    );
  });

  it('random bytes on a fresh publisher and subscriber (no stream known yet) never throw', async () => {
    const alice = await publish();
    const { sub } = subscribe();
    let delivered = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.constantFrom('video', 'audio'), (bytes, kind) => {
        alice.publisher.deliverRtp(kind, bytes);
        delivered++;
        alice.publisher.deliverRtcp(kind, bytes);
        sub.deliver('0', bytes);
      }),
      { numRuns: 500 },
    );
    expect(listenerErrors).toEqual([]);
    // Every random "RTP" packet was counted and dropped for a reason: the SSRCs are announced, so
    // none becomes a stream, and nothing is forwarded.
    const { rtpReceived, forwardedPackets, dropped } = router.counters;
    expect(rtpReceived).toBe(delivered);
    expect(forwardedPackets).toBe(0);
    expect(dropped.malformedRtp + dropped.unknownPayloadType + dropped.unknownSsrc).toBe(delivered);
  });
});

describe('Router lifecycle (property)', () => {
  type Op =
    | { op: 'consume'; sub: number; producer: number; paused: boolean }
    | { op: 'closeConsumer' | 'pause' | 'resume' | 'pli' | 'nack'; consumer: number }
    | { op: 'offer' | 'answer' | 'negotiate' | 'failSubscriber' | 'closeSubscriber'; sub: number }
    | { op: 'closeProducer'; producer: number }
    | { op: 'closePublisher' | 'failPublisher'; pub: number }
    | { op: 'media' }
    | { op: 'wait'; ms: number };

  const index = fc.nat({ max: 7 });
  // Mostly consuming, negotiating and media; closing and failing now and then, so runs last.
  const operation: fc.Arbitrary<Op> = fc.oneof(
    {
      arbitrary: fc.record({ op: fc.constant('consume' as const), sub: index, producer: index, paused: fc.boolean() }),
      weight: 5,
    },
    { arbitrary: fc.record({ op: fc.constant('closeConsumer' as const), consumer: fc.nat({ max: 30 }) }), weight: 2 },
    {
      arbitrary: fc.record({ op: fc.constantFrom('pause', 'resume', 'pli', 'nack'), consumer: fc.nat({ max: 30 }) }),
      weight: 2,
    },
    { arbitrary: fc.record({ op: fc.constantFrom('offer', 'answer', 'negotiate'), sub: index }), weight: 5 },
    { arbitrary: fc.record({ op: fc.constant('media' as const) }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 1500 }) }), weight: 1 },
    {
      arbitrary: fc.oneof(
        fc.record({ op: fc.constantFrom('failSubscriber', 'closeSubscriber'), sub: index }),
        fc.record({ op: fc.constant('closeProducer' as const), producer: index }),
        fc.record({ op: fc.constantFrom('closePublisher', 'failPublisher'), pub: index }),
      ),
      weight: 1,
    },
  );

  /** Runs `call`; a RouterError is fine when `allowed` says its reason is justified now. */
  async function attempt(call: () => unknown, allowed: (reason: string) => boolean): Promise<void> {
    try {
      await call();
    } catch (error) {
      if (!(error instanceof RouterError) || !allowed(error.reason)) throw error;
    }
  }

  it('any sequence of consume / close / pause / negotiate / failures keeps the cascade and the m-lines consistent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 10, maxLength: 60, size: 'max' }), async (ops) => {
        router.close();
        router = newRouter();
        const closes = new Map<object, CloseReason[]>();
        const watch = (emitter: Closable) => {
          closes.set(emitter, []);
          emitter.on('close', (reason) => closes.get(emitter)?.push(reason));
        };
        const pubs = [
          await publish(WITH_SSRCS, 'alice'),
          await publish({ video: { ssrc: 0x7000 }, audio: { ssrc: 0x8000 } }, 'bob'),
        ];
        const sources = pubs.map((p, i) => ({
          video: new VideoSource(p.publisher, { ssrc: i === 0 ? VIDEO_SSRC : 0x7000 }),
          audio: new AudioSource(p.publisher, { ssrc: i === 0 ? AUDIO_SSRC : 0x8000 }),
        }));
        const producers = pubs.flatMap((p) => [p.video, p.audio]);
        for (const p of pubs) watch(p.transport);
        for (const p of producers) watch(p);
        const subs = [subscribe(), subscribe()].map((s) => ({ ...s, pending: undefined as string | undefined }));
        for (const s of subs) watch(s.transport);
        const consumers: Consumer[] = [];
        const subscriberOf = new Map<Consumer, (typeof subs)[number]>();
        const pick = <T>(list: readonly T[], i: number): T => must(list[i % list.length]);

        const negotiateStep = async (s: (typeof subs)[number], step: 'offer' | 'answer') => {
          if (step === 'offer') {
            await attempt(
              async () => {
                s.pending = await s.transport.createOffer();
              },
              (reason) =>
                (reason === 'negotiation-pending' && s.pending !== undefined) ||
                (reason === 'closed' && s.transport.closed),
            );
          } else {
            const offer = s.pending;
            await attempt(
              () => s.transport.setAnswer(offer === undefined ? 'v=0\r\n' : fakeAnswer(offer)),
              (reason) => (reason === 'no-offer' && offer === undefined) || (reason === 'closed' && s.transport.closed),
            );
            s.pending = undefined;
          }
        };

        for (const op of ops) {
          switch (op.op) {
            case 'consume': {
              const s = pick(subs, op.sub);
              const producer = pick(producers, op.producer);
              await attempt(
                () => {
                  const consumer = s.transport.consume(producer, { paused: op.paused });
                  consumers.push(consumer);
                  subscriberOf.set(consumer, s);
                  watch(consumer);
                },
                (reason) => reason === 'closed' && (s.transport.closed || producer.closed),
              );
              break;
            }
            case 'closeConsumer':
            case 'pause':
            case 'resume':
              if (consumers.length > 0) pick(consumers, op.consumer)[op.op === 'closeConsumer' ? 'close' : op.op]();
              break;
            case 'pli':
            case 'nack': {
              if (consumers.length === 0) break;
              const consumer = pick(consumers, op.consumer);
              const { sub } = must(subscriberOf.get(consumer));
              // The latest number sent on its m-line (maybe another consumer's, before a reuse) and the one before.
              const last = sub.sentRtp(consumer.mid).at(-1);
              const seq = last ? rtp(last).sequenceNumber : 0;
              sub.deliver(
                consumer.mid,
                op.op === 'pli' ? buildPli(1, consumer.ssrc) : buildNack(1, consumer.ssrc, [seq, next16(seq, -1)]),
              );
              break;
            }
            case 'offer':
            case 'answer':
              await negotiateStep(pick(subs, op.sub), op.op);
              break;
            case 'negotiate': {
              const s = pick(subs, op.sub);
              if (s.pending !== undefined) await negotiateStep(s, 'answer');
              await negotiateStep(s, 'offer');
              await negotiateStep(s, 'answer');
              break;
            }
            case 'failSubscriber':
              pick(subs, op.sub).sub.setState('failed');
              break;
            case 'closeSubscriber':
              pick(subs, op.sub).transport.close();
              break;
            case 'closeProducer':
              pick(producers, op.producer).close();
              break;
            case 'closePublisher':
              pick(pubs, op.pub).transport.close();
              break;
            case 'failPublisher':
              pick(pubs, op.pub).publisher.setState('failed');
              break;
            case 'media':
              for (const source of sources) {
                source.video.keyframe();
                source.video.send();
                source.audio.send();
              }
              vi.advanceTimersByTime(20);
              break;
            case 'wait':
              vi.advanceTimersByTime(op.ms);
              break;
          }
          await flush();
        }

        // Each object closed at most once, and consistently with its flag.
        for (const [emitter, reasons] of closes) {
          expect(reasons.length).toBeLessThanOrEqual(1);
          expect(reasons.length === 1).toBe((emitter as { closed: boolean }).closed);
        }
        // A closed producer's consumers are closed; an open transport's consumers are open, on distinct m-lines.
        for (const consumer of consumers) if (consumer.producer.closed) expect(consumer.closed).toBe(true);
        for (const s of subs) {
          if (s.transport.closed) continue;
          expect(s.transport.consumers.every((c) => !c.closed && !c.producer.closed)).toBe(true);
          const mids = s.transport.consumers.map((c) => c.mid);
          expect(new Set(mids).size).toBe(mids.length);
        }
        expect(new Set(router.producers)).toEqual(new Set(producers.filter((p) => !p.closed)));
        for (const p of pubs) expect(p.publisher.closeCalls).toBe(p.transport.closed ? 1 : 0);
        for (const s of subs) expect(s.sub.closeCalls).toBe(s.transport.closed ? 1 : 0);
        expect(listenerErrors).toEqual([]);

        // Liveness: once negotiated, every open, unpaused consumer gets its producer's media.
        for (const s of subs) {
          if (s.transport.closed) continue;
          if (s.pending !== undefined) await negotiateStep(s, 'answer');
          await negotiateStep(s, 'offer');
          await negotiateStep(s, 'answer');
        }
        vi.advanceTimersByTime(1000);
        const before = new Map(subs.map((s) => [s, new Map([...s.sub.sent].map(([mid, list]) => [mid, list.length]))]));
        for (const source of sources) {
          source.video.keyframe();
          source.audio.send();
        }
        for (const s of subs) {
          if (s.transport.closed) continue;
          for (const consumer of s.transport.consumers) {
            const sent = s.sub.sentRtp(consumer.mid).slice(before.get(s)?.get(consumer.mid) ?? 0);
            const expected = consumer.isPaused ? 0 : 1;
            expect(sent.map((p) => rtp(p).ssrc)).toEqual(Array(expected).fill(consumer.ssrc));
          }
        }
        for (const s of subs) expect(s.sub.unexpected).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
