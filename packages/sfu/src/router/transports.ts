import { randomInt, randomUUID } from 'node:crypto';
import {
  type ConnectionState,
  EngineError,
  type EnginePublisher,
  type EngineSubscriber,
  type LocalCandidate,
  type MediaKind,
} from '../engine/engine.js';
import { SfuError } from '../errors.js';
import { BandwidthEstimator } from '../layers/bandwidth-estimator.js';
import { shareDownlink } from '../layers/downlink-share.js';
import { type RtcpItem, readRtcpCompound } from '../rtcp/rtcp-packet.js';
import { isRtcp } from '../rtp/demux.js';
import { Consumer } from './consumer.js';
import { type ListenerErrorHandler, SfuEmitter, type SfuEventMap } from './emitter.js';
import { type CloseReason, Producer } from './producer.js';
import type { RouterContext } from './router-context.js';

/**
 * Why a router call was refused. Never reused or renamed:
 * - `closed`: the router, transport or producer is closed.
 * - `negotiation-pending`: createOffer() while our last offer still waits for its answer.
 * - `no-offer`: setAnswer() without an offer waiting for one.
 * - `bad-description`: the engine could not apply an offer or answer.
 */
export type RouterErrorReason = 'closed' | 'negotiation-pending' | 'no-offer' | 'bad-description';

export class RouterError extends SfuError {
  readonly code = 'SFU_ROUTER_ERROR';

