/*
 * Sequence numbers and timestamps for one outgoing stream (one subscriber's view of a track)
 * whose source changes: a simulcast layer switch, another publisher in an active-speaker slot,
 * a pause and resume. A subscriber's decoder and jitter buffer must see one continuous stream:
 *
 * - Within a *stint* (the packets of one source between two switches) the offset from incoming to
 *   outgoing numbers is fixed, so gaps stay gaps (the subscriber NACKs real loss) and reordered
 *   packets land where they belong.
 * - A new stint starts at the first packet rewritten after a switch: sequence number = highest
 *   sent + 1, timestamp = highest sent + the wall-clock time since that timestamp was first sent,
 *   in clock-rate ticks (at least 1, so the first frame of the new source is a new frame).
 * - Packets older than the stint's first packet would reuse numbers already sent: dropped (null).
 *   So are packets of any source other than the selected one (late packets from before a switch).
 * - Sequence numbers are extended to 53-bit counters (RFC 1982 serial arithmetic against the
 *   stint's highest), so 16-bit wrap-around is invisible; timestamps wrap at 32 bits naturally.
 *
 * Which packets to switch on (a keyframe of the new layer) is the caller's decision: it calls
 * switchSource() and then rewrite() with that packet. The clock is the caller's (`nowMs`).
 */
import { timestampDelta } from './serial.js';

/** Outgoing numbers for one forwarded packet. */
export interface RewrittenSequence {
  sequenceNumber: number;
  timestamp: number;
}

/** An incoming packet an outgoing sequence number stands for (to answer a NACK). */
export interface SourceSequence {
  ssrc: number;
  sequenceNumber: number;
}

export interface SequenceRewriterOptions {
  /** RTP clock rate of the stream (90000 for video, 48000 for Opus). */
  clockRate: number;
  /** How many of the latest outgoing sequence numbers unmap() answers for, 1-32768 (default 32768). */
  historySize?: number;
}

/** One source's stint: its offsets and, as extended counters, where it started and how far it got. */
interface Stint {
  readonly ssrc: number;
  /** Extended incoming sequence number of the stint's first packet. */
  readonly firstIncoming: number;
  /** Extended outgoing sequence number of the stint's first packet. */
  readonly firstOutgoing: number;
  /** outgoing - incoming, in extended sequence numbers. */
  readonly sequenceOffset: number;
  /** (outgoing - incoming) mod 2^32, in timestamps. */
  readonly timestampOffset: number;
  highestIncoming: number;
}

const SEQUENCE_SPACE = 0x10000;
const MAX_HISTORY = 0x8000;
// A longer pause than this many ticks is written as this many: a bigger jump would read as a step
// back in 32-bit serial arithmetic (2^31 ticks is 6.6 hours at 90 kHz).
const MAX_TIMESTAMP_JUMP = 0x3fffffff;

export class SequenceRewriter {
  private readonly clockRate: number;
  private readonly historySize: number;
  private selected: number | undefined;
  /** The selected source's stint, from its first packet after the switch on. */
  private active: Stint | undefined;
  /** Stints that may still cover sequence numbers unmap() answers for, oldest first. */
  private readonly stints: Stint[] = [];
  /** Highest extended outgoing sequence number sent; -1 before the first packet. */
  private highestOutgoing = -1;
  private highestTimestamp = 0;
  /** When the highest timestamp was first sent. */
  private highestTimestampAtMs = 0;

  constructor(options: SequenceRewriterOptions) {
    const { clockRate, historySize = MAX_HISTORY } = options;
    if (!(clockRate > 0 && Number.isFinite(clockRate))) throw new RangeError(`clock rate ${clockRate} is not positive`);
    if (!Number.isInteger(historySize) || historySize < 1 || historySize > MAX_HISTORY) {
      throw new RangeError(`history size ${historySize} is not 1-${MAX_HISTORY}`);
    }
    this.clockRate = clockRate;
    this.historySize = historySize;
  }

  /** The SSRC whose packets are forwarded, undefined while paused. */
  get sourceSsrc(): number | undefined {
    return this.selected;
  }

  /**
   * Forwards `ssrc` from now on (undefined: forward nothing). Its next packet through rewrite()
   * starts a new stint; packets of any other source are dropped from now on. Selecting the source
   * that is already selected changes nothing; selecting it again after a pause starts a new stint,
   * so what the source sent during the pause is not seen as loss.
   */
  switchSource(ssrc: number | undefined): void {
    if (ssrc === this.selected) return;
    this.selected = ssrc;
    this.active = undefined;
  }

