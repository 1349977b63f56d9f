/*
 * RTCP: walking a compound packet into typed items (RFC 3550 §6, RFC 4585 feedback, RFC 5104 FIR,
 * draft-alvestrand-rmcat-remb), building the feedback the router sends, and rewriting the SSRCs of
 * feedback it forwards. node-datachannel hands compound RTCP over raw, mixed with RTP, and libwebrtc
 * puts a PLI after its RR, so the walk goes through every packet in the datagram.
 *
 * Reading never throws: a malformed packet ends the walk with a typed reason and everything read
 * before it (SECURITY.md: malformed packets are dropped and counted, never thrown). Builders throw
 * RtpEncodeError for values that do not fit (our bug, not peer input).
 */
import {
  checkUint,
  readInt24,
  readUint16,
  readUint24,
  readUint32,
  writeUint16,
  writeUint24,
  writeUint32,
} from '../bytes.js';
import { RtpEncodeError } from '../errors.js';
import { RTCP_HEADER_LENGTH } from '../rtp/demux.js';

/** RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611). */
export const RtcpPacketType = {
  SenderReport: 200,
  ReceiverReport: 201,
  SourceDescription: 202,
  Goodbye: 203,
  ApplicationDefined: 204,
  TransportFeedback: 205,
  PayloadFeedback: 206,
  ExtendedReport: 207,
} as const;

/** Feedback message types (FMT) of RTPFB (RFC 4585 §6.2) and PSFB (RFC 4585 §6.3, RFC 5104 §4.3). */
export const FeedbackFormat = {
  /** RTPFB: generic NACK. */
  Nack: 1,
  /** RTPFB: transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions). */
  TransportCc: 15,
  /** PSFB: picture loss indication. */
  Pli: 1,
  /** PSFB: full intra request. */
  Fir: 4,
  /** PSFB: application layer feedback; REMB is the one we read. */
  ApplicationLayer: 15,
} as const;

/** One report block of an SR or RR (RFC 3550 §6.4.1). */
export interface ReportBlock {
  /** The source this block reports on. */
  ssrc: number;
  /** Fraction lost since the last report, in 1/256 (0-255). */
  fractionLost: number;
  /** Cumulative packets lost; signed 24-bit, negative when duplicates outnumber losses. */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | highest). */
  highestSequenceNumber: number;
  /** Interarrival jitter, in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (LSR), 0 if none. */
  lastSenderReport: number;
  /** Delay since that SR (DLSR), in 1/65536 s. */
  delaySinceLastSenderReport: number;
}

/** One FIR entry (RFC 5104 §4.3.1): the stream asked for a keyframe and the request's number. */
export interface FirEntry {
  ssrc: number;
  /** 8-bit command sequence number: the same number again is a retransmission, not a new request. */
  sequenceNumber: number;
}

/** Where an item's RTCP packet sits in the compound (for rewriting it in place). */
export interface RtcpItemPosition {
  /** Offset of the packet's header in the bytes given to readRtcpCompound. */
  offset: number;
  /** The packet's length in bytes, header and padding included. */
  length: number;
}

