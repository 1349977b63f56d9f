/*
 * Reception statistics for one stream received from a publisher, for the report block of the
 * receiver report the router sends it (RFC 3550 §6.4.2). libwebrtc takes its RTT from LSR/DLSR and
 * feeds the fraction lost to its loss-based bandwidth estimate, so the numbers must mean what the
 * RFC says they mean:
 *
 * - Sequence numbers are validated and extended as in RFC 3550 A.1: a new stream is on probation
 *   until two packets arrive in sequence; a step forward of less than MAX_DROPOUT is progress (a
 *   wrap counts a cycle); a step back of at most maxMisorder is a duplicate or reordered packet and
 *   is counted as received; anything else is a "very large jump", ignored unless the next packet
 *   follows it, in which case the sender restarted and the statistics start over at it.
 * - Loss as in A.3: expected = extended highest - base + 1, cumulative lost = expected - received
 *   (negative when duplicates outnumber losses), fraction lost over the interval since the
 *   previous reportBlock() call.
 * - Jitter as in A.8, J += (|D| - J) / 16 with the arrival time in the stream's clock units, fed
 *   the way libwebrtc's receiver feeds it (so the publisher's remote-inbound-rtp jitter reads the
 *   same as with a browser peer): only packets newer than any before (a late or retransmitted
 *   packet's delay is not network jitter), only when the timestamp changed (the packets of a video
 *   frame share a timestamp but are paced out over milliseconds: that would measure the pacer),
 *   and not when |D| is 5 s of clock or more (a timestamp jump, not jitter). Each sample is
 *   against the previous newest packet, same timestamp or not, as libwebrtc does: a frame's first
 *   packet is measured against the previous frame's last, so that frame's spread still shows.
 *
 * Peer input never throws: values that are not what the header fields can hold are ignored. The
 * clock is the caller's (`nowMs`, milliseconds); nothing runs between calls.
 */
import { isUint } from '../bytes.js';
import { timestampDelta } from '../rtp/serial.js';
import type { ReportBlock } from './rtcp-packet.js';

export interface ReceiveStatisticsOptions {
  /** The stream reported on (the report block's SSRC), 32-bit. */
  ssrc: number;
  /** RTP clock rate of the stream's payload, in Hz (> 0): jitter is in these units. */
  clockRate: number;
  /**
   * A.1's MAX_MISORDER, 1-32768 (default 100): a packet at most this far behind the highest is
   * reordered and counted; further back it is a stray (not counted) and, if the next packet
   * follows it, a restart. Without RTX, NACKed packets come back on the stream itself with their
   * old numbers: at a high packet rate and a long RTT a retransmission can be further back than
   * 100, and two consecutive ones would read as a restart. Raise it for such streams.
   */
  maxMisorder?: number;
}

/** A.1: a forward step of this much or more is not progress but a jump. */
const MAX_DROPOUT = 3000;
/** A.1: in-sequence packets that make a new stream valid. */
const MIN_SEQUENTIAL = 2;
const DEFAULT_MAX_MISORDER = 100;
const MAX_MISORDER_LIMIT = 0x8000;
const SEQUENCE_SPACE = 0x10000;
/** No sequence number equals it (A.1's RTP_SEQ_MOD + 1). */
const NO_BAD_SEQUENCE = -1;
/** A jitter sample |D| of this many seconds of clock or more is a timestamp jump (libwebrtc's 5 s). */
const MAX_JITTER_SAMPLE_S = 5;
const MIN_CUMULATIVE_LOST = -0x800000;
const MAX_CUMULATIVE_LOST = 0x7fffff;
const MAX_UINT32 = 0xffffffff;
/** Compact NTP (DLSR) units per millisecond: 2^16 per second. */
const COMPACT_NTP_PER_MS = 65.536;

/** What A.1 made of a sequence number; internal. */
type SequenceOutcome =
  /** Not counted: on probation, or a stray from a very large jump. */
  | 'ignored'
  /** The statistics (re)started at this packet: end of probation, or a confirmed restart. */
  | 'started'
  /** Newer than any before. */
  | 'newest'
  /** Counted, not newer: a duplicate or a reordered (or retransmitted) packet. */
  | 'late';

