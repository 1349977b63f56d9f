import { randomInt, randomUUID } from 'node:crypto';
import type { MediaEngine } from '../engine/engine.js';
import { ActiveSpeakerDetector, type ActiveSpeakerOptions } from '../speaker/active-speaker.js';
import { newCounters, type SfuCounters } from './counters.js';
import { type ListenerErrorHandler, SfuEmitter } from './emitter.js';
import type { CloseReason, Producer } from './producer.js';
import { DEFAULT_ROUTER_TUNING, type RouterContext, type RouterTuning } from './router-context.js';
import { PublishTransport, RouterError, SubscribeTransport } from './transports.js';

export interface RouterOptions {
  /** The media engine (node-datachannel in production, a fake in unit tests). */
  engine: MediaEngine;
  /** Tuning knobs; defaults in DEFAULT_ROUTER_TUNING. */
  tuning?: Partial<RouterTuning>;
  /** Dominant-speaker detection; defaults in the detector. */
  speaker?: Partial<ActiveSpeakerOptions>;
  /** Where a throwing event listener is reported (default: console.error). */
  onListenerError?: ListenerErrorHandler;
}

export interface RouterEvents {
  close: [reason: CloseReason];
  /** The dominant speaker changed: the audio producer now dominant (undefined: none left). */
  'dominant-speaker': [producer: Producer | undefined];
}

/**
 * One room's media: publish transports (their producers) and subscribe transports (their
 * consumers). Close cascade (docs/lifecycles.md): Router → transports → producers / consumers;
 * a closed producer closes its consumers. Each object emits `close` with the reason once.
 */
export class Router extends SfuEmitter<RouterEvents> {
  readonly id = randomUUID();
  readonly counters: SfuCounters = newCounters();
  private readonly engine: MediaEngine;
  private readonly publishTransports = new Set<PublishTransport>();
  private readonly subscribeTransports = new Set<SubscribeTransport>();
  private readonly producersById = new Map<string, Producer>();
  private readonly speakers: ActiveSpeakerDetector;
  private readonly context: RouterContext;
  private readonly listenerError: ListenerErrorHandler;
  private readonly ticker: NodeJS.Timeout;
  private closedWith: CloseReason | undefined;

  constructor(options: RouterOptions) {
    const listenerError: ListenerErrorHandler =
      options.onListenerError ?? ((event, error) => console.error(`[convene/sfu] a "${event}" listener threw`, error));
    super(listenerError);
    this.listenerError = listenerError;
    this.engine = options.engine;
    this.speakers = new ActiveSpeakerDetector(options.speaker);
    const tuning: RouterTuning = { ...DEFAULT_ROUTER_TUNING, ...options.tuning };
    if (!(tuning.tickIntervalMs > 0) || !(tuning.keyframeRequestIntervalMs >= 0)) {
      throw new RangeError('tickIntervalMs must be > 0 and keyframeRequestIntervalMs >= 0');
    }
    this.context = {
      counters: this.counters,
      options: tuning,
      rtcpSsrc: randomInt(1, 0xffffffff),
      audioLevel: (producer, level, voiceActivity, nowMs) =>
        this.speakers.onAudioLevel(producer.id, level, voiceActivity, nowMs),
      producerClosed: (producer) => this.forgetProducer(producer),
    };
    this.ticker = setInterval(() => this.tick(performance.now()), tuning.tickIntervalMs);
    this.ticker.unref();
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Every open producer of every publisher. */
  get producers(): Producer[] {
    return [...this.producersById.values()];
  }

  getProducer(id: string): Producer | undefined {
    return this.producersById.get(id);
  }

  /** The audio producer speaking most, or undefined. */
  get dominantSpeaker(): Producer | undefined {
    const id = this.speakers.dominant;
    return id === undefined ? undefined : this.producersById.get(id);
  }

  /**
   * Accepts a publisher's offer: one producer per VP8 / Opus track (others are rejected in our
   * answer). `appData` is yours (e.g. the participant id; `streamId` groups a publisher's tracks
   * into one MediaStream at subscribers).
   */
  async publish(offerSdp: string, appData: Record<string, unknown> = {}): Promise<PublishTransport> {
    this.assertOpen();
    let engine: Awaited<ReturnType<MediaEngine['acceptPublisher']>>;
    try {
      engine = await this.engine.acceptPublisher(offerSdp);
    } catch (error) {
      throw new RouterError('bad-description', error instanceof Error ? error.message : String(error));
    }
    if (this.closedWith) {
      engine.close();
      throw new RouterError('closed', 'the router closed while the offer was being accepted');
    }
    const transport = new PublishTransport(
      engine,
      Object.freeze({ ...appData }),
      this.context,
      (t) => this.publishTransports.delete(t as PublishTransport),
      this.listenerError,
    );
    this.publishTransports.add(transport);
    for (const producer of transport.producers) {
      this.producersById.set(producer.id, producer);
      if (producer.kind === 'audio') this.speakers.addSource(producer.id);
    }
    return transport;
  }

  /** A subscriber's connection, empty: consume() producers on it, then negotiate. */
  subscribe(appData: Record<string, unknown> = {}): SubscribeTransport {
    this.assertOpen();
    const transport = new SubscribeTransport(
      this.engine.createSubscriber(),
      Object.freeze({ ...appData }),
      this.context,
      (t) => this.subscribeTransports.delete(t as SubscribeTransport),
      this.listenerError,
    );
    this.subscribeTransports.add(transport);
    return transport;
  }

  close(): void {
    if (this.closedWith) return;
    this.closedWith = 'closed';
    clearInterval(this.ticker);
    for (const transport of [...this.subscribeTransports]) transport.parentClosed();
    for (const transport of [...this.publishTransports]) transport.parentClosed();
    this.safeEmit('close', 'closed');
    this.removeAllListeners();
  }

  private assertOpen(): void {
    if (this.closedWith) throw new RouterError('closed', 'the router is closed');
  }

  private forgetProducer(producer: Producer): void {
    this.producersById.delete(producer.id);
    if (producer.kind !== 'audio') return;
    const change = this.speakers.removeSource(producer.id, performance.now());
    if (change && !this.closedWith) this.safeEmit('dominant-speaker', this.dominantSpeaker);
  }

  private tick(nowMs: number): void {
    for (const transport of this.publishTransports) transport.tick(nowMs);
    // Subscribers share their downlink out again now and then: a layer may have stopped or started.
    for (const transport of this.subscribeTransports) transport.tick(nowMs);
    const change = this.speakers.update(nowMs);
    if (change) this.safeEmit('dominant-speaker', this.dominantSpeaker);
  }
}