/** The sender information of a sender report (RFC 3550 §6.4.1): what buildSenderReport writes. */
export interface SenderReportFields {
  ssrc: number;
  /** NTP timestamp, integer seconds since 1900 (most significant word). */
  ntpSeconds: number;
  /** NTP timestamp, fraction of a second in 1/2^32 (least significant word). */
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export interface SenderReportItem extends RtcpItemPosition, SenderReportFields {
  type: 'sr';
  reports: ReportBlock[];
}

export interface ReceiverReportItem extends RtcpItemPosition {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}

export interface NackItem extends RtcpItemPosition {
  type: 'nack';
  senderSsrc: number;
  mediaSsrc: number;
  /** Every sequence number reported lost, in the order the FCI entries list them. */
  lost: number[];
}

export interface TransportCcItem extends RtcpItemPosition {
  type: 'transport-cc';
  senderSsrc: number;
  mediaSsrc: number;
  /** The feedback control information, undecoded, as a view into the packet. */
  fci: Uint8Array;
}

export interface PliItem extends RtcpItemPosition {
  type: 'pli';
  senderSsrc: number;
  mediaSsrc: number;
}

export interface FirItem extends RtcpItemPosition {
  type: 'fir';
  senderSsrc: number;
  entries: FirEntry[];
}

export interface RembItem extends RtcpItemPosition {
  type: 'remb';
  senderSsrc: number;
  /** Estimated maximum bitrate in bits per second (mantissa × 2^exponent). */
  bitrate: number;
  /** The media streams the estimate applies to. */
  ssrcs: number[];
}

/** What readRtcpCompound understands; other packets are counted in `skipped`. */
export type RtcpItem =
  | SenderReportItem
  | ReceiverReportItem
  | NackItem
  | TransportCcItem
  | PliItem
  | FirItem
  | RembItem;

/**
 * Why the walk stopped early. Never reused or renamed:
 * - `too-short`: no bytes at all, or fewer than a 4-byte header left after the last packet.
 * - `bad-version`: a packet's version is not 2.
 * - `bad-length`: a packet's length field runs past the end of the datagram.
 * - `bad-padding`: the P bit is set but the padding count is 0 or larger than the packet's body.
 * - `bad-report`: an SR or RR is shorter than its fixed part and report blocks.
 * - `bad-feedback`: a feedback packet shorter than its two SSRCs, or a NACK, FIR or REMB whose
 *   entries do not fit.
 */
export type RtcpParseReason =
  | 'too-short'
  | 'bad-version'
  | 'bad-length'
  | 'bad-padding'
  | 'bad-report'
  | 'bad-feedback';

export interface RtcpWalk {
  /** Items read, in wire order. */
  items: RtcpItem[];
  /** RTCP packets walked whole, understood or skipped. */
  packets: number;
  /** Packets walked but not understood (SDES, BYE, APP, XR, other feedback formats): not errors. */
  skipped: number;
}

/** A compound packet read to the end. */
export interface RtcpCompound extends RtcpWalk {
  ok: true;
}

/** A compound packet with a malformed part: the walk stopped there; what came before is kept. */
export interface RtcpCompoundFailure extends RtcpWalk {
  ok: false;
  reason: RtcpParseReason;
  /** Offset of the packet that was malformed. */
  offset: number;
}

const SENDER_INFO_LENGTH = 20;
const REPORT_BLOCK_LENGTH = 24;
const FEEDBACK_HEADER_LENGTH = 12;
const FIR_ENTRY_LENGTH = 8;
const REMB_IDENTIFIER = 0x52454d42; // 'REMB'

function readReportBlocks(bytes: Uint8Array, offset: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++, offset += REPORT_BLOCK_LENGTH) {
    reports.push({
      ssrc: readUint32(bytes, offset),
      fractionLost: bytes[offset + 4] ?? 0,
      cumulativeLost: readInt24(bytes, offset + 5),
      highestSequenceNumber: readUint32(bytes, offset + 8),
      jitter: readUint32(bytes, offset + 12),
      lastSenderReport: readUint32(bytes, offset + 16),
      delaySinceLastSenderReport: readUint32(bytes, offset + 20),
    });
  }
  return reports;
}

/**
 * Reads one RTCP packet whose header is valid and whose body is bytes[offset + 4, end). Returns the
 * item, null for a packet we do not read, or the reason it is malformed.
 */
function readPacket(bytes: Uint8Array, offset: number, end: number, length: number): RtcpItem | null | RtcpParseReason {
  const count = (bytes[offset] ?? 0) & 0x1f; // report count, source count or FMT
  const type = bytes[offset + 1] ?? 0;
  const size = end - offset;
  switch (type) {
    case RtcpPacketType.SenderReport: {
      const reportsAt = offset + 8 + SENDER_INFO_LENGTH;
      if (size < 8 + SENDER_INFO_LENGTH + count * REPORT_BLOCK_LENGTH) return 'bad-report';
      return {
        type: 'sr',
        offset,
        length,
        ssrc: readUint32(bytes, offset + 4),
        ntpSeconds: readUint32(bytes, offset + 8),
        ntpFraction: readUint32(bytes, offset + 12),
        rtpTimestamp: readUint32(bytes, offset + 16),
        packetCount: readUint32(bytes, offset + 20),
        octetCount: readUint32(bytes, offset + 24),
        reports: readReportBlocks(bytes, reportsAt, count),
      };
    }
    case RtcpPacketType.ReceiverReport:
      if (size < 8 + count * REPORT_BLOCK_LENGTH) return 'bad-report';
      return {
        type: 'rr',
        offset,
        length,
        ssrc: readUint32(bytes, offset + 4),
        reports: readReportBlocks(bytes, offset + 8, count),
      };
    case RtcpPacketType.TransportFeedback:
    case RtcpPacketType.PayloadFeedback:
      if (size < FEEDBACK_HEADER_LENGTH) return 'bad-feedback';
      return readFeedback(bytes, offset, end, length, type, count);
    default:
      return null;
  }
}

