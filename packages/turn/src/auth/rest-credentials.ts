import { createHmac } from 'node:crypto';
import { MAX_USERNAME_BYTES } from '../stun/constants.js';

/*
 * TURN REST shared-secret credentials (coturn `use-auth-secret`, draft-uberti-behave-turn-rest):
 * username = "<unix-expiry-seconds>:<userId>", password = base64(HMAC-SHA1(secret, username)).
 * The signaling server mints them after admission; the TURN server recomputes the password from
 * the username, so it keeps no per-user state. Never log the secret or a password (SECURITY.md).
 */

/** TTL of minted credentials when none is given (SECURITY.md: 300 s). */
export const DEFAULT_CREDENTIAL_TTL_SECONDS = 300;
/** Longest TTL `mintRestCredentials` grants and the furthest expiry `checkRestUsername` accepts (24 h). */
export const MAX_CREDENTIAL_TTL_SECONDS = 86_400;

// Clocks of the minting and checking sides may disagree by this much before a fresh credential is
// "too far ahead". Only that check gets slack: an expired credential is expired.
const CLOCK_SKEW_SECONDS = 60;
// 12 digits reach year ~33658 and stay far inside Number's exact integers.
const EXPIRY_PATTERN = /^[0-9]{1,12}$/;
// Printable ASCII without ':' — the long-term key is MD5 over the raw UTF-8 without SASLprep
// (README, known gaps), so anything else risks a different key on the client side.
const USER_ID_PATTERN = /^[\x21-\x39\x3b-\x7e]+$/;

/** A credential for RTCIceServer: `username`/`password` (a.k.a. `credential`), and when it ends. */
export interface TurnRestCredentials {
  username: string;
  password: string;
  /** unix seconds */
  expiresAt: number;
  ttlSeconds: number;
}

/**
 * Credentials for `userId` valid until `floor(nowMs / 1000) + ttlSeconds` (exclusive), the TTL
 * clamped to 1..MAX_CREDENTIAL_TTL_SECONDS. Throws a RangeError for bad input (a programming
 * error): empty secret, a userId that is empty or not printable ASCII without ':', a username that
 * would not fit STUN's USERNAME, a non-finite time or TTL.
 */
export function mintRestCredentials(
  secret: string,
  userId: string,
  nowMs: number,
  ttlSeconds = DEFAULT_CREDENTIAL_TTL_SECONDS,
): TurnRestCredentials {
  if (!USER_ID_PATTERN.test(userId)) {
    throw new RangeError('userId must be non-empty printable ASCII without ":"');
  }
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new RangeError(`nowMs ${nowMs} is not a time`);
  if (Number.isNaN(ttlSeconds)) throw new RangeError('ttlSeconds is NaN');
  const ttl = Math.min(MAX_CREDENTIAL_TTL_SECONDS, Math.max(1, Math.floor(ttlSeconds)));
  const expiresAt = Math.floor(nowMs / 1000) + ttl;
  const username = `${expiresAt}:${userId}`;
  if (username.length > MAX_USERNAME_BYTES) {
    throw new RangeError(`username would be ${username.length} bytes, STUN allows ${MAX_USERNAME_BYTES}`);
  }
  return { username, password: restPassword(secret, username), expiresAt, ttlSeconds: ttl };
}

/**
 * base64(HMAC-SHA1(secret, username)) over the UTF-8 of both: coturn's formula, so the TURN side
 * can derive the password of any username it receives. Throws a RangeError for an empty secret.
 */
export function restPassword(secret: string, username: string): string {
  if (secret === '') throw new RangeError('the TURN REST secret must not be empty');
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/**
 * Why a REST username is refused (answer 401). Stable; never reused or renamed:
 * - `malformed`: not "<1-12 decimal digits>:<non-empty userId>".
 * - `zero-expiry`: the expiry is 0: an unset field, never a minted credential; named apart for logs.
 * - `expired`: the expiry is now or in the past.
 * - `too-far-ahead`: the expiry is more than MAX_CREDENTIAL_TTL_SECONDS (+ 60 s skew) away.
 */
export type RestUsernameProblem = 'malformed' | 'zero-expiry' | 'expired' | 'too-far-ahead';

/**
 * Parses and time-checks a REST username at Allocate time. too-far-ahead: expiry more than
 * MAX_CREDENTIAL_TTL_SECONDS (+ 60 s skew) in the future. Valid while `nowMs < expiresAt * 1000`.
 * Says nothing about the password: MESSAGE-INTEGRITY under `restPassword(secret, username)` does.
 * Throws a RangeError only for a non-finite `nowMs` (our clock, not peer input).
 */
export function checkRestUsername(
  username: string,
  nowMs: number,
): { ok: true; expiresAt: number; userId: string } | { ok: false; problem: RestUsernameProblem } {
  if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs ${nowMs} is not a time`);
  // The timestamp comes first and only first. coturn also accepts "userId:timestamp" (it tries the
  // part after the separator when the first is not a number); we do not: one form, one parser, and
  // a userId can never be read as an expiry.
  const colon = username.indexOf(':');
  if (colon < 0) return { ok: false, problem: 'malformed' };
  const expiry = username.slice(0, colon);
  const userId = username.slice(colon + 1);
  if (!EXPIRY_PATTERN.test(expiry) || userId === '') return { ok: false, problem: 'malformed' };
  const expiresAt = Number(expiry);
  if (expiresAt === 0) return { ok: false, problem: 'zero-expiry' };
  if (nowMs >= expiresAt * 1000) return { ok: false, problem: 'expired' };
  if (expiresAt * 1000 > nowMs + (MAX_CREDENTIAL_TTL_SECONDS + CLOCK_SKEW_SECONDS) * 1000) {
    return { ok: false, problem: 'too-far-ahead' };
  }
  return { ok: true, expiresAt, userId };
}
