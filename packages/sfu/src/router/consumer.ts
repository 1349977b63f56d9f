import { randomUUID } from 'node:crypto';
import { readUint32 } from '../bytes.js';
import { type MediaKind, SUBSCRIBER_PAYLOAD_TYPES, SUBSCRIBER_RED_PAYLOAD_TYPE } from '../engine/engine.js';
import { LayerSelector, type SimulcastLayer } from '../layers/layer-selector.js';
import { buildSenderReport, type RtcpItem } from '../rtcp/rtcp-packet.js';
import { type RtpHeader, rewriteRtpHeader } from '../rtp/rtp-packet.js';
import { SequenceRewriter } from '../rtp/sequence-rewriter.js';
import type { SfuCounters } from './counters.js';
import { type ListenerErrorHandler, SfuEmitter } from './emitter.js';
import {
  type CloseReason,
  type Producer,
  type ProducerStream,
  type RedPacket,
  STREAM_INACTIVE_AFTER_MS,
} from './producer.js';
import type { RouterContext } from './router-context.js';

export interface ConsumerEvents {
  close: [reason: CloseReason];
  /** The forwarded simulcast layer changed (its RID; '' without simulcast; undefined: nothing). */
  layer: [rid: string | undefined];
}

/** What a consumer needs from its subscribe transport. @internal */
export interface ConsumerLink {
  /**
   * Sends on the consumer's m-line (and counts it towards the subscriber's sending rate); false
   * when not possible now (not negotiated, not connected).
   */
  send(packet: Uint8Array, nowMs: number): boolean;
  /** The consumer is done (closed, or its producer closed): free its m-line. */
  release(consumer: Consumer): void;
  /** The producer's layers changed (one started, stopped or changed size): share the downlink again. */
  reallocate(nowMs: number): void;
  /** The subscriber's answer accepted audio RED on this consumer's m-line. */
  acceptsRed(): boolean;
}

/**
 * One producer forwarded to one subscriber: its own SSRC, our payload type, continuous sequence
 * numbers and timestamps across layer switches and pauses (SequenceRewriter), the layer that fits
 * the subscriber (LayerSelector), keyframe requests on start and on switches, NACKs answered from
 * the producer's cache, sender reports rewritten to our timeline.
 */
export class Consumer extends SfuEmitter<ConsumerEvents> {
  readonly id = randomUUID();
  readonly kind: MediaKind;
  /** Our SSRC towards the subscriber. */
  readonly ssrc: number;
  private readonly rewriter: SequenceRewriter;
  private readonly selector = new LayerSelector();
  private readonly counters: SfuCounters;
  private closedWith: CloseReason | undefined;
  /** The subscriber's answer covers our m-line (set by the transport). */
  private negotiated = false;
  private paused: boolean;
  /** The stream being forwarded (its stint is in the rewriter), undefined before the first keyframe. */
  private current: ProducerStream | undefined;
  /** Wanted stream; forwarding moves to it at its next keyframe. */
  private target: ProducerStream | undefined;
  private lastSenderReportAtMs = Number.NEGATIVE_INFINITY;
  /** This consumer's share of the subscriber's downlink (bits/s), set by its transport. */
  private allotment = Number.POSITIVE_INFINITY;
  private packetsSent = 0;
  private octetsSent = 0;