function readFeedback(
  bytes: Uint8Array,
  offset: number,
  end: number,
  length: number,
  type: number,
  format: number,
): RtcpItem | null | RtcpParseReason {
  const senderSsrc = readUint32(bytes, offset + 4);
  const mediaSsrc = readUint32(bytes, offset + 8);
  const fciStart = offset + FEEDBACK_HEADER_LENGTH;
  const fciLength = end - fciStart;

  if (type === RtcpPacketType.TransportFeedback) {
    if (format === FeedbackFormat.Nack) {
      // RFC 4585 §6.2.1: at least one FCI of PID (lost) + BLP (bit i: PID + i + 1 lost too).
      if (fciLength === 0 || fciLength % 4 !== 0) return 'bad-feedback';
      const lost: number[] = [];
      for (let at = fciStart; at < end; at += 4) {
        const pid = readUint16(bytes, at);
        const blp = readUint16(bytes, at + 2);
        lost.push(pid);
        for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) lost.push((pid + bit + 1) & 0xffff);
      }
      return { type: 'nack', offset, length, senderSsrc, mediaSsrc, lost };
    }
    if (format === FeedbackFormat.TransportCc) {
      return { type: 'transport-cc', offset, length, senderSsrc, mediaSsrc, fci: bytes.subarray(fciStart, end) };
    }
    return null;
  }

  if (format === FeedbackFormat.Pli) return { type: 'pli', offset, length, senderSsrc, mediaSsrc };
  if (format === FeedbackFormat.Fir) {
    // RFC 5104 §4.3.1: the header's media SSRC is unused (0); each entry names its stream.
    if (fciLength === 0 || fciLength % FIR_ENTRY_LENGTH !== 0) return 'bad-feedback';
    const entries: FirEntry[] = [];
    for (let at = fciStart; at < end; at += FIR_ENTRY_LENGTH) {
      entries.push({ ssrc: readUint32(bytes, at), sequenceNumber: bytes[at + 4] ?? 0 });
    }
    return { type: 'fir', offset, length, senderSsrc, entries };
  }
  if (format === FeedbackFormat.ApplicationLayer) {
    // draft-alvestrand-rmcat-remb: 'REMB', Num SSRC (8), BR Exp (6), BR Mantissa (18), SSRCs.
    // Other application-layer feedback is not ours to read.
    if (fciLength < 8 || readUint32(bytes, fciStart) !== REMB_IDENTIFIER) return null;
    const ssrcCount = bytes[fciStart + 4] ?? 0;
    if (fciLength < 8 + ssrcCount * 4) return 'bad-feedback';
    const exponentAndMantissa = readUint24(bytes, fciStart + 5);
    const bitrate = (exponentAndMantissa & 0x3ffff) * 2 ** (exponentAndMantissa >>> 18);
    const ssrcs: number[] = [];
    for (let i = 0; i < ssrcCount; i++) ssrcs.push(readUint32(bytes, fciStart + 8 + i * 4));
    return { type: 'remb', offset, length, senderSsrc, bitrate, ssrcs };
  }
  return null;
}

/**
 * Walks a compound RTCP packet (or a lone one, RFC 5506) into typed items; never throws. SDES,
 * BYE, APP, XR and feedback formats not listed in RtcpItem are stepped over and counted in
 * `skipped`. A malformed packet ends the walk: `ok: false` with the reason, its offset and the
 * items read before it.
 */
export function readRtcpCompound(bytes: Uint8Array): RtcpCompound | RtcpCompoundFailure {
  const walk: RtcpWalk = { items: [], packets: 0, skipped: 0 };
  const fail = (reason: RtcpParseReason, offset: number): RtcpCompoundFailure => ({
    ok: false,
    reason,
    offset,
    ...walk,
  });
  if (bytes.length === 0) return fail('too-short', 0);
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < RTCP_HEADER_LENGTH) return fail('too-short', offset);
    const first = bytes[offset] ?? 0;
    if (first >> 6 !== 2) return fail('bad-version', offset);
    const length = (readUint16(bytes, offset + 2) + 1) * 4;
    const next = offset + length;
    if (next > bytes.length) return fail('bad-length', offset);
    let end = next;
    if ((first & 0x20) !== 0) {
      // RFC 3550 §6.4.1: the last byte counts the padding, itself included. Accepted on any packet
      // of the compound, not only the last, as libwebrtc does.
      const padding = bytes[next - 1] ?? 0;
      if (padding === 0 || padding > length - RTCP_HEADER_LENGTH) return fail('bad-padding', offset);
      end -= padding;
    }
    const item = readPacket(bytes, offset, end, length);
    if (typeof item === 'string') return fail(item, offset);
    if (item === null) walk.skipped++;
    else walk.items.push(item);
    walk.packets++;
    offset = next;
  }
  return { ok: true, ...walk };
}

