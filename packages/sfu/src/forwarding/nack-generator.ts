/*
 * Loss detection for one stream received from a publisher, so the router asks the publisher to
 * retransmit what the publisher→SFU leg lost (RFC 4585 generic NACK) before subscribers notice.
 *
 * onPacket() is fed the sequence number of every received packet: a step forward of more than one
 * leaves the numbers in between missing. poll() says which of them to NACK now: the first request
 * after a short reordering delay (a packet overtaken by its successor usually turns up within a few
 * milliseconds), then once per RTT (the earliest a retransmission could answer), up to maxRetries
 * times. A packet that arrives leaves the list; so does one past maxAgeMs or pushed out by the list
 * bound (oldest first). Numbers are extended internally (RFC 1982 against the highest), so 16-bit
 * wrap-around is invisible.
 *
 * A big jump is a stream reset, not loss: NACKing thousands of packets would only add to the
 * congestion that likely caused it. Forward, a jump over resetJump resets at once; backward, a packet
 * from further back than resetJump is ignored unless the next packet follows it (two in a row rule
 * out a stray late packet). A reset empties the list.
 *
 * The clock is the caller's (`nowMs`, milliseconds, not decreasing); nothing runs between calls.
 */
import { sequenceDelta } from '../rtp/serial.js';

export interface NackGeneratorOptions {
  /** Requests per missing packet, 1-255. */
  maxRetries: number;
  /** Wait before the first request for a newly missing packet, in ms (>= 0). */
  reorderDelayMs: number;
  /** RTT to the publisher until setRtt() is called, in ms (>= 0). */
  rttMs: number;
  /** Floor of the interval between two requests for the same packet, in ms (> 0). */
  minRetryIntervalMs: number;
  /** Most missing packets tracked, 1-16384; beyond it the oldest are dropped. */
  maxMissing: number;
  /** A missing packet is dropped this long after it was found missing, in ms (> 0). */
  maxAgeMs: number;
  /** A jump of more than this many sequence numbers is a stream reset, 1-16384. */
  resetJump: number;
}

/**
 * Defaults, after libwebrtc's receiver (nack_requester.cc) and mediasoup's NackGenerator:
 * - 10 retries (libwebrtc's; mediasoup uses 8): with a 100 ms RTT, a second of trying.
 * - 10 ms reordering delay: pacing spreads a frame's packets out, and on WebRTC paths reordering is
 *   rare and short; waiting longer would only delay recovery, which costs a full RTT anyway.
 * - 100 ms RTT until measured (both libwebrtc and mediasoup), 20 ms floor on the retry interval so
 *   a LAN's sub-millisecond RTT does not turn into a request per poll.
 * - 500 missing (mediasoup's kMaxNackPackets): more is an outage, better healed by a keyframe.
 * - 1000 ms age: a packet recovered later than that is past the subscribers' jitter buffers.
 * - 1000 sequence numbers for a reset: 2-3 s of a high-rate video stream, more than any loss
 *   burst worth NACKing (twice maxMissing).
 */
export const DEFAULT_NACK_GENERATOR_OPTIONS: Readonly<NackGeneratorOptions> = Object.freeze({
  maxRetries: 10,
  reorderDelayMs: 10,
  rttMs: 100,
  minRetryIntervalMs: 20,
  maxMissing: 500,
  maxAgeMs: 1000,
  resetJump: 1000,
});

/**
 * What onPacket made of a sequence number:
 * - `new`: the newest so far (missing numbers before it, if any, are now tracked);
 * - `recovered`: a missing packet arrived (late, or retransmitted);
 * - `old`: not newer and not missing: a duplicate, a packet given up on, or a stray from far back;
 * - `reset`: the stream starts over at this number; the list was emptied (a keyframe request is
 *   in order: the packets in the jump are not coming back);
 * - `invalid`: not a 16-bit integer; ignored.
 */
export type NackPacketOutcome = 'new' | 'recovered' | 'old' | 'reset' | 'invalid';

