/*
 * The RTP header (RFC 3550 §5.1) with RFC 8285 header extensions: read without copying, rewritten
 * in place. This is the forwarding hot path (every packet, every subscriber), so:
 * - readRtpHeader returns a typed failure instead of throwing: garbage is normal traffic to drop
 *   and count, and the failures are shared frozen objects, so a flood of it allocates nothing;
 * - a parsed header is one small object; payload and extension values are views into the packet;
 * - rewriteRtpHeader writes the fields into the caller's bytes, no new packet.
 */
import { checkUint, readUint16, readUint32, writeUint16, writeUint32 } from '../bytes.js';
import { RtpEncodeError } from '../errors.js';
import { RTP_FIXED_HEADER_LENGTH } from './demux.js';

/**
 * Why bytes are not an acceptable RTP packet. Never reused or renamed:
 * - `too-short`: fewer than the 12 bytes of the fixed header.
 * - `bad-version`: the version field is not 2.
 * - `bad-csrc`: the CSRC count asks for more CSRC identifiers than the packet holds.
 * - `bad-extension`: the X bit is set but the extension header or its declared length runs past
 *   the end, or an RFC 8285 element runs past the extension block.
 * - `bad-padding`: the P bit is set but the padding count is 0 or larger than what follows the header.
 */
export type RtpParseReason = 'too-short' | 'bad-version' | 'bad-csrc' | 'bad-extension' | 'bad-padding';

/** A rejected packet; `reason` says why. The same frozen object for every packet with that reason. */
export interface RtpParseFailure {
  readonly ok: false;
  readonly reason: RtpParseReason;
}

const failure = (reason: RtpParseReason): RtpParseFailure => Object.freeze({ ok: false, reason });
const TOO_SHORT = failure('too-short');
const BAD_VERSION = failure('bad-version');
const BAD_CSRC = failure('bad-csrc');
const BAD_EXTENSION = failure('bad-extension');
const BAD_PADDING = failure('bad-padding');

/** "Defined by profile" value of the RFC 8285 one-byte header form (§4.2). */
export const ONE_BYTE_EXTENSION_PROFILE = 0xbede;
/** "Defined by profile" value of the RFC 8285 two-byte form is 0x100 followed by 4 app bits (§4.3). */
export const TWO_BYTE_EXTENSION_PROFILE = 0x1000;

/** How the extension block is laid out: absent, one of RFC 8285's two forms, or another profile's. */
export type RtpExtensionForm = 'none' | 'one-byte' | 'two-byte' | 'other';

// Results of the element walk below; a non-negative result is the element's data offset.
const NOT_FOUND = -1;
const MALFORMED = -2;
// Matches no element: the walk then only validates.
const ANY_ELEMENT = -1;

/**
 * Walks the RFC 8285 elements in bytes[start, end) and returns the data offset of element `id`,
 * NOT_FOUND, or MALFORMED when an element overruns the block. The data length sits in the byte
 * before the data: (low nibble + 1) in the one-byte form, the whole byte in the two-byte form.
 */
function findElement(bytes: Uint8Array, start: number, end: number, twoByte: boolean, id: number): number {
  let offset = start;
  while (offset < end) {
    const first = bytes[offset] ?? 0;
    if (first === 0) {
      offset++; // padding byte, allowed anywhere between elements (§4.1)
      continue;
    }
    let elementId: number;
    let dataOffset: number;
    let dataLength: number;
    if (twoByte) {
      // An ID in the block's last byte has its length byte outside: dataOffset alone passes `end`.
      elementId = first;
      dataOffset = offset + 2;
      dataLength = bytes[offset + 1] ?? 0;
    } else {
      elementId = first >> 4;
      // ID 15: stop here and use only the elements before it (§4.2). ID 0 with a non-zero length
      // is no valid element either; libwebrtc stops there too rather than dropping the packet.
      if (elementId === 15 || elementId === 0) return NOT_FOUND;
      dataOffset = offset + 1;
      dataLength = (first & 0x0f) + 1;
    }
    if (dataOffset + dataLength > end) return MALFORMED;
    if (elementId === id) return dataOffset;
    offset = dataOffset + dataLength;
  }
  return NOT_FOUND;
}