// --- Building -------------------------------------------------------------------------------

/** Writes the common header of a packet of `totalLength` bytes (a multiple of 4) at `offset`. */
function writeHeader(
  bytes: Uint8Array,
  offset: number,
  countOrFormat: number,
  type: number,
  totalLength: number,
): void {
  bytes[offset] = 0x80 | countOrFormat;
  bytes[offset + 1] = type;
  writeUint16(bytes, offset + 2, totalLength / 4 - 1);
}

function checkSsrc(ssrc: number, what: string): void {
  checkUint(ssrc, 32, what);
}

/** A picture loss indication (RFC 4585 §6.3.1): ask `mediaSsrc`'s sender for a keyframe. */
export function buildPli(senderSsrc: number, mediaSsrc: number): Uint8Array {
  checkSsrc(senderSsrc, 'sender SSRC');
  checkSsrc(mediaSsrc, 'media SSRC');
  const bytes = new Uint8Array(FEEDBACK_HEADER_LENGTH);
  writeHeader(bytes, 0, FeedbackFormat.Pli, RtcpPacketType.PayloadFeedback, bytes.length);
  writeUint32(bytes, 4, senderSsrc);
  writeUint32(bytes, 8, mediaSsrc);
  return bytes;
}

/**
 * A full intra request (RFC 5104 §4.3.1) with one entry per stream. Each entry's sequence number
 * must advance per new request from this sender to that stream (a repeat is a retransmission), so
 * the router keeps its own counters rather than forwarding a subscriber's.
 */
export function buildFir(senderSsrc: number, entries: readonly FirEntry[]): Uint8Array {
  checkSsrc(senderSsrc, 'sender SSRC');
  if (entries.length === 0) throw RtpEncodeError.badValue('a FIR needs at least one entry');
  for (const entry of entries) {
    checkSsrc(entry.ssrc, 'FIR SSRC');
    checkUint(entry.sequenceNumber, 8, 'FIR sequence number');
  }
  const bytes = new Uint8Array(FEEDBACK_HEADER_LENGTH + entries.length * FIR_ENTRY_LENGTH);
  writeHeader(bytes, 0, FeedbackFormat.Fir, RtcpPacketType.PayloadFeedback, bytes.length);
  writeUint32(bytes, 4, senderSsrc);
  // Media SSRC stays 0 (RFC 5104 §4.3.1).
  entries.forEach((entry, i) => {
    const at = FEEDBACK_HEADER_LENGTH + i * FIR_ENTRY_LENGTH;
    writeUint32(bytes, at, entry.ssrc);
    bytes[at + 4] = entry.sequenceNumber;
  });
  return bytes;
}

/**
 * Sorts sequence numbers in their circular order: after the widest gap between neighbours, so
 * 65534, 65535, 0, 1 stays in that order. Meaningful when they span less than half the space.
 */
function circularOrder(sequenceNumbers: readonly number[]): number[] {
  const sorted = [...new Set(sequenceNumbers)].sort((a, b) => a - b);
  let start = 0;
  let widest = -1;
  for (let i = 0; i < sorted.length; i++) {
    const previous = sorted[(i + sorted.length - 1) % sorted.length] ?? 0;
    const gap = ((sorted[i] ?? 0) - previous + 0x10000) & 0xffff;
    if (gap > widest) {
      widest = gap;
      start = i;
    }
  }
  return [...sorted.slice(start), ...sorted.slice(0, start)];
}

/**
 * A generic NACK (RFC 4585 §6.2.1) for the given lost sequence numbers (any order, duplicates
 * ignored), packed into as few PID + BLP entries as their circular order allows, across the wrap.
 */
