/*
 * Serial number arithmetic (RFC 1982) for RTP's 16-bit sequence numbers and 32-bit timestamps:
 * "a is newer than b" when a is less than half the number space ahead of b. At exactly half the
 * space RFC 1982 leaves the order undefined; we call it older, so it is never taken as progress.
 */

/** The signed distance from `b` to `a` in [-2^15, 2^15): positive when `a` is newer. */
export function sequenceDelta(a: number, b: number): number {
  const delta = (a - b) & 0xffff;
  return delta >= 0x8000 ? delta - 0x10000 : delta;
}

/** True when sequence number `a` comes after `b` (RFC 1982, 16 bits). */
export function isNewerSequence(a: number, b: number): boolean {
  return sequenceDelta(a, b) > 0;
}

/** The signed distance from `b` to `a` in [-2^31, 2^31): positive when timestamp `a` is newer. */
export function timestampDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** True when RTP timestamp `a` comes after `b` (RFC 1982, 32 bits). */
export function isNewerTimestamp(a: number, b: number): boolean {
  return timestampDelta(a, b) > 0;
}
