import type { StunClass } from './constants.js';
import { StunEncodeError } from './errors.js';

/*
 * RFC 8489 §5: the 14-bit message type interleaves 12 method bits (M11..M0) with two class bits:
 *
 *   13 12 11 10  9  8  7  6  5  4  3  2  1  0
 *   M11 M10 M9 M8 M7 C1 M6 M5 M4 C0 M3 M2 M1 M0
 */

export function encodeMessageType(cls: StunClass, method: number): number {
  if (!Number.isInteger(method) || method < 0 || method > 0xfff) throw StunEncodeError.badMethod(method);
  return (
    ((method & 0xf80) << 2) | ((method & 0x070) << 1) | (method & 0x00f) | ((cls & 0b10) << 7) | ((cls & 0b01) << 4)
  );
}

export function decodeMessageType(type: number): { cls: StunClass; method: number } {
  const method = ((type >> 2) & 0xf80) | ((type >> 1) & 0x070) | (type & 0x00f);
  const cls = (((type >> 7) & 0b10) | ((type >> 4) & 0b01)) as StunClass;
  return { cls, method };
}