export function buildNack(senderSsrc: number, mediaSsrc: number, lost: readonly number[]): Uint8Array {
  checkSsrc(senderSsrc, 'sender SSRC');
  checkSsrc(mediaSsrc, 'media SSRC');
  if (lost.length === 0) throw RtpEncodeError.badValue('a NACK needs at least one sequence number');
  for (const seq of lost) checkUint(seq, 16, 'sequence number');
  const entries: number[] = []; // PID << 16 | BLP
  for (const seq of circularOrder(lost)) {
    const last = entries.length - 1;
    const pid = (entries[last] ?? 0) >>> 16;
    const distance = (seq - pid) & 0xffff;
    if (last >= 0 && distance >= 1 && distance <= 16)
      entries[last] = ((entries[last] ?? 0) | (1 << (distance - 1))) >>> 0;
    else entries.push((seq << 16) >>> 0);
  }
  const bytes = new Uint8Array(FEEDBACK_HEADER_LENGTH + entries.length * 4);
  writeHeader(bytes, 0, FeedbackFormat.Nack, RtcpPacketType.TransportFeedback, bytes.length);
  writeUint32(bytes, 4, senderSsrc);
  writeUint32(bytes, 8, mediaSsrc);
  entries.forEach((entry, i) => {
    writeUint32(bytes, FEEDBACK_HEADER_LENGTH + i * 4, entry);
  });
  return bytes;
}

/** A receiver report (RFC 3550 §6.4.2) with up to 31 report blocks (none is valid). */
export function buildReceiverReport(ssrc: number, reports: readonly ReportBlock[]): Uint8Array {
  checkSsrc(ssrc, 'SSRC');
  if (reports.length > 31) throw RtpEncodeError.tooMany('report blocks', reports.length, 31);
  for (const report of reports) {
    checkSsrc(report.ssrc, 'report block SSRC');
    checkUint(report.fractionLost, 8, 'fraction lost');
    const { cumulativeLost } = report;
    if (!Number.isInteger(cumulativeLost) || cumulativeLost < -0x800000 || cumulativeLost > 0x7fffff) {
      throw RtpEncodeError.badValue(`cumulative lost ${cumulativeLost} is not a signed 24-bit integer`);
    }
    checkUint(report.highestSequenceNumber, 32, 'highest sequence number');
    checkUint(report.jitter, 32, 'jitter');
    checkUint(report.lastSenderReport, 32, 'LSR');
    checkUint(report.delaySinceLastSenderReport, 32, 'DLSR');
  }
  const bytes = new Uint8Array(8 + reports.length * REPORT_BLOCK_LENGTH);
  writeHeader(bytes, 0, reports.length, RtcpPacketType.ReceiverReport, bytes.length);
  writeUint32(bytes, 4, ssrc);
  reports.forEach((report, i) => {
    const at = 8 + i * REPORT_BLOCK_LENGTH;
    writeUint32(bytes, at, report.ssrc);
    bytes[at + 4] = report.fractionLost;
    writeUint24(bytes, at + 5, report.cumulativeLost & 0xffffff);
    writeUint32(bytes, at + 8, report.highestSequenceNumber);
    writeUint32(bytes, at + 12, report.jitter);
    writeUint32(bytes, at + 16, report.lastSenderReport);
    writeUint32(bytes, at + 20, report.delaySinceLastSenderReport);
  });
  return bytes;
}

/**
 * A sender report without report blocks: the router's SR towards a subscriber, pairing the
 * publisher's NTP time with the *rewritten* RTP timestamp so the subscriber can keep lip sync.
 */
export function buildSenderReport(fields: SenderReportFields): Uint8Array {
  checkSsrc(fields.ssrc, 'SSRC');
  checkUint(fields.ntpSeconds, 32, 'NTP seconds');
  checkUint(fields.ntpFraction, 32, 'NTP fraction');
  checkUint(fields.rtpTimestamp, 32, 'RTP timestamp');
  checkUint(fields.packetCount, 32, 'packet count');
  checkUint(fields.octetCount, 32, 'octet count');
  const bytes = new Uint8Array(28);
  writeHeader(bytes, 0, 0, RtcpPacketType.SenderReport, bytes.length);
  writeUint32(bytes, 4, fields.ssrc);
  writeUint32(bytes, 8, fields.ntpSeconds);
  writeUint32(bytes, 12, fields.ntpFraction);
  writeUint32(bytes, 16, fields.rtpTimestamp);
  writeUint32(bytes, 20, fields.packetCount);
  writeUint32(bytes, 24, fields.octetCount);
  return bytes;
}

/** The largest bitrate REMB can carry: an 18-bit mantissa shifted by a 6-bit exponent. */
export const MAX_REMB_BITRATE = 0x3ffff * 2 ** 63;

/**
 * A REMB (draft-alvestrand-rmcat-remb): the bitrate `ssrcs` may use together, in bits per
 * second. It is rounded down to what mantissa × 2^exponent can say (exact below 2^18).
 */