  constructor(
    readonly reason: RouterErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface TransportEvents {
  close: [reason: CloseReason];
  state: [state: ConnectionState];
}

/** @internal how a transport tells its router it is gone. */
export type TransportClosed = (transport: object) => void;

/** What both transports do the same: state, candidates, one close with its cascade (STYLE #3). */
abstract class Transport<Events extends TransportEvents & SfuEventMap<Events>> extends SfuEmitter<Events> {
  readonly id = randomUUID();
  protected closedWith: CloseReason | undefined;

  constructor(
    private readonly connection: EnginePublisher | EngineSubscriber,
    readonly appData: Readonly<Record<string, unknown>>,
    private readonly onClosed: TransportClosed,
    onListenerError: ListenerErrorHandler,
  ) {
    super(onListenerError);
    connection.onStateChange((state) => {
      this.emitState(state);
      if (state === 'failed' || state === 'closed') this.closeWith('connection-failed');
    });
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  addRemoteCandidate(candidate: string, mid: string): void {
    this.connection.addRemoteCandidate(candidate, mid);
  }

  close(): void {
    this.closeWith('closed');
  }

  /** @internal */
  parentClosed(): void {
    this.closeWith('router-closed');
  }

  /** Closes the children silently, with `router-closed` or `transport-closed`. */
  protected abstract closeChildren(reason: CloseReason): void;

  protected abstract emitState(state: ConnectionState): void;

  protected closeWith(reason: CloseReason): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.closeChildren(reason === 'router-closed' ? 'router-closed' : 'transport-closed');
    this.connection.close();
    this.onClosed(this);
    this.emitClose(reason);
    this.removeAllListeners();
  }

  protected abstract emitClose(reason: CloseReason): void;
}

/**
 * A publisher's upload connection: their offer, our answer, one Producer per accepted track. No
 * renegotiation: publishing another track (a screen share) is another PublishTransport.
 */
export class PublishTransport extends Transport<TransportEvents> {
  readonly producers: readonly Producer[];

  constructor(
    private readonly engine: EnginePublisher,
    appData: Readonly<Record<string, unknown>>,
    context: RouterContext,
    onClosed: TransportClosed,
    onListenerError: ListenerErrorHandler,
  ) {
    super(engine, appData, onClosed, onListenerError);
    const producers = new Map(
      engine.tracks.map((track) => [
        track,
        new Producer(track, appData, context, (packet) => engine.sendRtcp(track, packet), onListenerError),
      ]),
    );
    this.producers = [...producers.values()];
    const now = () => performance.now();
    engine.onRtp((track, packet) => producers.get(track)?.receiveRtp(packet, now()));
    engine.onRtcp((track, packet) => producers.get(track)?.receiveRtcp(packet, now()));
  }

  get answerSdp(): string {
    return this.engine.answerSdp;
  }

  /** @internal the router's tick. */
  tick(nowMs: number): void {
    for (const producer of this.producers) producer.tick(nowMs);
  }

  protected closeChildren(reason: CloseReason): void {
    for (const producer of this.producers) producer.parentClosed(reason);
  }

  protected emitState(state: ConnectionState): void {
    this.safeEmit('state', state);
  }

  protected emitClose(reason: CloseReason): void {
    this.safeEmit('close', reason);
  }
}

export interface SubscribeTransportEvents extends TransportEvents {
  /**
   * Consumers came or went: call createOffer(), send it, and apply the answer with setAnswer().
   * Emitted once per batch of changes, and again after setAnswer() when more changes are waiting.
   */
  negotiationneeded: [];
}

/** One m-line of the subscriber's connection. */
interface Slot {
  readonly mid: string;
  readonly kind: MediaKind;
  consumer: Consumer | undefined;
  /** What the subscriber has agreed to: the consumer whose SSRC its last answer covers, or none. */
  negotiated: Consumer | undefined;
}

/** How often a subscriber's downlink is shared out again among its consumers, at least. */
const ALLOCATION_INTERVAL_MS = 500;

/**
 * A subscriber's download connection: our offers (one m-line per consumed track, reused once its
 * inactive state has been agreed), their answers, one Consumer per forwarded producer. Its
 * downlink is estimated once (REMB and loss are about the whole connection) and shared out among
 * its consumers, each of which then picks the layer that fits its share.
 */
export class SubscribeTransport extends Transport<SubscribeTransportEvents> {
  private readonly bandwidth = new BandwidthEstimator();
  private lastAllocationAtMs = Number.NEGATIVE_INFINITY;
  private readonly slots: Slot[] = [];
  private readonly consumersBySsrc = new Map<number, Consumer>();
  /** Slot contents in our outstanding offer, in slot order; undefined when no offer is outstanding. */
  private offered: (Consumer | undefined)[] | undefined;
  private dirty = false;
  private answered = false;

  constructor(
    private readonly engine: EngineSubscriber,
    appData: Readonly<Record<string, unknown>>,
    private readonly context: RouterContext,
    onClosed: TransportClosed,
    private readonly listenerError: ListenerErrorHandler,
  ) {
    super(engine, appData, onClosed, listenerError);
    engine.onPacket((mid, packet) => this.receive(mid, packet));
  }

  /** Changes wait for an offer, or an offer waits for its answer. */
  get negotiationPending(): boolean {
    return this.dirty || this.offered !== undefined;
  }

  get consumers(): Consumer[] {
    return this.slots.flatMap((slot) => (slot.consumer ? [slot.consumer] : []));
  }

  /**
   * Starts forwarding `producer` to this subscriber (once the subscriber has answered an offer that
   * carries it). `paused`: negotiate the m-line but send nothing until resume().
   */
  consume(producer: Producer, options: { paused?: boolean } = {}): Consumer {
    if (this.closedWith) throw new RouterError('closed', 'the subscribe transport is closed');
    if (producer.closed) throw new RouterError('closed', 'the producer is closed');
    const slot = this.freeSlot(producer.kind);
    const consumer = new Consumer(
      producer,
      slot.mid,
      this.newSsrc(),
      { paused: options.paused ?? false },
      this.context,
      {
        send: (packet, nowMs) => {
          if (!this.engine.send(slot.mid, packet)) return false;
          this.bandwidth.onSent(packet.length, nowMs);
          return true;
        },
        release: (c) => this.release(c),
        reallocate: (nowMs) => this.allocate(nowMs),
        acceptsRed: () => this.engine.acceptsRed(slot.mid),
      },
      this.listenerError,
    );
    slot.consumer = consumer;
    this.consumersBySsrc.set(consumer.ssrc, consumer);
    producer.consumers.add(consumer);
    this.changed();
    return consumer;
  }

  /** Our offer with every slot as it is now. One at a time: wait for its answer before the next. */
  async createOffer(): Promise<string> {
    if (this.closedWith) throw new RouterError('closed', 'the subscribe transport is closed');
    if (this.offered) throw new RouterError('negotiation-pending', 'an offer is waiting for its answer');
    // libdatachannel sets up SRTP only when the first negotiation has media: offer one slot at least.
    if (this.slots.length === 0) this.slots.push(this.newSlot('video'));
    this.offered = this.slots.map((slot) => slot.consumer);
    for (const slot of this.slots) {
      const { consumer } = slot;
      this.engine.setSlot(
        slot.mid,
        slot.kind,
        consumer && {
          ssrc: consumer.ssrc,
          streamId: String(consumer.producer.appData.streamId ?? consumer.producer.id),
          trackId: consumer.id,
        },
      );
    }
    this.dirty = false;
    try {
      return await this.engine.createOffer();
    } catch (error) {
      this.offered = undefined;
      throw new RouterError('closed', `no offer: ${String(error)}`);
    }
  }

  /**
   * The subscriber's answer to our last offer; consumers it covers start forwarding. Returns the
   * candidates to trickle to the subscriber now: ours after its first answer (our offers carry
   * none, see engine/ndc-engine.ts), none after later ones.
   */
  setAnswer(sdp: string): readonly LocalCandidate[] {
    if (this.closedWith) throw new RouterError('closed', 'the subscribe transport is closed');
    const offered = this.offered;
    if (!offered) throw new RouterError('no-offer', 'no offer is waiting for an answer');
    try {
      this.engine.setAnswer(sdp);
    } catch (error) {
      const message = String(error instanceof Error ? error.message : error);
      if (error instanceof EngineError && error.reason === 'closed') throw new RouterError('closed', message);
      throw new RouterError('bad-description', message);
    }
    this.offered = undefined;
    const candidates = this.answered ? [] : this.engine.localCandidates();
    this.answered = true;
    const nowMs = performance.now();
    offered.forEach((consumer, index) => {
      const slot = this.slots[index];
      if (!slot) return;
      slot.negotiated = consumer;
      if (consumer && slot.consumer === consumer) consumer.setNegotiated(nowMs);
    });
    this.allocate(nowMs);
    if (this.dirty) this.safeEmit('negotiationneeded');
    return candidates;
  }

  /** The subscriber's estimated downlink, bits/s. */
  estimatedBitrate(nowMs = performance.now()): number {
    return this.bandwidth.estimate(nowMs);
  }

  /** @internal the router's tick: share the downlink out again now and then (layers come and go). */
  tick(nowMs: number): void {
    if (nowMs - this.lastAllocationAtMs >= ALLOCATION_INTERVAL_MS) this.allocate(nowMs);
  }

  /** A free m-line of `kind` whose inactive state the subscriber has agreed to, or a new one. */
  private freeSlot(kind: MediaKind): Slot {
    const reusable = this.slots.find(
      (slot) =>
        slot.kind === kind && slot.consumer === undefined && slot.negotiated === undefined && !this.isOffered(slot),
    );
    if (reusable) return reusable;
    const slot = this.newSlot(kind);
    this.slots.push(slot);
    return slot;
  }

  /** In the outstanding offer with a consumer (its m-line is not free until answered). */
  private isOffered(slot: Slot): boolean {
    const index = this.slots.indexOf(slot);
    return this.offered?.[index] !== undefined;
  }

  private newSlot(kind: MediaKind): Slot {
    return { mid: String(this.slots.length), kind, consumer: undefined, negotiated: undefined };
  }

  private newSsrc(): number {
    let ssrc: number;
    do ssrc = randomInt(1, 0xffffffff);
    while (this.consumersBySsrc.has(ssrc) || ssrc === this.context.rtcpSsrc);
    return ssrc;
  }

  private release(consumer: Consumer): void {
    this.consumersBySsrc.delete(consumer.ssrc);
    const slot = this.slots.find((s) => s.consumer === consumer);
    if (!slot) return;
    slot.consumer = undefined;
    if (!this.closedWith) this.changed();
  }

  private changed(): void {
    // One event per batch: consumers added together (a publisher's audio and video) share an offer.
    if (this.dirty) return;
    this.dirty = true;
    if (!this.offered)
      queueMicrotask(() => this.dirty && !this.offered && !this.closedWith && this.safeEmit('negotiationneeded'));
  }

  private receive(mid: string, packet: Buffer): void {
    if (!isRtcp(packet)) {
      this.context.counters.dropped.wrongDirection++;
      return;
    }
    const walk = readRtcpCompound(packet);
    if (!walk.ok) this.context.counters.dropped.malformedRtcp++;
    const nowMs = performance.now();
    let downlinkChanged = false;
    for (const item of walk.items) {
      // Feedback names our SSRC as its media source; reports name it in their report blocks.
      if (item.type === 'rr' || item.type === 'sr' || item.type === 'remb') {
        downlinkChanged = this.noteDownlink(item, nowMs) || downlinkChanged;
      } else if (item.type === 'fir') {
        for (const entry of item.entries) this.consumersBySsrc.get(entry.ssrc)?.receiveFeedback(item, nowMs);
      } else {
        const consumer = this.consumersBySsrc.get(item.mediaSsrc);
        if (consumer) consumer.receiveFeedback(item, nowMs);
        else if (mid) this.slots.find((s) => s.mid === mid)?.consumer?.receiveFeedback(item, nowMs);
      }
    }
    if (downlinkChanged) this.allocate(nowMs);
  }

  /** A report or REMB about our streams: into the downlink estimate. True when it was ours. */
  private noteDownlink(item: RtcpItem, nowMs: number): boolean {
    if (item.type === 'remb') {
      if (!item.ssrcs.some((ssrc) => this.consumersBySsrc.has(ssrc))) return false;
      this.bandwidth.onRemb(item.bitrate, nowMs);
      return true;
    }
    if (item.type !== 'rr' && item.type !== 'sr') return false;
    // The worst of our streams speaks for the connection: loss on one path is loss on all.
    let worst = -1;
    for (const report of item.reports) {
      if (this.consumersBySsrc.has(report.ssrc)) worst = Math.max(worst, report.fractionLost);
    }
    if (worst < 0) return false;
    this.bandwidth.onReceiverReport(worst, nowMs);
    return true;
  }

  /**
   * Shares the downlink out (layers/downlink-share.ts): audio first, what its streams send; the
   * rest among the video consumers by what their tiles want. Each then picks its layer within its
   * share, with its own hysteresis.
   */
  private allocate(nowMs: number): void {
    this.lastAllocationAtMs = nowMs;
    let budget = this.bandwidth.estimate(nowMs);
    const videos: Consumer[] = [];
    for (const consumer of this.consumers) {
      if (consumer.kind === 'video') videos.push(consumer);
      else {
        budget -= consumer.demand(nowMs).wanted;
        consumer.chooseTarget(nowMs);
      }
    }
    const shares = shareDownlink(
      budget,
      videos.map((consumer) => consumer.demand(nowMs)),
    );
    videos.forEach((consumer, i) => {
      consumer.chooseTarget(nowMs, shares[i] ?? 0);
    });
  }

  protected closeChildren(reason: CloseReason): void {
    for (const consumer of this.consumers) consumer.parentClosed(reason);
  }

  protected emitState(state: ConnectionState): void {
    this.safeEmit('state', state);
  }

  protected emitClose(reason: CloseReason): void {
    this.safeEmit('close', reason);
  }
}