  /**
   * Outgoing sequence number and timestamp for an incoming packet, or null to drop it (not the
   * selected source, or older than the selected source's first packet since the switch).
   * `nowMs` is the caller's clock in milliseconds: noted when a packet carries a new highest
   * timestamp, and read when a packet starts a stint (to move the timestamp on by the time since).
   */
  rewrite(ssrc: number, sequenceNumber: number, timestamp: number, nowMs: number): RewrittenSequence | null {
    if (ssrc !== this.selected) return null;
    let stint = this.active;
    let incoming: number;
    if (stint === undefined) {
      stint = this.startStint(ssrc, sequenceNumber, timestamp, nowMs);
      incoming = sequenceNumber;
    } else {
      const highest = stint.highestIncoming;
      // (a - b) & 0xffff is exact for the 53-bit counter too: & works modulo 2^32.
      const ahead = (sequenceNumber - highest) & 0xffff;
      if (ahead < 0x8000) {
        incoming = highest + ahead;
        stint.highestIncoming = incoming;
      } else {
        incoming = highest - (SEQUENCE_SPACE - ahead);
        if (incoming < stint.firstIncoming) return null;
      }
    }

    const outgoing = incoming + stint.sequenceOffset;
    const outgoingTimestamp = (timestamp + stint.timestampOffset) >>> 0;
    if (outgoing > this.highestOutgoing) this.highestOutgoing = outgoing;
    if (timestampDelta(outgoingTimestamp, this.highestTimestamp) > 0) {
      this.highestTimestamp = outgoingTimestamp;
      this.highestTimestampAtMs = nowMs;
    }
    return { sequenceNumber: outgoing % SEQUENCE_SPACE, timestamp: outgoingTimestamp };
  }

  /**
   * A timestamp of the forwarded source in the outgoing stream's timeline (to rewrite the RTP time
   * of the source's sender report); undefined unless `ssrc` is the source of the running stint.
   */
  mapTimestamp(ssrc: number, timestamp: number): number | undefined {
    const stint = this.active;
    if (stint === undefined || stint.ssrc !== ssrc) return undefined;
    return (timestamp + stint.timestampOffset) >>> 0;
  }

  /**
   * The incoming packet an outgoing sequence number stands for, to answer a subscriber's NACK from
   * the source's packet cache; undefined when it was never sent or is older than the history.
   * Numbers in a gap map to the source's missing numbers, which the source may still retransmit.
   */
  unmap(outgoingSequenceNumber: number): SourceSequence | undefined {
    if (this.highestOutgoing < 0) return undefined;
    const behind = (this.highestOutgoing - outgoingSequenceNumber) & 0xffff;
    if (behind >= this.historySize) return undefined;
    const outgoing = this.highestOutgoing - behind;
    for (let i = this.stints.length - 1; i >= 0; i--) {
      const stint = this.stints[i];
      if (stint === undefined || stint.firstOutgoing > outgoing) continue;
      return { ssrc: stint.ssrc, sequenceNumber: (outgoing - stint.sequenceOffset) % SEQUENCE_SPACE };
    }
    return undefined;
  }

  private startStint(ssrc: number, sequenceNumber: number, timestamp: number, nowMs: number): Stint {
    const first = this.highestOutgoing < 0;
    // The very first stint keeps the source's numbers: they are already random (RFC 3550 §5.1).
    const firstOutgoing = first ? sequenceNumber : this.highestOutgoing + 1;
    const outgoingTimestamp = first ? timestamp : (this.highestTimestamp + this.ticksSince(nowMs)) >>> 0;
    const stint: Stint = {
      ssrc,
      firstIncoming: sequenceNumber,
      firstOutgoing,
      sequenceOffset: firstOutgoing - sequenceNumber,
      timestampOffset: (outgoingTimestamp - timestamp) >>> 0,
      highestIncoming: sequenceNumber,
    };
    if (first) {
      this.highestTimestamp = outgoingTimestamp;
      this.highestTimestampAtMs = nowMs;
    }
    this.active = stint;
    this.stints.push(stint);
    // Drop stints that end before the window unmap() answers for; the next one's start is their end.
    const oldestAnswered = firstOutgoing - this.historySize + 1;
    while (this.stints.length > 1 && (this.stints[1]?.firstOutgoing ?? 0) <= oldestAnswered) this.stints.shift();
    return stint;
  }

  private ticksSince(nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.highestTimestampAtMs);
    return Math.min(MAX_TIMESTAMP_JUMP, Math.max(1, Math.round((elapsedMs * this.clockRate) / 1000)));
  }
}