export function buildRemb(senderSsrc: number, bitrate: number, ssrcs: readonly number[]): Uint8Array {
  checkSsrc(senderSsrc, 'sender SSRC');
  if (!(bitrate >= 0 && bitrate <= MAX_REMB_BITRATE)) {
    throw RtpEncodeError.badValue(`bitrate ${bitrate} is not 0-${MAX_REMB_BITRATE}`);
  }
  if (ssrcs.length > 255) throw RtpEncodeError.tooMany('REMB SSRCs', ssrcs.length, 255);
  for (const ssrc of ssrcs) checkSsrc(ssrc, 'REMB SSRC');
  let exponent = 0;
  while (Math.floor(bitrate / 2 ** exponent) > 0x3ffff) exponent++;
  const mantissa = Math.floor(bitrate / 2 ** exponent);
  const bytes = new Uint8Array(FEEDBACK_HEADER_LENGTH + 8 + ssrcs.length * 4);
  writeHeader(bytes, 0, FeedbackFormat.ApplicationLayer, RtcpPacketType.PayloadFeedback, bytes.length);
  writeUint32(bytes, 4, senderSsrc);
  // Media SSRC stays 0: the SSRCs list says what the estimate is for.
  writeUint32(bytes, 12, REMB_IDENTIFIER);
  bytes[16] = ssrcs.length;
  writeUint24(bytes, 17, exponent * 0x40000 + mantissa);
  ssrcs.forEach((ssrc, i) => {
    writeUint32(bytes, 20 + i * 4, ssrc);
  });
  return bytes;
}

// --- Rewriting forwarded feedback in place ----------------------------------------------------

/** The end (after padding removal) of the feedback packet at `offset`, or -1 if it is not one we rewrite. */
function rewritableFeedbackEnd(bytes: Uint8Array, offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || bytes.length - offset < FEEDBACK_HEADER_LENGTH) return -1;
  const first = bytes[offset] ?? 0;
  const type = bytes[offset + 1] ?? 0;
  const format = first & 0x1f;
  if (first >> 6 !== 2) return -1;
  const isNack = type === RtcpPacketType.TransportFeedback && format === FeedbackFormat.Nack;
  const isPliOrFir =
    type === RtcpPacketType.PayloadFeedback && (format === FeedbackFormat.Pli || format === FeedbackFormat.Fir);
  if (!isNack && !isPliOrFir) return -1;
  const end = offset + (readUint16(bytes, offset + 2) + 1) * 4;
  if (end > bytes.length) return -1;
  const padding = (first & 0x20) !== 0 ? (bytes[end - 1] ?? 0) : 0;
  return end - offset - padding < FEEDBACK_HEADER_LENGTH ? -1 : end - padding;
}

/**
 * Points a forwarded PLI, FIR or NACK at another media stream, in place: the media SSRC of a PLI
 * or NACK, the SSRC of every FIR entry (a forwarded FIR targets one stream). `offset` is the
 * packet's offset in `bytes` (an item's `offset` from readRtcpCompound). False, and nothing
 * written, for any other packet. NACKed sequence numbers are not translated: use buildNack with
 * SequenceRewriter.unmap for that.
 */
export function rewriteMediaSsrc(bytes: Uint8Array, mediaSsrc: number, offset = 0): boolean {
  checkSsrc(mediaSsrc, 'media SSRC');
  const end = rewritableFeedbackEnd(bytes, offset);
  if (end < 0) return false;
  const isFir =
    bytes[offset + 1] === RtcpPacketType.PayloadFeedback && ((bytes[offset] ?? 0) & 0x1f) === FeedbackFormat.Fir;
  if (!isFir) {
    writeUint32(bytes, offset + 8, mediaSsrc);
    return true;
  }
  for (let at = offset + FEEDBACK_HEADER_LENGTH; at + FIR_ENTRY_LENGTH <= end; at += FIR_ENTRY_LENGTH) {
    writeUint32(bytes, at, mediaSsrc);
  }
  return true;
}

/**
 * Sets the sender SSRC of a forwarded PLI, FIR or NACK in place (the router's own SSRC toward the
 * publisher). False, and nothing written, for any other packet.
 */
export function rewriteSenderSsrc(bytes: Uint8Array, senderSsrc: number, offset = 0): boolean {
  checkSsrc(senderSsrc, 'sender SSRC');
  if (rewritableFeedbackEnd(bytes, offset) < 0) return false;
  writeUint32(bytes, offset + 4, senderSsrc);
  return true;
}
