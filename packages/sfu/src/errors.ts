/**
 * Base of every error this package throws on purpose. `code` is stable (log it, match on it);
 * `message` is human text and may change. Subclasses add a `reason` enum (STYLE #6).
 *
 * Parsing received bytes never throws: parsers return typed failures (`RtpParseFailure`, an RTCP
 * walk's `reason`) because malformed input is normal traffic to drop and count, and an exception
 * per packet (with its stack capture) would make a flood of garbage expensive.
 */
export abstract class SfuError extends Error {
  abstract readonly code: string;

  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Why a builder or an in-place rewrite refused to write (a programming error on our side, never
 * peer input). Never reused or renamed:
 * - `bad-value`: a number outside its field (an SSRC over 32 bits, a payload type over 127, a
 *   fraction over 255...), an empty list where the RFC needs one entry, or bytes too short to be
 *   the packet the rewrite expects.
 * - `too-many`: more entries than the packet's count field holds (31 report blocks, 255 REMB SSRCs).
 */
export type RtpEncodeReason = 'bad-value' | 'too-many';

export class RtpEncodeError extends SfuError {
  readonly code = 'RTP_ENCODE_ERROR';

  private constructor(
    readonly reason: RtpEncodeReason,
    message: string,
  ) {
    super(message);
  }

  static badValue(what: string): RtpEncodeError {
    return new RtpEncodeError('bad-value', what);
  }

  static tooMany(what: string, count: number, limit: number): RtpEncodeError {
    return new RtpEncodeError('too-many', `${count} ${what}, at most ${limit} fit`);
  }
}
