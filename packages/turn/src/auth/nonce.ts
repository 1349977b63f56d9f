import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { parseIp } from '../stun/ip.js';

/*
 * Stateless NONCEs (SECURITY.md: no per-client state before authentication). The nonce carries its
 * issue time and a MAC binding that time to the client's IP, so checking it needs only the secret:
 * a flood of unauthenticated requests costs one HMAC each and no memory.
 */

/** `valid`: use it. `stale`: authentic but too old (438 + a fresh nonce). `invalid`: 401 + a fresh nonce. */
export type NonceVerdict = 'valid' | 'stale' | 'invalid';

const TIME_BYTES = 8;
const MAC_BYTES = 12; // 96 bits: each online guess succeeds with probability 2^-96
const NONCE_BYTES = TIME_BYTES + MAC_BYTES;
// 20 bytes → 27 base64url characters, no padding: far under STUN's 127, and A-Z a-z 0-9 - _ are all
// qdtext (RFC 8489 §14.10). The top 16 bits of a millisecond time stay 0 until the year 10889, so a
// nonce starts with "AA" and can never begin with the "obMatJos2" security-feature cookie (§9.2).
const NONCE_CHARS = Math.ceil((NONCE_BYTES * 8) / 6);
const NONCE_PATTERN = /^[A-Za-z0-9_-]+$/;
const MAX_FUTURE_MS = 5_000;
const MIN_SECRET_BYTES = 16;

/** Issues and checks nonces bound to a client IP and an issue time; the only state is the secret. */
export class StatelessNonces {
  private readonly key: KeyObject;

  /**
   * `secret`: at least 16 random bytes, shared by every process that must accept the nonces (copied).
   * `lifetimeMs`: how long a nonce stays `valid`. Throws a RangeError for either out of range.
   */
  constructor(
    secret: Uint8Array,
    private readonly lifetimeMs = 10 * 60_000,
  ) {
    if (secret.length < MIN_SECRET_BYTES) throw new RangeError(`nonce secret must be ≥ ${MIN_SECRET_BYTES} bytes`);
    if (!Number.isInteger(lifetimeMs) || lifetimeMs <= 0) {
      throw new RangeError(`lifetimeMs ${lifetimeMs} must be a positive integer`);
    }
    this.key = createSecretKey(Buffer.from(secret)); // Buffer.from copies
  }

  /**
   * A nonce bound to the client's IP and the issue time: base64url(issuedAtMs as 8 bytes || first
   * 12 bytes of HMAC-SHA256(secret, issuedAt || ip)). Must fit STUN's 127-char NONCE limit and use
   * only characters legal in a quoted-string (RFC 8489 NONCE). Throws a RangeError for an
   * unparsable `clientIp` or a time that is not a non-negative finite number (our bugs, not input).
   */
  issue(clientIp: string, nowMs: number): string {
    if (!Number.isFinite(nowMs) || nowMs < 0) throw new RangeError(`nowMs ${nowMs} is not a time`);
    const out = Buffer.alloc(NONCE_BYTES);
    out.writeBigUInt64BE(BigInt(Math.floor(nowMs)));
    this.mac(out.subarray(0, TIME_BYTES), ipBytes(clientIp)).copy(out, TIME_BYTES);
    return out.toString('base64url');
  }

  /**
   * 'stale' when well-formed and authentic but older than lifetime (answer 438 with a fresh
   * nonce); 'invalid' for anything forged, malformed, bound to another IP, or issued in the future
   * (more than 5 s ahead). Constant-time MAC comparison.
   */
  check(nonce: string, clientIp: string, nowMs: number): NonceVerdict {
    if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs ${nowMs} is not a time`);
    const ip = ipBytes(clientIp);
    if (nonce.length !== NONCE_CHARS || !NONCE_PATTERN.test(nonce)) return 'invalid';
    const bytes = Buffer.from(nonce, 'base64url');
    // The last character carries 2 unused bits the decoder ignores: insist on the one spelling we issue.
    if (bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce) return 'invalid';
    const time = bytes.subarray(0, TIME_BYTES);
    if (!timingSafeEqual(this.mac(time, ip), bytes.subarray(TIME_BYTES))) return 'invalid';
    // Authentic from here on, so the time is one we wrote (≤ 2^53).
    const issuedAt = Number(time.readBigUInt64BE());
    if (issuedAt > nowMs + MAX_FUTURE_MS) return 'invalid';
    return nowMs - issuedAt > this.lifetimeMs ? 'stale' : 'valid';
  }

  private mac(time: Uint8Array, ip: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(time).update(ip).digest().subarray(0, MAC_BYTES);
  }
}

/**
 * The client's IP as bytes, IPv4-mapped folded to 4 bytes: a dual-stack UDP socket reports
 * "::ffff:1.2.3.4" where an IPv4 TCP socket reports "1.2.3.4" for the same client, and any
 * spelling of one address must give the same nonce. Lengths 4 and 16 keep the MAC input unambiguous.
 */
function ipBytes(clientIp: string): Uint8Array {
  const bytes = parseIp(clientIp);
  if (!bytes) throw new RangeError(`clientIp "${clientIp}" is not an IP address`);
  const mapped =
    bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.subarray(12) : bytes;
}
