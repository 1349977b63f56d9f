import type { RtpPacketCacheOptions } from '../forwarding/packet-cache.js';
import type { SfuCounters } from './counters.js';
import type { Producer } from './producer.js';

/** Tuning knobs (STYLE #11): the defaults suit browsers on a LAN or the internet. */
export interface RouterTuning {
  /**
   * At most one keyframe request per publisher stream this often (default 300 ms): subscribers
   * joining together share a keyframe, and a late joiner still decodes within ~0.5 s.
   */
  keyframeRequestIntervalMs: number;
  /** How often NACKs towards publishers are sent and the active speaker is re-evaluated (default 20 ms). */
  tickIntervalMs: number;
  /** Per video stream, for answering subscribers' NACKs. */
  packetCache: Partial<RtpPacketCacheOptions>;
  /** Minimum time between two sender reports to one subscriber for one stream (default 1000 ms). */
  senderReportIntervalMs: number;
  /**
   * How often each publisher gets our receiver report (default 1000 ms): libwebrtc takes its RTT
   * and loss-based bandwidth estimate from it.
   */
  receiverReportIntervalMs: number;
  /**
   * The most a publisher's video track may send, all simulcast layers together, in bits/s (REMB,
   * sent with each receiver report; default 2.5 Mbit/s: a 720p camera with its lower layers).
   */
  maxPublisherVideoBitrate: number;
}

export const DEFAULT_ROUTER_TUNING: Readonly<RouterTuning> = Object.freeze({
  keyframeRequestIntervalMs: 300,
  tickIntervalMs: 20,
  packetCache: {},
  senderReportIntervalMs: 1000,
  receiverReportIntervalMs: 1000,
  maxPublisherVideoBitrate: 2_500_000,
});

/** What a router's producers, consumers and transports share. @internal */
export interface RouterContext {
  readonly counters: SfuCounters;
  readonly options: RouterTuning;
  /** The SSRC we send RTCP feedback as (the "sender SSRC" of PLI/NACK). */
  readonly rtcpSsrc: number;
  audioLevel(producer: Producer, level: number, voiceActivity: boolean, nowMs: number): void;
  producerClosed(producer: Producer): void;
}
