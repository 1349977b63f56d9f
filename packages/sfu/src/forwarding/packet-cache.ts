/*
 * The last packets of one published stream (one SSRC), kept to answer subscribers' generic NACKs
 * (RFC 4585 §6.2.1) by retransmitting. store() runs for every received packet, so the cache is one
 * slab allocated up front: a packet is copied into slot `seq & (capacity - 1)` and nothing is
 * allocated per packet. Beside the slab, each slot remembers its packet's length, arrival time and
 * *extended* sequence number (the 16-bit number plus the wrap-arounds counted against the highest
 * stored), so a slot holding 5 never answers for 5 + 65536k: get() asks for an exact extended match.
 *
 * The cache answers for a window: the `capacity` sequence numbers up to the highest stored. Inside
 * it every number has its own slot, so a late packet (reordered, or a retransmission) cannot evict a
 * newer one; a packet from behind the window is refused for the same reason. A jump back further
 * than the window is taken as a stream reset only when the next packet confirms it (it follows the
 * first one), or when nothing has been stored for maxAgeMs; a reset empties the cache.
 *
 * The clock is the caller's (`nowMs`, milliseconds, not decreasing).
 */
import { sequenceDelta } from '../rtp/serial.js';

export interface RtpPacketCacheOptions {
  /** Slots, a power of two from 1 to 32768 (half the sequence space, so the window is unambiguous). */
  capacity: number;
  /** The longest packet stored, 12-65535 bytes; longer ones are refused. */
  maxPacketBytes: number;
  /** Packets older than this are not answered (> 0; Infinity keeps them until overwritten). */
  maxAgeMs: number;
}

/**
 * Defaults sized for one video stream (one simulcast layer):
 * - 1500 bytes: the Ethernet MTU, so no packet that arrived in one unfragmented datagram is
 *   refused. libwebrtc sends at most ~1200; other senders (GStreamer, OBS) may use up to the MTU.
 * - 2000 ms: what mediasoup keeps for video. A retransmission later than that is past any
 *   subscriber's jitter buffer; its decoder will have asked for a keyframe instead.
 * - 1024 slots: 2 s at 512 packets/s (~4.5 Mb/s of 1100-byte packets); above that rate the window
 *   is shorter (still 1 s at 1000 packets/s). Memory: 1.5 MiB per stream plus 18 KiB of bookkeeping;
 *   audio (50 packets/s of at most ~300 bytes) and low simulcast layers can use much less.
 */
export const DEFAULT_PACKET_CACHE_OPTIONS: Readonly<RtpPacketCacheOptions> = Object.freeze({
  capacity: 1024,
  maxPacketBytes: 1500,
  maxAgeMs: 2000,
});

const SEQUENCE_SPACE = 0x10000;
const MAX_CAPACITY = 0x8000;
const MIN_PACKET_BYTES = 12; // the RTP fixed header
const MAX_PACKET_BYTES = 0xffff; // a slot's length is a Uint16
// Extended numbers start one wrap up, so the window below the first packet stays non-negative.
const FIRST_WRAP = SEQUENCE_SPACE;
// An empty slot's extended sequence number: matches nothing.
const EMPTY = -1;
const NO_CANDIDATE = -1;

export class RtpPacketCache {
  readonly capacity: number;
  readonly maxPacketBytes: number;
  readonly maxAgeMs: number;
  private readonly mask: number;
  private readonly slab: Uint8Array;
  /** Per slot: extended sequence number of the packet held, EMPTY if none. */
  private readonly sequences: Float64Array;
  private readonly lengths: Uint16Array;
  private readonly arrivals: Float64Array;
  /** Highest extended sequence number stored; EMPTY before the first packet. */
  private highest = EMPTY;
  private lastStoreAtMs = 0;
  /** After a packet from behind the window: the number that confirms a stream reset if it comes next. */
  private resetCandidate = NO_CANDIDATE;

