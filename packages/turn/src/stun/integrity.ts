import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { copyBytes } from './bytes.js';
import { AttributeType, FINGERPRINT_XOR, HEADER_LENGTH } from './constants.js';
import { crc32 } from './crc32.js';
import { type RawAttribute, scanStunMessage } from './message.js';

const MESSAGE_INTEGRITY_LENGTH = 20;

/**
 * Long-term credential key, RFC 8489 §9.2.2: MD5(username ":" realm ":" password).
 * TODO(SASLprep): the RFC runs username and password through OpaqueString (RFC 8265) and realm
 * through SASLprep first. We hash the UTF-8 as given, which is exact for ASCII, and our own TURN
 * REST credentials are ASCII; callers with non-ASCII input must pass it already prepared.
 */
export function longTermKey(username: string, realm: string, password: string): Uint8Array {
  return new Uint8Array(createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest());
}

/** Short-term credential key, RFC 8489 §9.1.1: the password itself (same SASLprep TODO as above). */
export function shortTermKey(password: string): Uint8Array {
  return new TextEncoder().encode(password);
}

/**
 * HMAC-SHA1 for a MESSAGE-INTEGRITY whose header starts at `offset` (§14.5): over the bytes before
 * it, with the header length rewritten as if the message ended right after MESSAGE-INTEGRITY.
 */
export function computeMessageIntegrity(bytes: Uint8Array, offset: number, key: Uint8Array): Uint8Array {
  const header = copyBytes(bytes, 0, HEADER_LENGTH);
  new DataView(header.buffer).setUint16(2, offset - HEADER_LENGTH + 4 + MESSAGE_INTEGRITY_LENGTH);
  return new Uint8Array(createHmac('sha1', key).update(header).update(bytes.subarray(HEADER_LENGTH, offset)).digest());
}

/** FINGERPRINT value for an attribute header starting at `offset` (§14.7); the length field already counts it. */
export function computeFingerprint(bytes: Uint8Array, offset: number): number {
  return (crc32(bytes.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0;
}

/**
 * True when the first MESSAGE-INTEGRITY of the raw received `bytes` is the HMAC under `key`.
 * False for anything else: no attribute, wrong size, bad key, or bytes that are not STUN at all.
 * Attributes after it do not matter (only FINGERPRINT may legitimately follow). Constant time.
 */
export function verifyMessageIntegrity(bytes: Uint8Array, key: Uint8Array): boolean {
  const mi = scanOrNull(bytes)?.find((a) => a.type === AttributeType.MessageIntegrity);
  if (!mi || mi.length !== MESSAGE_INTEGRITY_LENGTH) return false;
  const expected = computeMessageIntegrity(bytes, mi.offset, key);
  const actual = bytes.subarray(mi.offset + 4, mi.offset + 4 + MESSAGE_INTEGRITY_LENGTH);
  return timingSafeEqual(expected, actual);
}

/** True when the message ends with a FINGERPRINT matching the CRC-32 of everything before it. */
export function verifyFingerprint(bytes: Uint8Array): boolean {
  const last = scanOrNull(bytes)?.at(-1);
  if (!last || last.type !== AttributeType.Fingerprint || last.length !== 4) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(last.offset + 4) === computeFingerprint(bytes, last.offset);
}

function scanOrNull(bytes: Uint8Array): RawAttribute[] | null {
  try {
    return scanStunMessage(bytes);
  } catch {
    return null; // only StunParseError can come out of the scan; "not verified" is the answer
  }
}