  constructor(
    readonly producer: Producer,
    /** The m-line this consumer sends on, in the subscriber's connection. */
    readonly mid: string,
    ssrc: number,
    options: { paused: boolean },
    private readonly context: RouterContext,
    private readonly link: ConsumerLink,
    onListenerError: ListenerErrorHandler,
  ) {
    super(onListenerError);
    this.kind = producer.kind;
    this.ssrc = ssrc;
    this.paused = options.paused;
    this.counters = context.counters;
    this.rewriter = new SequenceRewriter({ clockRate: this.kind === 'video' ? 90_000 : 48_000 });
    this.selector.setPaused(this.paused);
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The RID being forwarded ('' without simulcast), undefined while nothing is. */
  get currentLayer(): string | undefined {
    return this.current?.rid;
  }

  /** Stops forwarding (a hidden tile, a muted remote): the subscriber receives nothing. */
  pause(): void {
    if (this.paused || this.closedWith) return;
    this.paused = true;
    this.selector.setPaused(true);
    this.switchTo(undefined);
  }

  /** Forwards again, from the next keyframe (video). */
  resume(): void {
    if (!this.paused || this.closedWith) return;
    this.paused = false;
    this.selector.setPaused(false);
    this.chooseTarget(performance.now()); // a keyframe is asked for when video has a target again
  }

  /**
   * The size the subscriber shows this video at, in device pixels: the smallest simulcast layer
   * covering it is forwarded (when the bandwidth allows). 0×0 (a hidden tile) forwards nothing.
   */
  setPreferredSize(width: number, height: number): void {
    this.selector.setPreferredSize(width, height);
    this.chooseTarget(performance.now()); // smaller at once; larger after the selector's wait
  }

  close(): void {
    this.closeWith('closed');
  }

  /** @internal the producer closed. */
  producerClosed(): void {
    this.closeWith('producer-closed');
  }

  /** @internal the subscribe transport (or router) closed. */
  parentClosed(reason: CloseReason): void {
    this.closeWith(reason);
  }

  /** @internal the producer's layers changed. */
  layersChanged(nowMs: number): void {
    if (!this.negotiated || this.closedWith) return;
    this.selector.forget(); // layers arriving at the start must not wait out the upgrade hysteresis
    this.link.reallocate(nowMs);
  }

  /** @internal the subscriber's answer covers this consumer's m-line: packets may flow. */
  setNegotiated(nowMs: number): void {
    if (this.negotiated) return;
    this.negotiated = true;
    const before = this.target;
    this.chooseTarget(nowMs); // asks for a keyframe itself when it picks a new target
    if (this.target && this.target === before) this.producer.requestKeyframe(this.target, nowMs);
  }

  /** @internal one packet of the producer; `packet` is shared with the other consumers. */
  forward(
    packet: Buffer,
    header: RtpHeader,
    stream: ProducerStream,
    keyframe: boolean,
    nowMs: number,
    red?: RedPacket,
  ): void {
    // No target chosen here: a new stream re-chooses through layersChanged(), and a hidden tile
    // (no target on purpose) must not run the selector for every packet.
    if (!this.negotiated || this.paused) return;
    if (stream === this.target && stream !== this.current) {
      if (this.kind === 'video' && !keyframe) {
        this.producer.requestKeyframe(stream, nowMs); // throttled per stream by the producer
        if (this.current === undefined) return;
      } else {
        this.switchTo(stream);
      }
    }
    if (stream !== this.current) return;
    const out = this.rewriter.rewrite(header.ssrc, header.sequenceNumber, header.timestamp, nowMs);
    if (!out) return;
    // RED as is where it was negotiated; elsewhere its primary block, plain Opus, never undecodable.
    const keepRed = red !== undefined && this.link.acceptsRed();
    const sent = red && !keepRed ? red.primaryOnly() : packet;
    rewriteRtpHeader(sent, {
      ssrc: this.ssrc,
      payloadType: keepRed ? SUBSCRIBER_RED_PAYLOAD_TYPE : SUBSCRIBER_PAYLOAD_TYPES[this.kind],
      sequenceNumber: out.sequenceNumber,
      timestamp: out.timestamp,
    });
    if (!this.link.send(sent, nowMs)) return;
    this.packetsSent++;
    this.octetsSent += sent === packet ? header.payloadLength : sent.length - header.payloadOffset;
    this.counters.forwardedPackets++;
    this.counters.forwardedBytes += sent.length;
    if (red) {
      if (keepRed) this.counters.redForwarded++;
      else this.counters.redPrimaryOnly++;
    }
  }

  /** @internal the publisher's SR for `stream`: tell the subscriber how our timeline maps to NTP. */
  forwardSenderReport(stream: ProducerStream): void {
    const report = stream.lastSenderReport;
    if (!report || stream !== this.current || !this.negotiated) return;
    const nowMs = performance.now();
    if (nowMs - this.lastSenderReportAtMs < this.context.options.senderReportIntervalMs) return;
    const rtpTimestamp = this.rewriter.mapTimestamp(stream.ssrc, report.rtpTimestamp);
    if (rtpTimestamp === undefined) return;
    const sr = buildSenderReport({
      ssrc: this.ssrc,
      ntpSeconds: report.ntpSeconds,
      ntpFraction: report.ntpFraction,
      rtpTimestamp,
      packetCount: this.packetsSent >>> 0,
      octetCount: this.octetsSent >>> 0,
    });
    if (this.link.send(sr, nowMs)) {
      this.lastSenderReportAtMs = nowMs;
      this.counters.senderReportsSent++;
    }
  }

  /** @internal RTCP items the subscriber sent about our SSRC. */
  receiveFeedback(item: RtcpItem, nowMs: number): void {
    if (this.closedWith) return;
    switch (item.type) {
      case 'pli':
      case 'fir':
        this.counters.keyframeRequestsReceived++;
        if (this.current) this.producer.requestKeyframe(this.current, nowMs);
        break;
      case 'nack':
        this.retransmit(item.lost, nowMs);
        break;
      default:
        break; // reports and REMB are the transport's: they are about the whole downlink
    }
  }

  /**
   * @internal what this consumer would use of the downlink (bits/s): the least (its smallest
   * layer) and the most its box wants. Audio asks for its stream's rate either way.
   */
  demand(nowMs: number): { lowest: number; wanted: number } {
    if (this.kind === 'audio') {
      const rate = this.paused ? 0 : (this.producer.streams[0]?.bitrate ?? 0);
      return { lowest: rate, wanted: rate };
    }
    return this.selector.demand(this.layers(nowMs));
  }

  /**
   * @internal re-evaluates which stream to forward: on the transport's allocation (`allotment`,
   * this consumer's share of the downlink) and when the producer's first stream arrives.
   */
  chooseTarget(nowMs: number, allotment = this.allotment): void {
    if (this.closedWith) return;
    this.allotment = allotment;
    const streams = this.producer.streams;
    let target: ProducerStream | undefined;
    if (this.kind === 'audio') target = this.paused ? undefined : streams[0];
    else {
      const rid = this.selector.select(this.layers(nowMs), allotment, nowMs);
      target = rid === undefined ? undefined : streams.find((s) => s.rid === rid);
    }
    if (target === this.target) return;
    this.target = target;
    if (target === undefined) this.switchTo(undefined); // nothing wanted: stop now, not at a keyframe
    if (target && target !== this.current && this.negotiated) this.producer.requestKeyframe(target, nowMs);
  }

  private layers(nowMs: number): SimulcastLayer[] {
    return this.producer.streams.map((s) => ({
      id: s.rid,
      width: s.width,
      height: s.height,
      bitrate: s.bitrate,
      active: nowMs - s.lastPacketAtMs < STREAM_INACTIVE_AFTER_MS,
    }));
  }

  private switchTo(stream: ProducerStream | undefined): void {
    if (stream === this.current) return;
    const previous = this.current;
    this.current = stream;
    this.rewriter.switchSource(stream?.ssrc);
    if (previous !== undefined) this.counters.layerSwitches++;
    this.safeEmit('layer', stream?.rid);
  }

  private retransmit(lost: readonly number[], nowMs: number): void {
    for (const sequenceNumber of lost) {
      this.counters.nackedPackets++;
      const source = this.rewriter.unmap(sequenceNumber);
      const stream = source && this.producer.streams.find((s) => s.ssrc === source.ssrc);
      const cached = stream?.cache?.get(source?.sequenceNumber ?? 0, nowMs);
      if (!source || !cached) {
        this.counters.retransmitMisses++;
        continue;
      }
      // A copy: the cache's bytes are shared by every consumer of the stream.
      const packet = Buffer.from(cached);
      const out = this.rewriter.rewrite(source.ssrc, source.sequenceNumber, readUint32(packet, 4), nowMs);
      if (!out || out.sequenceNumber !== sequenceNumber) {
        this.counters.retransmitMisses++;
        continue;
      }
      rewriteRtpHeader(packet, {
        ssrc: this.ssrc,
        payloadType: SUBSCRIBER_PAYLOAD_TYPES[this.kind],
        sequenceNumber: out.sequenceNumber,
        timestamp: out.timestamp,
      });
      if (this.link.send(packet, nowMs)) this.counters.retransmittedPackets++;
    }
  }

  private closeWith(reason: CloseReason): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.producer.consumers.delete(this);
    this.link.release(this);
    this.safeEmit('close', reason);
    this.removeAllListeners();
  }
}