  /** Throws RangeError for an option outside the ranges documented on RtpPacketCacheOptions. */
  constructor(options: Partial<RtpPacketCacheOptions> = {}) {
    const capacity = options.capacity ?? DEFAULT_PACKET_CACHE_OPTIONS.capacity;
    const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_PACKET_CACHE_OPTIONS.maxPacketBytes;
    const maxAgeMs = options.maxAgeMs ?? DEFAULT_PACKET_CACHE_OPTIONS.maxAgeMs;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`capacity ${capacity} is not a power of two from 1 to ${MAX_CAPACITY}`);
    }
    if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < MIN_PACKET_BYTES || maxPacketBytes > MAX_PACKET_BYTES) {
      throw new RangeError(`max packet bytes ${maxPacketBytes} is not ${MIN_PACKET_BYTES}-${MAX_PACKET_BYTES}`);
    }
    if (!(maxAgeMs > 0)) throw new RangeError(`max age ${maxAgeMs} ms is not positive`);
    this.capacity = capacity;
    this.maxPacketBytes = maxPacketBytes;
    this.maxAgeMs = maxAgeMs;
    this.mask = capacity - 1;
    this.slab = new Uint8Array(capacity * maxPacketBytes);
    this.sequences = new Float64Array(capacity).fill(EMPTY);
    this.lengths = new Uint16Array(capacity);
    this.arrivals = new Float64Array(capacity);
  }

  /** Bytes held: the slab and the per-slot bookkeeping, all allocated by the constructor. */
  get byteSize(): number {
    return this.slab.byteLength + this.sequences.byteLength + this.lengths.byteLength + this.arrivals.byteLength;
  }

  /**
   * Copies `packet` (the whole RTP packet, header included) into its slot; the caller may reuse its
   * buffer afterwards. False when not stored: longer than maxPacketBytes, `sequenceNumber` not a
   * 16-bit integer, or from behind the window (too late to be asked for, and its slot may hold a
   * newer packet). A duplicate replaces the copy held.
   */
  store(sequenceNumber: number, packet: Uint8Array, nowMs: number): boolean {
    if ((sequenceNumber & 0xffff) !== sequenceNumber || packet.length > this.maxPacketBytes) return false;
    let extended: number;
    if (this.highest === EMPTY) {
      extended = FIRST_WRAP + sequenceNumber;
    } else {
      // (a - b) & 0xffff is exact for the extended counter too: & works modulo 2^32.
      const delta = sequenceDelta(sequenceNumber, this.highest);
      if (delta > -this.capacity) {
        // Newer than the highest, or inside the window: no newer packet can hold this slot.
        extended = this.highest + delta;
      } else if (nowMs - this.lastStoreAtMs > this.maxAgeMs || sequenceNumber === this.resetCandidate) {
        // Everything held has expired, or two packets in a row say the stream starts over here.
        this.clear();
        extended = FIRST_WRAP + sequenceNumber;
      } else {
        this.resetCandidate = (sequenceNumber + 1) & 0xffff;
        return false;
      }
    }
    if (extended > this.highest) this.highest = extended;
    this.resetCandidate = NO_CANDIDATE;
    this.lastStoreAtMs = nowMs;
    const slot = sequenceNumber & this.mask;
    this.slab.set(packet, slot * this.maxPacketBytes);
    this.sequences[slot] = extended;
    this.lengths[slot] = packet.length;
    this.arrivals[slot] = nowMs;
    return true;
  }

  /**
   * The packet stored for `sequenceNumber`, or undefined: never stored, outside the window (the
   * `capacity` numbers up to the highest stored), overwritten, or older than maxAgeMs.
   *
   * The result is a view into the cache, not a copy: it is valid until its slot is overwritten (a
   * store of a number `capacity` further on, or a reset) or clear(), so send it before storing more.
   * Do not rewrite it in place: every consumer of the stream reads the same bytes, including the
   * publisher's timestamp it maps to its own timeline, so copy before rewriting a header
   * (Consumer.retransmit does).
   */
  get(sequenceNumber: number, nowMs: number): Uint8Array | undefined {
    if ((sequenceNumber & 0xffff) !== sequenceNumber || this.highest === EMPTY) return undefined;
    const behind = (this.highest - sequenceNumber) & 0xffff;
    if (behind >= this.capacity) return undefined;
    const slot = sequenceNumber & this.mask;
    if (this.sequences[slot] !== this.highest - behind) return undefined;
    if (nowMs - (this.arrivals[slot] ?? 0) > this.maxAgeMs) return undefined;
    const start = slot * this.maxPacketBytes;
    return this.slab.subarray(start, start + (this.lengths[slot] ?? 0));
  }

  /** Forgets every packet (the slab is kept); the next store starts afresh. */
  clear(): void {
    this.sequences.fill(EMPTY);
    this.highest = EMPTY;
    this.resetCandidate = NO_CANDIDATE;
  }
}
