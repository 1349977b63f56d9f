/**
 * Base of every error this package throws on purpose. `code` is stable (log it, match on it);
 * `message` is human text and may change. Subclasses add a `reason` enum (STYLE #6).
 */
export abstract class TurnError extends Error {
  abstract readonly code: string;

  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Why bytes are not an acceptable STUN message (or attribute value). Never reused or renamed:
 * - `too-short`: fewer than the 20 header bytes.
 * - `not-stun`: top two bits not zero or magic cookie absent (could be ChannelData, DTLS, RTP...).
 * - `bad-length`: the header's length field disagrees with the number of bytes received.
 * - `bad-padding`: the length is not a multiple of 4, so some attribute was left unpadded.
 * - `truncated-attribute`: an attribute header or value runs past the end of the message.
 * - `bad-attribute`: a known attribute's value is malformed (wrong size, family, class, UTF-8...).
 */
export type StunParseReason =
  | 'too-short'
  | 'not-stun'
  | 'bad-length'
  | 'bad-padding'
  | 'truncated-attribute'
  | 'bad-attribute';

/** The only exception decoding ever throws, whatever the input. */
export class StunParseError extends TurnError {
  readonly code = 'STUN_PARSE_ERROR';

  private constructor(
    readonly reason: StunParseReason,
    message: string,
  ) {
    super(message);
  }

  static tooShort(length: number): StunParseError {
    return new StunParseError('too-short', `${length} bytes is shorter than a STUN header`);
  }

  static notStun(why: string): StunParseError {
    return new StunParseError('not-stun', `not a STUN message: ${why}`);
  }

  static badLength(declared: number, actual: number): StunParseError {
    return new StunParseError('bad-length', `header declares ${declared} attribute bytes, ${actual} present`);
  }

  static badPadding(declared: number): StunParseError {
    return new StunParseError('bad-padding', `message length ${declared} is not a multiple of 4`);
  }

  static truncatedAttribute(type: number, offset: number): StunParseError {
    return new StunParseError('truncated-attribute', `attribute 0x${hex16(type)} at byte ${offset} is truncated`);
  }

  static badAttribute(type: number, why: string): StunParseError {
    return new StunParseError('bad-attribute', `attribute 0x${hex16(type)}: ${why}`);
  }
}

/**
 * Why the builder refused to write something (a programming error on our side, not peer input):
 * - `bad-transaction-id`: not exactly 12 bytes.
 * - `bad-method`: not an integer in 0x000-0xFFF.
 * - `bad-attribute-type`: not 0x0000-0xFFFF, or one only `build()` may write (integrity, fingerprint).
 * - `value-too-long`: an attribute value over 65535 bytes, a message over 65535, or a string over its RFC limit.
 * - `bad-value`: an invalid address, port, error code, or a string that is not well-formed Unicode.
 */
export type StunEncodeReason =
  | 'bad-transaction-id'
  | 'bad-method'
  | 'bad-attribute-type'
  | 'value-too-long'
  | 'bad-value';

export class StunEncodeError extends TurnError {
  readonly code = 'STUN_ENCODE_ERROR';

  private constructor(
    readonly reason: StunEncodeReason,
    message: string,
  ) {
    super(message);
  }

  static badTransactionId(length: number): StunEncodeError {
    return new StunEncodeError('bad-transaction-id', `transaction id must be 12 bytes, got ${length}`);
  }

  static badMethod(method: number): StunEncodeError {
    return new StunEncodeError('bad-method', `method ${method} is not in 0x000-0xFFF`);
  }

  static badAttributeType(type: number, why: string): StunEncodeError {
    return new StunEncodeError('bad-attribute-type', `attribute type ${type}: ${why}`);
  }

  static valueTooLong(what: string, limit: string): StunEncodeError {
    return new StunEncodeError('value-too-long', `${what} exceeds ${limit}`);
  }

  static badValue(what: string): StunEncodeError {
    return new StunEncodeError('bad-value', what);
  }
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, '0');
}