interface MissingPacket {
  /** When the gap was found. */
  readonly detectedAtMs: number;
  /** When to request it next. */
  dueAtMs: number;
  /** Requests made so far. */
  requests: number;
}

const SEQUENCE_SPACE = 0x10000;
const MAX_RETRIES = 255;
const MAX_TRACKED = 0x4000; // a quarter of the space: far from where serial arithmetic turns
const NOT_STARTED = -1;
const NO_CANDIDATE = -1;

function checkOption(name: string, value: number, valid: boolean, range: string): void {
  if (!valid) throw new RangeError(`${name} ${value} is not ${range}`);
}

export class NackGenerator {
  private readonly maxRetries: number;
  private readonly reorderDelayMs: number;
  private readonly minRetryIntervalMs: number;
  private readonly maxMissing: number;
  private readonly maxAgeMs: number;
  private readonly resetJump: number;
  private rtt: number;
  /** Missing packets by extended sequence number. Gaps are only ever added above every key, so
   *  the Map's insertion order is sequence order and its first key the oldest. */
  private readonly missing = new Map<number, MissingPacket>();
  /** Highest extended sequence number received; NOT_STARTED before the first packet. */
  private highest = NOT_STARTED;
  /** After a packet from far behind: the number that confirms a reset if it comes next. */
  private resetCandidate = NO_CANDIDATE;
  private givenUp = 0;

  /** Throws RangeError for an option outside the ranges documented on NackGeneratorOptions. */
  constructor(options: Partial<NackGeneratorOptions> = {}) {
    const d = DEFAULT_NACK_GENERATOR_OPTIONS;
    const maxRetries = options.maxRetries ?? d.maxRetries;
    const reorderDelayMs = options.reorderDelayMs ?? d.reorderDelayMs;
    const rttMs = options.rttMs ?? d.rttMs;
    const minRetryIntervalMs = options.minRetryIntervalMs ?? d.minRetryIntervalMs;
    const maxMissing = options.maxMissing ?? d.maxMissing;
    const maxAgeMs = options.maxAgeMs ?? d.maxAgeMs;
    const resetJump = options.resetJump ?? d.resetJump;
    const isCount = (value: number, max: number) => Number.isInteger(value) && value >= 1 && value <= max;
    checkOption('max retries', maxRetries, isCount(maxRetries, MAX_RETRIES), `1-${MAX_RETRIES}`);
    checkOption('reorder delay', reorderDelayMs, reorderDelayMs >= 0 && Number.isFinite(reorderDelayMs), '>= 0 ms');
    checkOption('RTT', rttMs, rttMs >= 0 && Number.isFinite(rttMs), '>= 0 ms');
    checkOption(
      'min retry interval',
      minRetryIntervalMs,
      minRetryIntervalMs > 0 && Number.isFinite(minRetryIntervalMs),
      '> 0 ms',
    );
    checkOption('max missing', maxMissing, isCount(maxMissing, MAX_TRACKED), `1-${MAX_TRACKED}`);
    checkOption('max age', maxAgeMs, maxAgeMs > 0, '> 0 ms');
    checkOption('reset jump', resetJump, isCount(resetJump, MAX_TRACKED), `1-${MAX_TRACKED}`);
    this.maxRetries = maxRetries;
    this.reorderDelayMs = reorderDelayMs;
    this.rtt = rttMs;
    this.minRetryIntervalMs = minRetryIntervalMs;
    this.maxMissing = maxMissing;
    this.maxAgeMs = maxAgeMs;
    this.resetJump = resetJump;
  }

  /** Sequence numbers tracked as missing (including any poll() has yet to drop as too old). */
  get missingCount(): number {
    return this.missing.size;
  }

  /**
   * Missing packets dropped without arriving, since construction: retries used up, too old, or
   * pushed out by maxMissing (a stream reset's jump is not counted). When it grows, the gap will
   * not heal: the caller's cue to consider a keyframe request.
   */
  get givenUpCount(): number {
    return this.givenUp;
  }