export class ReceiveStatistics {
  readonly ssrc: number;
  readonly clockRate: number;
  private readonly maxMisorder: number;
  private packets = 0;

  // RFC 3550 A.1 / A.3 state.
  private started = false;
  /** In-sequence packets still needed before the stream is valid; 0 once valid. */
  private probation = MIN_SEQUENTIAL;
  private maxSeq = 0;
  /** Wraps of the sequence number since the base (A.1's cycles >> 16). */
  private cycles = 0;
  private baseSeq = 0;
  /** The number that confirms a restart if it comes next (A.1's bad_seq). */
  private badSeq = NO_BAD_SEQUENCE;
  /** Packets counted since the base (A.1's received): reset at a restart. */
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;

  // RFC 3550 A.8 state.
  private jitter = 0;
  /** Whether lastArrivalMs / lastTimestamp hold the previous newest packet. */
  private hasJitterReference = false;
  private lastArrivalMs = 0;
  private lastTimestamp = 0;

  // The last sender report: LSR and when it arrived, for DLSR.
  private lastSenderReport = 0;
  private lastSenderReportAtMs: number | undefined;

  /** Throws RangeError for an SSRC that is not 32-bit, a clock rate not > 0 or a maxMisorder not 1-32768. */
  constructor(options: ReceiveStatisticsOptions) {
    const { ssrc, clockRate, maxMisorder = DEFAULT_MAX_MISORDER } = options;
    if (!isUint(ssrc, 32)) throw new RangeError(`SSRC ${ssrc} is not a 32-bit unsigned integer`);
    if (!(clockRate > 0 && Number.isFinite(clockRate))) throw new RangeError(`clock rate ${clockRate} is not positive`);
    if (!(Number.isInteger(maxMisorder) && maxMisorder >= 1 && maxMisorder <= MAX_MISORDER_LIMIT)) {
      throw new RangeError(`max misorder ${maxMisorder} is not 1-${MAX_MISORDER_LIMIT}`);
    }
    this.ssrc = ssrc;
    this.clockRate = clockRate;
    this.maxMisorder = maxMisorder;
  }

  /**
   * Packets given to onPacket since construction, whatever A.1 made of them (duplicates, packets
   * on probation and strays included), like getStats' packetsReceived. The loss figures count
   * only the packets A.1 accepts.
   */
  get packetsReceived(): number {
    return this.packets;
  }

  /**
   * Notes a received packet: every one, duplicates, reordered and retransmitted included. A
   * sequence number that is not 16-bit, a timestamp that is not 32-bit or a time that is not
   * finite is ignored.
   */
  onPacket(sequenceNumber: number, rtpTimestamp: number, nowMs: number): void {
    if (!isUint(sequenceNumber, 16) || !isUint(rtpTimestamp, 32) || !Number.isFinite(nowMs)) return;
    this.packets++;
    const outcome = this.updateSequence(sequenceNumber);
    if (outcome === 'newest') this.updateJitter(rtpTimestamp, nowMs);
    else if (outcome === 'started') this.setJitterReference(rtpTimestamp, nowMs);
  }

  /**
   * Notes a sender report from the publisher for this stream (its NTP timestamp, both words
   * 32-bit, else ignored): the next report blocks carry its LSR and the delay since `nowMs`.
   */
  onSenderReport(ntpSeconds: number, ntpFraction: number, nowMs: number): void {
    if (!isUint(ntpSeconds, 32) || !isUint(ntpFraction, 32) || !Number.isFinite(nowMs)) return;
    // The middle 32 bits of the 64-bit NTP timestamp (RFC 3550 §6.4.1).
    this.lastSenderReport = ((ntpSeconds & 0xffff) * 0x10000 + (ntpFraction >>> 16)) >>> 0;
    this.lastSenderReportAtMs = nowMs;
  }

