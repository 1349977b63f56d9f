/*
 * Byte helpers that behave the same for a plain Uint8Array and a Node Buffer. Buffer#slice
 * returns a view (not a copy) and dgram hands out Buffers from a shared pool, so never call
 * .slice() on caller bytes and never build a DataView from `.buffer` without `byteOffset`.
 */

/** An independent plain Uint8Array copy of `bytes[start, end)`. */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

export function readUint16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

export function readUint32(bytes: Uint8Array, offset: number): number {
  return (readUint16(bytes, offset) * 0x10000 + readUint16(bytes, offset + 2)) >>> 0;
}