  /** The interval between requests for one packet: the RTT, at least minRetryIntervalMs. */
  get retryIntervalMs(): number {
    return Math.max(this.rtt, this.minRetryIntervalMs);
  }

  /**
   * The RTT to the publisher (from its RTCP reports), in ms. Derived from peer data, so a value
   * that is negative or not finite is ignored rather than thrown on. Applies from the next request.
   */
  setRtt(rttMs: number): void {
    if (rttMs >= 0 && Number.isFinite(rttMs)) this.rtt = rttMs;
  }

  /** Notes a received packet's sequence number (every packet, retransmissions included). */
  onPacket(sequenceNumber: number, nowMs: number): NackPacketOutcome {
    if ((sequenceNumber & 0xffff) !== sequenceNumber) return 'invalid';
    if (this.highest === NOT_STARTED) {
      this.highest = sequenceNumber;
      return 'new';
    }
    // (a - b) & 0xffff is exact for the extended counter too: & works modulo 2^32.
    const delta = sequenceDelta(sequenceNumber, this.highest);
    // Looked up first: at a high packet rate a retransmission can come from further back than resetJump.
    if (delta < 0 && this.missing.delete(this.highest + delta)) {
      this.resetCandidate = NO_CANDIDATE;
      return 'recovered';
    }
    if (delta > this.resetJump || (delta < -this.resetJump && sequenceNumber === this.resetCandidate)) {
      this.restart(sequenceNumber);
      return 'reset';
    }
    if (delta < -this.resetJump) {
      this.resetCandidate = (sequenceNumber + 1) & 0xffff;
      return 'old';
    }
    this.resetCandidate = NO_CANDIDATE;
    if (delta > 0) {
      if (delta > 1) this.addMissing(this.highest + 1, this.highest + delta, nowMs);
      this.highest += delta;
      return 'new';
    }
    return 'old';
  }

  /**
   * The sequence numbers to NACK now, oldest first (possibly none): each missing packet whose
   * reordering delay or retry interval has passed and which has requests left. Drops the packets
   * too old or out of requests. Call it regularly (every 10-20 ms, or when onPacket found a gap);
   * pass the result to buildNack (or toNackEntries).
   */
  poll(nowMs: number): number[] {
    const due: number[] = [];
    const interval = this.retryIntervalMs;
    for (const [extended, packet] of this.missing) {
      const tooOld = nowMs - packet.detectedAtMs > this.maxAgeMs;
      if (!tooOld && nowMs < packet.dueAtMs) continue;
      // Out of requests: dropped only once the last one had its interval to be answered.
      if (tooOld || packet.requests >= this.maxRetries) {
        this.missing.delete(extended); // deleting the current entry is safe while iterating a Map
        this.givenUp++;
        continue;
      }
      due.push(extended % SEQUENCE_SPACE);
      packet.requests++;
      packet.dueAtMs = nowMs + interval;
    }
    return due;
  }

  /** Forgets everything, the RTT excepted: the next packet starts afresh. */
  clear(): void {
    this.missing.clear();
    this.highest = NOT_STARTED;
    this.resetCandidate = NO_CANDIDATE;
  }

  /** Tracks extended numbers [from, to) as missing, keeping at most maxMissing (the newest). */
  private addMissing(from: number, to: number, nowMs: number): void {
    let start = from;
    if (to - start > this.maxMissing) {
      // Not even tracked: they would be pushed out at once.
      this.givenUp += to - start - this.maxMissing;
      start = to - this.maxMissing;
    }
    const dueAtMs = nowMs + this.reorderDelayMs;
    for (let extended = start; extended < to; extended++) {
      this.missing.set(extended, { detectedAtMs: nowMs, dueAtMs, requests: 0 });
    }
    for (const oldest of this.missing.keys()) {
      if (this.missing.size <= this.maxMissing) break;
      this.missing.delete(oldest);
      this.givenUp++;
    }
  }

  private restart(sequenceNumber: number): void {
    this.missing.clear();
    this.highest = sequenceNumber;
    this.resetCandidate = NO_CANDIDATE;
  }
}