  /**
   * The report block for our next receiver report, or undefined while the stream is not valid yet
   * (before any packet, or before A.1's two in-sequence packets). Each call closes a reporting
   * interval: the fraction lost covers the packets since the previous call. Every field fits
   * buildReceiverReport: fraction 0-255, cumulative lost clamped to signed 24 bits, the extended
   * highest sequence number modulo 2^32, jitter and DLSR saturated at 2^32 - 1 (DLSR is 0 without an
   * SR, and when `nowMs` is before the SR's arrival).
   */
  reportBlock(nowMs: number): ReportBlock | undefined {
    if (!this.started || this.probation > 0) return undefined;
    const extendedMax = this.cycles * SEQUENCE_SPACE + this.maxSeq;
    // At least 1: the highest only moves forward from the base.
    const expected = extendedMax - this.baseSeq + 1;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    // Duplicates and late packets can make the interval's loss negative: that reads as none.
    const fractionLost =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    const cumulativeLost = Math.min(MAX_CUMULATIVE_LOST, Math.max(MIN_CUMULATIVE_LOST, expected - this.received));
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost,
      highestSequenceNumber: extendedMax % 2 ** 32,
      jitter: Math.min(MAX_UINT32, Math.floor(this.jitter)),
      lastSenderReport: this.lastSenderReport,
      delaySinceLastSenderReport: this.delaySinceLastSenderReport(nowMs),
    };
  }

  /** RFC 3550 A.1's update_seq (with its init_seq for a new stream). */
  private updateSequence(seq: number): SequenceOutcome {
    if (!this.started) {
      // A new stream: on probation, expecting seq next.
      this.started = true;
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = MIN_SEQUENTIAL;
    }
    if (this.probation > 0) {
      // Modular, unlike the RFC's C (where max_seq + 1 is 65536 after 65535): a stream may start at the wrap.
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.restart(seq);
          return 'started';
        }
      } else {
        this.probation = MIN_SEQUENTIAL - 1;
        this.maxSeq = seq;
      }
      return 'ignored';
    }
    const ahead = (seq - this.maxSeq) & 0xffff;
    if (ahead < MAX_DROPOUT) {
      if (ahead === 0) {
        this.received++; // a duplicate of the highest
        return 'late';
      }
      if (seq < this.maxSeq) this.cycles++;
      this.maxSeq = seq;
      this.received++;
      return 'newest';
    }
    if (ahead <= SEQUENCE_SPACE - this.maxMisorder) {
      // A very large jump: a stray, unless it is the second of two in sequence (a restart).
      if (seq === this.badSeq) {
        this.restart(seq);
        return 'started';
      }
      this.badSeq = (seq + 1) & 0xffff;
      return 'ignored';
    }
    this.received++; // a duplicate or reordered packet, at most maxMisorder behind
    return 'late';
  }

  /** A.1's init_seq, and the packet that triggered it counted: the statistics start at `seq`. */
  private restart(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = NO_BAD_SEQUENCE;
    this.cycles = 0;
    this.received = 1;
    this.expectedPrior = 0;
    this.receivedPrior = 0;
  }

  /** A.8: one jitter sample against the previous newest packet. */
  private updateJitter(rtpTimestamp: number, nowMs: number): void {
    if (this.hasJitterReference && rtpTimestamp !== this.lastTimestamp) {
      // Differences, not absolute times: nowMs × clockRate could lose precision in a double.
      const arrivalDelta = ((nowMs - this.lastArrivalMs) * this.clockRate) / 1000;
      const d = Math.abs(arrivalDelta - timestampDelta(rtpTimestamp, this.lastTimestamp));
      if (d < this.clockRate * MAX_JITTER_SAMPLE_S) this.jitter += (d - this.jitter) / 16;
    }
    this.setJitterReference(rtpTimestamp, nowMs);
  }

  /** The jitter value is kept across a restart; only the packet it is measured against changes. */
  private setJitterReference(rtpTimestamp: number, nowMs: number): void {
    this.hasJitterReference = true;
    this.lastTimestamp = rtpTimestamp;
    this.lastArrivalMs = nowMs;
  }

  private delaySinceLastSenderReport(nowMs: number): number {
    if (this.lastSenderReportAtMs === undefined) return 0;
    const delayMs = nowMs - this.lastSenderReportAtMs;
    if (!(delayMs > 0)) return 0; // also NaN
    return Math.min(MAX_UINT32, Math.round(delayMs * COMPACT_NTP_PER_MS));
  }
}
