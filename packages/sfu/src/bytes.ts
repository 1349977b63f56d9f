/*
 * Byte helpers that behave the same for a plain Uint8Array and a Node Buffer. node-datachannel
 * hands out Buffers, and Buffer#slice returns a view: never call .slice() on packet bytes and never
 * build a DataView from `.buffer` without `byteOffset`. Reads past the end give 0 (callers check
 * lengths first; the fallback only keeps types honest under noUncheckedIndexedAccess).
 */
import { RtpEncodeError } from './errors.js';

export function readUint16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

export function readUint24(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 16) | ((bytes[offset + 1] ?? 0) << 8) | (bytes[offset + 2] ?? 0);
}

/** Two's-complement 24-bit (RTCP's cumulative number of packets lost can be negative). */
export function readInt24(bytes: Uint8Array, offset: number): number {
  return (readUint24(bytes, offset) << 8) >> 8;
}

export function readUint32(bytes: Uint8Array, offset: number): number {
  return (readUint16(bytes, offset) * 0x10000 + readUint16(bytes, offset + 2)) >>> 0;
}

export function writeUint16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value;
}

export function writeUint24(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 16;
  bytes[offset + 1] = value >>> 8;
  bytes[offset + 2] = value;
}

export function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

/** 2^bits for bits 0-53: a lookup, because `2 ** bits` is a pow() call on every forwarded packet. */
const UINT_LIMITS = Array.from({ length: 54 }, (_, bits) => 2 ** bits);

/** Whether `value` is an integer in [0, 2^bits). */
export function isUint(value: number, bits: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < (UINT_LIMITS[bits] ?? 2 ** bits);
}

/** Throws RtpEncodeError('bad-value') unless `value` is an integer in [0, 2^bits). */
export function checkUint(value: number, bits: number, what: string): void {
  if (!isUint(value, bits)) {
    throw RtpEncodeError.badValue(`${what} ${value} is not a ${bits}-bit unsigned integer`);
  }
}