/**
 * A parsed RTP header. Field values are read once at parse time, so they stay the received values
 * after rewriteRtpHeader changes the bytes (the router rewrites one buffer per subscriber and needs
 * the originals each time). `payload` and `extension()` are views into `packet`: they see later
 * in-place writes, and they are only valid while the caller's buffer is.
 */
export class RtpHeader {
  readonly ok = true;
  /** Always 2: anything else is refused as `bad-version`. */
  readonly version: number;
  readonly padding: boolean;
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcCount: number;
  /** The extension's "defined by profile" field, undefined without the X bit. */
  readonly extensionProfile: number | undefined;
  readonly extensionForm: RtpExtensionForm;
  /** The payload's offset: fixed header, CSRCs and extension block. */
  readonly payloadOffset: number;
  /** Payload bytes without the padding. */
  readonly payloadLength: number;
  /** Padding bytes at the end, count byte included (0 without the P bit). */
  readonly paddingLength: number;

  /** Made by readRtpHeader after validation; the extension offsets bound the element data. */
  constructor(
    readonly packet: Uint8Array,
    headerLength: number,
    extensionProfile: number | undefined,
    extensionForm: RtpExtensionForm,
    private readonly extensionStart: number,
    private readonly extensionEnd: number,
    paddingLength: number,
  ) {
    const first = packet[0] ?? 0;
    const second = packet[1] ?? 0;
    this.version = first >> 6;
    this.padding = (first & 0x20) !== 0;
    this.csrcCount = first & 0x0f;
    this.marker = (second & 0x80) !== 0;
    this.payloadType = second & 0x7f;
    this.sequenceNumber = readUint16(packet, 2);
    this.timestamp = readUint32(packet, 4);
    this.ssrc = readUint32(packet, 8);
    this.extensionProfile = extensionProfile;
    this.extensionForm = extensionForm;
    this.payloadOffset = headerLength;
    this.paddingLength = paddingLength;
    this.payloadLength = packet.length - headerLength - paddingLength;
  }

  /** Fixed header, CSRC list and extension block: where the payload starts. */
  get headerLength(): number {
    return this.payloadOffset;
  }

  /** The payload without padding, as a view. */
  get payload(): Uint8Array {
    return this.packet.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** The CSRC at `index` (0-based), or undefined past csrcCount. */
  csrc(index: number): number | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.csrcCount) return undefined;
    return readUint32(this.packet, RTP_FIXED_HEADER_LENGTH + index * 4);
  }

  /**
   * The data of RFC 8285 extension element `id` (1-14 in the one-byte form, 1-255 in the
   * two-byte form) as a view into the packet, or undefined when absent or the block is not RFC 8285.
   * With duplicates the first element wins. IDs are negotiated per session (SDP `a=extmap`).
   */
  extension(id: number): Uint8Array | undefined {
    const twoByte = this.extensionForm === 'two-byte';
    if (!twoByte && this.extensionForm !== 'one-byte') return undefined;
    if (!Number.isInteger(id) || id < 1 || id > (twoByte ? 255 : 14)) return undefined;
    const dataOffset = findElement(this.packet, this.extensionStart, this.extensionEnd, twoByte, id);
    if (dataOffset < 0) return undefined;
    const lengthByte = this.packet[dataOffset - 1] ?? 0;
    return this.packet.subarray(dataOffset, dataOffset + (twoByte ? lengthByte : (lengthByte & 0x0f) + 1));
  }
}

/**
 * Parses and validates an RTP header, never throwing: a `RtpHeader` (`ok: true`) or a
 * `RtpParseFailure` (`ok: false`, a typed `reason`). Checks version, CSRC list, extension block
 * (RFC 8285 elements included) and padding against the packet length; the payload is not looked at.
 */
