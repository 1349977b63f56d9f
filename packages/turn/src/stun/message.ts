import {
  decodeAddress,
  decodeErrorCode,
  decodeText,
  decodeUnknownAttributes,
  type StunAddress,
  type StunErrorCode,
} from './attributes.js';
import { copyBytes, readUint16, readUint32 } from './bytes.js';
import {
  AttributeType,
  HEADER_LENGTH,
  isComprehensionRequired,
  MAGIC_COOKIE,
  type StunClass,
  TRANSACTION_ID_LENGTH,
} from './constants.js';
import { StunParseError } from './errors.js';
import { decodeMessageType } from './message-type.js';

export interface StunAttribute {
  type: number;
  /** The value without padding (a copy: the caller may reuse its receive buffer). */
  value: Uint8Array;
}

/** Where an attribute sits in the raw bytes; integrity checks need the offsets. */
export interface RawAttribute {
  type: number;
  /** Offset of the 4-byte attribute header from the start of the message. */
  offset: number;
  length: number;
}

/**
 * Cheap demultiplexing test (RFC 7983): first byte 0x00-0x3F (top two bits zero), a whole header,
 * the magic cookie. ChannelData (0x40-0x7F), DTLS (0x14-0x3F never carries the cookie) and RTP
 * (0x80-0xBF) answer false. ChannelData is decoded by ../turn/channel-data.ts.
 */
export function isStunMessage(bytes: Uint8Array): boolean {
  return (
    bytes.length >= HEADER_LENGTH &&
    ((bytes[0] ?? 0xff) & 0xc0) === 0 &&
    readUint32(bytes, 4) === MAGIC_COOKIE &&
    readUint16(bytes, 2) === bytes.length - HEADER_LENGTH
  );
}

/**
 * Validates the header and walks the attribute list; the one structural parser both decoding and
 * integrity checks use. Bounded by the 16-bit length field: at most 16384 iterations, no recursion.
 */
export function scanStunMessage(bytes: Uint8Array): RawAttribute[] {
  if (bytes.length < HEADER_LENGTH) throw StunParseError.tooShort(bytes.length);
  if (((bytes[0] ?? 0) & 0xc0) !== 0) throw StunParseError.notStun('top two bits are not zero');
  if (readUint32(bytes, 4) !== MAGIC_COOKIE) throw StunParseError.notStun('no magic cookie');
  const length = readUint16(bytes, 2);
  if (length % 4 !== 0) throw StunParseError.badPadding(length);
  if (length !== bytes.length - HEADER_LENGTH) throw StunParseError.badLength(length, bytes.length - HEADER_LENGTH);
  const attributes: RawAttribute[] = [];
  let offset = HEADER_LENGTH;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw StunParseError.truncatedAttribute(readUint16(bytes, offset), offset);
    const type = readUint16(bytes, offset);
    const valueLength = readUint16(bytes, offset + 2);
    // With a 4-aligned total, a value that fits always has room for its padding too.
    if (offset + 4 + valueLength > bytes.length) throw StunParseError.truncatedAttribute(type, offset);
    attributes.push({ type, offset, length: valueLength });
    offset += 4 + padded(valueLength);
  }
  return attributes;
}

/** Decodes one whole STUN message (a UDP datagram, or one framed TCP message). */
export function decodeStunMessage(bytes: Uint8Array): StunMessage {
  const raw = scanStunMessage(bytes);
  const type = readUint16(bytes, 0);
  const { cls, method } = decodeMessageType(type);
  const transactionId = copyBytes(bytes, 8, 8 + TRANSACTION_ID_LENGTH);
  const attributes: StunAttribute[] = [];
  for (const a of authenticatedPart(raw)) {
    attributes.push({ type: a.type, value: copyBytes(bytes, a.offset + 4, a.offset + 4 + a.length) });
  }
  return new StunMessage(type, cls, method, transactionId, attributes);
}

/**
 * RFC 8489 §14.5-14.7: after MESSAGE-INTEGRITY(-SHA256) only MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT count, and FINGERPRINT is last. Anything else there is unauthenticated: drop it so
 * no getter can ever return it.
 */
function authenticatedPart(raw: readonly RawAttribute[]): RawAttribute[] {
  const kept: RawAttribute[] = [];
  let integritySeen = false;
  for (const a of raw) {
    if (a.type === AttributeType.Fingerprint) {
      kept.push(a);
      break;
    }
    if (integritySeen && a.type !== AttributeType.MessageIntegritySha256) continue;
    if (a.type === AttributeType.MessageIntegrity || a.type === AttributeType.MessageIntegritySha256) {
      integritySeen = true;
    }
    kept.push(a);
  }
  return kept;
}

/**
 * A decoded message. Getters read the first occurrence of an attribute (RFC 8489 §14: later
 * duplicates are ignored), return undefined when it is absent, and throw
 * StunParseError('bad-attribute') when it is present but malformed.
 */
export class StunMessage {
  constructor(
    /** The raw 14-bit message type. */
    readonly type: number,
    readonly cls: StunClass,
    readonly method: number,
    readonly transactionId: Uint8Array,
    /** In wire order, minus what follows MESSAGE-INTEGRITY (see decodeStunMessage). */
    readonly attributes: readonly StunAttribute[],
  ) {}

