import { randomUUID } from 'node:crypto';
import { type RedBlocks, readRedBlocks, rewriteRedPayloadTypes } from '../codecs/red.js';
import { readVp8Descriptor } from '../codecs/vp8.js';
import { type MediaKind, type PublishedTrack, SUBSCRIBER_PAYLOAD_TYPES } from '../engine/engine.js';
import { NackGenerator } from '../forwarding/nack-generator.js';
import {
  DEFAULT_PACKET_CACHE_OPTIONS,
  RtpPacketCache,
  type RtpPacketCacheOptions,
} from '../forwarding/packet-cache.js';
import { ReceiveStatistics } from '../rtcp/receive-statistics.js';
import { buildNack, buildPli, buildReceiverReport, buildRemb, readRtcpCompound } from '../rtcp/rtcp-packet.js';
import { readAudioLevel, readRtpStreamId } from '../rtp/header-extensions.js';
import { type RtpHeader, readRtpHeader } from '../rtp/rtp-packet.js';
import type { Consumer } from './consumer.js';
import type { SfuCounters } from './counters.js';
import { type ListenerErrorHandler, SfuEmitter } from './emitter.js';
import type { RouterContext } from './router-context.js';

/** Why a router object closed: its own close(), or a parent's (silently, STYLE #3). */
export type CloseReason = 'closed' | 'router-closed' | 'transport-closed' | 'producer-closed' | 'connection-failed';

export interface ProducerEvents {
  close: [reason: CloseReason];
  /** A simulcast layer (or the only stream) started or stopped arriving. */
  layers: [];
}

/** One stream of a producer: the only one, or one simulcast layer (RID). */
export interface ProducerStream {
  readonly ssrc: number;
  /** The RID, or '' without simulcast. */
  readonly rid: string;
  /** Position in the offer's simulcast list (0 without simulcast). */
  readonly index: number;
  /** Frame size of the last keyframe (0 until one arrived). */
  width: number;
  height: number;
  /** Measured bitrate over the last second, bits/s. */
  bitrate: number;
  lastPacketAtMs: number;
  /** For sender-report translation: the publisher's last SR for this stream. */
  lastSenderReport: { ntpSeconds: number; ntpFraction: number; rtpTimestamp: number } | undefined;
  readonly cache: RtpPacketCache | undefined;
  readonly nacks: NackGenerator | undefined;
  /** For our receiver reports to the publisher. */
  readonly statistics: ReceiveStatistics;
  lastKeyframeRequestAtMs: number;
  meterBytes: number;
  meterStartMs: number;
}

/**
 * A RED packet being forwarded: as is to subscribers that negotiated RED, its primary block alone
 * (plain Opus) to the others, cut out once and shared by them.
 */
export class RedPacket {
  private primary: Buffer | undefined;

  constructor(
    private readonly packet: Buffer,
    private readonly header: RtpHeader,
    private readonly blocks: RedBlocks,
  ) {}

  /** The packet with the RED payload replaced by its primary block (padding dropped). */
  primaryOnly(): Buffer {
    if (!this.primary) {
      const { payloadOffset } = this.header;
      const start = payloadOffset + this.blocks.primaryOffset;
      this.primary = Buffer.concat([
        this.packet.subarray(0, payloadOffset),
        this.packet.subarray(start, start + this.blocks.primaryLength),
      ]);
      this.primary[0] = (this.primary[0] ?? 0) & ~0x20; // no P bit: the padding stayed behind
    }
    return this.primary;
  }
}

/** A stream stops counting as active when nothing arrived for this long (a layer the encoder dropped). */
export const STREAM_INACTIVE_AFTER_MS = 1500;

/** Sequence numbers per NACK packet we send (libwebrtc reads at most 253 FCI entries in one). */
const NACK_BATCH = 250;

/**
 * A published track (one m-line of a publisher's offer): receives its RTP, keeps what NACKs and
 * keyframe requests need, and hands each packet to its consumers. Created by a PublishTransport.
 */