export function readRtpHeader(bytes: Uint8Array): RtpHeader | RtpParseFailure {
  const length = bytes.length;
  if (length < RTP_FIXED_HEADER_LENGTH) return TOO_SHORT;
  const first = bytes[0] ?? 0;
  if (first >> 6 !== 2) return BAD_VERSION;
  let offset = RTP_FIXED_HEADER_LENGTH + (first & 0x0f) * 4;
  if (offset > length) return BAD_CSRC;

  let extensionProfile: number | undefined;
  let extensionForm: RtpExtensionForm = 'none';
  let extensionStart = offset;
  let extensionEnd = offset;
  if ((first & 0x10) !== 0) {
    if (offset + 4 > length) return BAD_EXTENSION;
    extensionProfile = readUint16(bytes, offset);
    extensionStart = offset + 4;
    extensionEnd = extensionStart + readUint16(bytes, offset + 2) * 4;
    if (extensionEnd > length) return BAD_EXTENSION;
    if (extensionProfile === ONE_BYTE_EXTENSION_PROFILE) extensionForm = 'one-byte';
    else if ((extensionProfile & 0xfff0) === TWO_BYTE_EXTENSION_PROFILE) extensionForm = 'two-byte';
    else extensionForm = 'other';
    if (
      extensionForm !== 'other' &&
      findElement(bytes, extensionStart, extensionEnd, extensionForm === 'two-byte', ANY_ELEMENT) === MALFORMED
    ) {
      return BAD_EXTENSION;
    }
    offset = extensionEnd;
  }

  let paddingLength = 0;
  if ((first & 0x20) !== 0) {
    // The count byte includes itself (RFC 3550 §5.1), so 0 is invalid; padding-only packets
    // (libwebrtc's bandwidth probes) have count = everything after the header.
    paddingLength = offset < length ? (bytes[length - 1] ?? 0) : 0;
    if (paddingLength === 0 || paddingLength > length - offset) return BAD_PADDING;
  }
  return new RtpHeader(bytes, offset, extensionProfile, extensionForm, extensionStart, extensionEnd, paddingLength);
}

/** Header fields rewriteRtpHeader may change; absent fields keep their bytes. */
export interface RtpHeaderRewrite {
  ssrc?: number;
  payloadType?: number;
  sequenceNumber?: number;
  timestamp?: number;
  marker?: boolean;
}

/**
 * Writes the given fields into `packet` in place (a forwarded packet per subscriber: its SSRC,
 * negotiated payload type, continuous sequence number and timestamp). Throws
 * RtpEncodeError('bad-value') for a value outside its field, a payload type of 64-95 (they collide
 * with RTCP under rtcp-mux, RFC 5761 §4), or bytes that are not at least an RTP v2 fixed header.
 */
export function rewriteRtpHeader(packet: Uint8Array, fields: RtpHeaderRewrite): void {
  if (packet.length < RTP_FIXED_HEADER_LENGTH || ((packet[0] ?? 0) & 0xc0) !== 0x80) {
    throw RtpEncodeError.badValue(`${packet.length} bytes are not an RTP version 2 header`);
  }
  const { ssrc, payloadType, sequenceNumber, timestamp, marker } = fields;
  // Check everything before writing anything, so a refused rewrite leaves the packet untouched.
  if (payloadType !== undefined) {
    checkUint(payloadType, 7, 'payload type');
    if (payloadType >= 64 && payloadType <= 95) {
      throw RtpEncodeError.badValue(`payload type ${payloadType} collides with RTCP (RFC 5761 §4)`);
    }
  }
  if (sequenceNumber !== undefined) checkUint(sequenceNumber, 16, 'sequence number');
  if (timestamp !== undefined) checkUint(timestamp, 32, 'timestamp');
  if (ssrc !== undefined) checkUint(ssrc, 32, 'SSRC');

  if (payloadType !== undefined || marker !== undefined) {
    const second = packet[1] ?? 0;
    const markerBit = marker === undefined ? second & 0x80 : marker ? 0x80 : 0;
    packet[1] = markerBit | (payloadType ?? second & 0x7f);
  }
  if (sequenceNumber !== undefined) writeUint16(packet, 2, sequenceNumber);
  if (timestamp !== undefined) writeUint32(packet, 4, timestamp);
  if (ssrc !== undefined) writeUint32(packet, 8, ssrc);
}