  /** The value of the first attribute of `type`. */
  get(type: number): Uint8Array | undefined {
    return this.attributes.find((a) => a.type === type)?.value;
  }

  has(type: number): boolean {
    return this.attributes.some((a) => a.type === type);
  }

  get xorMappedAddress(): StunAddress | undefined {
    const value = this.get(AttributeType.XorMappedAddress);
    return value && decodeAddress(AttributeType.XorMappedAddress, value, this.transactionId);
  }

  get mappedAddress(): StunAddress | undefined {
    const value = this.get(AttributeType.MappedAddress);
    return value && decodeAddress(AttributeType.MappedAddress, value);
  }

  /** Every XOR-PEER-ADDRESS, in order: CreatePermission may carry several (RFC 8656 §9.1). */
  get xorPeerAddresses(): StunAddress[] {
    return this.attributes
      .filter((a) => a.type === AttributeType.XorPeerAddress)
      .map((a) => decodeAddress(AttributeType.XorPeerAddress, a.value, this.transactionId));
  }

  get xorRelayedAddress(): StunAddress | undefined {
    const value = this.get(AttributeType.XorRelayedAddress);
    return value && decodeAddress(AttributeType.XorRelayedAddress, value, this.transactionId);
  }

  /** LIFETIME in seconds (RFC 8656 §18.2). */
  get lifetime(): number | undefined {
    return this.uint32(AttributeType.Lifetime);
  }

  /** CHANNEL-NUMBER (RFC 8656 §18.1): 16-bit number, then 16 reserved bits. */
  get channelNumber(): number | undefined {
    const value = this.get(AttributeType.ChannelNumber);
    if (!value) return undefined;
    if (value.length !== 4) throw StunParseError.badAttribute(AttributeType.ChannelNumber, `${value.length} bytes`);
    return readUint16(value, 0);
  }

  /** REQUESTED-TRANSPORT protocol number (RFC 8656 §18.7; 17 is UDP). */
  get requestedTransport(): number | undefined {
    const value = this.get(AttributeType.RequestedTransport);
    if (!value) return undefined;
    if (value.length !== 4)
      throw StunParseError.badAttribute(AttributeType.RequestedTransport, `${value.length} bytes`);
    return value[0];
  }

  /** REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.8): 0x01 IPv4, 0x02 IPv6; other values are returned as is. */
  get requestedAddressFamily(): number | undefined {
    const value = this.get(AttributeType.RequestedAddressFamily);
    if (!value) return undefined;
    if (value.length !== 4) {
      throw StunParseError.badAttribute(AttributeType.RequestedAddressFamily, `${value.length} bytes`);
    }
    return value[0];
  }

  /** DATA (RFC 8656 §18.4): the application bytes of a Send or Data indication. */
  get data(): Uint8Array | undefined {
    return this.get(AttributeType.Data);
  }

  get username(): string | undefined {
    return this.text(AttributeType.Username, 'username');
  }

  get realm(): string | undefined {
    return this.text(AttributeType.Realm, 'text');
  }

  get nonce(): string | undefined {
    return this.text(AttributeType.Nonce, 'text');
  }

  /** Decoded for logs and interop tests only; we never send SOFTWARE (SECURITY.md). */
  get software(): string | undefined {
    return this.text(AttributeType.Software, 'text');
  }

  get errorCode(): StunErrorCode | undefined {
    const value = this.get(AttributeType.ErrorCode);
    return value && decodeErrorCode(AttributeType.ErrorCode, value);
  }

  get unknownAttributes(): number[] | undefined {
    const value = this.get(AttributeType.UnknownAttributes);
    return value && decodeUnknownAttributes(AttributeType.UnknownAttributes, value);
  }

  /** The 20-byte HMAC; check it with verifyMessageIntegrity on the raw bytes. */
  get messageIntegrity(): Uint8Array | undefined {
    return this.get(AttributeType.MessageIntegrity);
  }

  /** Recognized, not verified yet (RFC 8489 §14.6; browsers still use SHA-1 MESSAGE-INTEGRITY). */
  get messageIntegritySha256(): Uint8Array | undefined {
    return this.get(AttributeType.MessageIntegritySha256);
  }

  get fingerprint(): number | undefined {
    return this.uint32(AttributeType.Fingerprint);
  }

  /**
   * Comprehension-required types (0x0000-0x7FFF) not in `known`, deduplicated in wire order:
   * what a server lists in UNKNOWN-ATTRIBUTES when it answers 420.
   */
  unknownComprehensionRequired(known: ReadonlySet<number>): number[] {
    const unknown = new Set<number>();
    for (const { type } of this.attributes) {
      if (isComprehensionRequired(type) && !known.has(type)) unknown.add(type);
    }
    return [...unknown];
  }

  private uint32(type: number): number | undefined {
    const value = this.get(type);
    if (!value) return undefined;
    if (value.length !== 4) throw StunParseError.badAttribute(type, `${value.length} bytes`);
    return readUint32(value, 0);
  }

  private text(type: number, kind: 'username' | 'text'): string | undefined {
    const value = this.get(type);
    return value && decodeText(type, value, kind);
  }
}

export function padded(length: number): number {
  return (length + 3) & ~3;
}