export class Producer extends SfuEmitter<ProducerEvents> {
  readonly id = randomUUID();
  readonly kind: MediaKind;
  readonly streams: ProducerStream[] = [];
  /** @internal consumers of this producer; the router's subscribe transports add and remove them. */
  readonly consumers = new Set<Consumer>();
  private closedWith: CloseReason | undefined;
  private readonly counters: SfuCounters;
  private lastReceiverReportAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly track: PublishedTrack,
    /** The publisher's identity for the app (e.g. the participant id), as given to Router.publish. */
    readonly appData: Readonly<Record<string, unknown>>,
    private readonly context: RouterContext,
    private readonly sendRtcp: (packet: Uint8Array) => boolean,
    onListenerError: ListenerErrorHandler,
  ) {
    super(onListenerError);
    this.kind = track.kind;
    this.counters = context.counters;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  close(): void {
    this.closeWith('closed');
  }

  /** @internal the publish transport closed (or the router): close silently. */
  parentClosed(reason: CloseReason): void {
    this.closeWith(reason);
  }

  /** @internal a received RTP packet of this track (payload type already checked by nobody). */
  receiveRtp(packet: Buffer, nowMs: number): void {
    this.counters.rtpReceived++;
    this.counters.rtpReceivedBytes += packet.length;
    if (this.closedWith) return;
    const header = readRtpHeader(packet);
    if (!header.ok) {
      this.counters.dropped.malformedRtp++;
      return;
    }
    const red = header.payloadType === this.track.redPayloadType;
    if (header.payloadType !== this.track.payloadType && !red) {
      this.counters.dropped.unknownPayloadType++;
      return;
    }
    let redPacket: RedPacket | undefined;
    if (red) {
      const payload = header.payload; // a getter that makes a view: once
      const blocks = readRedBlocks(payload);
      if (!blocks.ok) {
        this.counters.dropped.malformedRtp++;
        return;
      }
      // Subscribers that take RED know Opus by our payload type: say so inside the blocks, once.
      if (this.track.payloadType !== SUBSCRIBER_PAYLOAD_TYPES.audio) {
        rewriteRedPayloadTypes(payload, blocks, SUBSCRIBER_PAYLOAD_TYPES.audio);
      }
      redPacket = new RedPacket(packet, header, blocks);
    }
    const stream = this.streamOf(header, nowMs);
    if (!stream) {
      this.counters.dropped.unknownSsrc++;
      return;
    }
    const resumed = nowMs - stream.lastPacketAtMs >= STREAM_INACTIVE_AFTER_MS;
    stream.lastPacketAtMs = nowMs;
    if (resumed) this.layersChanged(nowMs); // a stopped layer is back: consumers may want it now
    stream.statistics.onPacket(header.sequenceNumber, header.timestamp, nowMs);
    stream.meterBytes += packet.length;
    if (nowMs - stream.meterStartMs >= 1000) {
      stream.bitrate = (stream.meterBytes * 8 * 1000) / (nowMs - stream.meterStartMs);
      stream.meterBytes = 0;
      stream.meterStartMs = nowMs;
    }
    let keyframe = false;
    if (this.kind === 'video') {
      const payload = header.payload; // a getter that makes a view: once
      const descriptor = readVp8Descriptor(payload);
      keyframe = descriptor.ok && descriptor.keyframe;
      if (keyframe && descriptor.ok) this.noteKeyframeSize(stream, payload, descriptor.descriptorLength, nowMs);
      stream.nacks?.onPacket(header.sequenceNumber, nowMs);
      stream.cache?.store(header.sequenceNumber, packet, nowMs);
    } else if (this.track.audioLevelId !== undefined) {
      const extension = header.extension(this.track.audioLevelId);
      const level = extension && readAudioLevel(extension);
      if (level) this.context.audioLevel(this, level.level, level.voiceActivity, nowMs);
    }
    for (const consumer of this.consumers) consumer.forward(packet, header, stream, keyframe, nowMs, redPacket);
  }

  /** @internal compound RTCP from the publisher about this track: its sender reports. */
  receiveRtcp(packet: Buffer, nowMs: number): void {
    if (this.closedWith) return;
    const walk = readRtcpCompound(packet);
    if (!walk.ok) this.counters.dropped.malformedRtcp++;
    for (const item of walk.items) {
      if (item.type !== 'sr') continue;
      const stream = this.streams.find((s) => s.ssrc === item.ssrc);
      if (!stream) continue;
      stream.statistics.onSenderReport(item.ntpSeconds, item.ntpFraction, nowMs);
      stream.lastSenderReport = {
        ntpSeconds: item.ntpSeconds,
        ntpFraction: item.ntpFraction,
        rtpTimestamp: item.rtpTimestamp,
      };
      for (const consumer of this.consumers) consumer.forwardSenderReport(stream);
    }
  }

  /**
   * @internal asks the publisher for a keyframe of `stream` (a PLI), at most once per
   * `keyframeRequestIntervalMs` per stream: every subscriber joining at once shares one keyframe.
   */
  requestKeyframe(stream: ProducerStream, nowMs: number): void {
    if (this.closedWith || this.kind !== 'video') return;
    if (nowMs - stream.lastKeyframeRequestAtMs < this.context.options.keyframeRequestIntervalMs) return;
    stream.lastKeyframeRequestAtMs = nowMs;
    if (this.sendRtcp(buildPli(this.context.rtcpSsrc, stream.ssrc))) this.counters.keyframeRequestsSent++;
  }

  /** @internal the router's tick: NACK what the publisher's upload lost; receiver reports. */
  tick(nowMs: number): void {
    if (this.closedWith) return;
    const { rtcpSsrc, options } = this.context;
    for (const stream of this.streams) {
      const lost = stream.nacks?.poll(nowMs);
      if (!lost) continue;
      // At most NACK_BATCH numbers per NACK (≤ 4 + 4 × NACK_BATCH bytes): one datagram under the MTU.
      for (let i = 0; i < lost.length; i += NACK_BATCH) {
        const batch = lost.slice(i, i + NACK_BATCH);
        if (this.sendRtcp(buildNack(rtcpSsrc, stream.ssrc, batch))) this.counters.nacksSent += batch.length;
      }
    }
    if (nowMs - this.lastReceiverReportAtMs < options.receiverReportIntervalMs || this.streams.length === 0) return;
    this.lastReceiverReportAtMs = nowMs;
    // Only streams heard since the last report (RFC 3550 §6.4): a stopped layer gets no block.
    const heard = this.streams.filter((s) => nowMs - s.lastPacketAtMs < options.receiverReportIntervalMs);
    const blocks = heard.flatMap((s) => s.statistics.reportBlock(nowMs) ?? []).slice(0, 31);
    if (blocks.length === 0) return;
    const report = buildReceiverReport(rtcpSsrc, blocks);
    if (this.kind === 'audio') {
      this.sendRtcp(report);
      return;
    }
    const remb = buildRemb(
      rtcpSsrc,
      options.maxPublisherVideoBitrate,
      heard.map((s) => s.ssrc),
    );
    const compound = new Uint8Array(report.length + remb.length);
    compound.set(report);
    compound.set(remb, report.length);
    this.sendRtcp(compound);
  }

  /** The stream a packet belongs to: by SSRC once known, by RID (simulcast) or the offer's SSRC first. */
  private streamOf(header: RtpHeader, nowMs: number): ProducerStream | undefined {
    for (const stream of this.streams) if (stream.ssrc === header.ssrc) return stream;
    const { layers, ssrc: announced, ridId } = this.track;
    let rid = '';
    let index = 0;
    if (layers.length > 0) {
      const extension = ridId === undefined ? undefined : header.extension(ridId);
      rid = (extension && readRtpStreamId(extension)) ?? '';
      index = layers.findIndex((layer) => layer.rid === rid);
      if (index < 0 || this.streams.some((s) => s.rid === rid)) return undefined;
    } else if (this.streams.length > 0 || (announced !== undefined && announced !== header.ssrc)) {
      return undefined;
    }
    const video = this.kind === 'video';
    const stream: ProducerStream = {
      ssrc: header.ssrc,
      rid,
      index,
      width: 0,
      height: 0,
      bitrate: 0,
      lastPacketAtMs: nowMs,
      lastSenderReport: undefined,
      cache: video ? new RtpPacketCache(this.cacheOptions(index)) : undefined,
      nacks: video ? new NackGenerator() : undefined,
      statistics: new ReceiveStatistics({ ssrc: header.ssrc, clockRate: video ? 90_000 : 48_000 }),
      lastKeyframeRequestAtMs: Number.NEGATIVE_INFINITY,
      meterBytes: 0,
      meterStartMs: nowMs,
    };
    this.streams.push(stream);
    this.streams.sort((a, b) => a.index - b.index);
    this.layersChanged(nowMs);
    return stream;
  }

  /**
   * A simulcast layer below the top one sends a fraction of its packets (a quarter-size layer
   * ~20-60 packets/s), so a quarter of the slots still holds more than the 2 s a NACK can use:
   * a three-layer publisher then holds 2.3 MB of cache instead of 4.5 MB.
   */
  private cacheOptions(layerIndex: number): Partial<RtpPacketCacheOptions> {
    const options = this.context.options.packetCache;
    const layers = this.track.layers.length;
    if (layers <= 1 || layerIndex === layers - 1) return options;
    const capacity = options.capacity ?? DEFAULT_PACKET_CACHE_OPTIONS.capacity;
    return { ...options, capacity: Math.max(1, capacity / 4) };
  }

  /** RFC 6386 §9.1: a keyframe's header carries its size (14 bits each, after a 3-byte start code). */
  private layersChanged(nowMs: number): void {
    for (const consumer of this.consumers) consumer.layersChanged(nowMs);
    this.safeEmit('layers');
  }

  private noteKeyframeSize(stream: ProducerStream, payload: Uint8Array, at: number, nowMs: number): void {
    if (payload.length < at + 10 || payload[at + 3] !== 0x9d || payload[at + 4] !== 0x01 || payload[at + 5] !== 0x2a) {
      return;
    }
    const width = ((payload[at + 6] ?? 0) | ((payload[at + 7] ?? 0) << 8)) & 0x3fff;
    const height = ((payload[at + 8] ?? 0) | ((payload[at + 9] ?? 0) << 8)) & 0x3fff;
    if (width !== stream.width || height !== stream.height) {
      stream.width = width;
      stream.height = height;
      this.layersChanged(nowMs);
    }
  }

  private closeWith(reason: CloseReason): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    for (const consumer of [...this.consumers]) consumer.producerClosed();
    this.consumers.clear();
    for (const stream of this.streams) stream.cache?.clear();
    this.context.producerClosed(this);
    this.safeEmit('close', reason);
    this.removeAllListeners();
  }
}
