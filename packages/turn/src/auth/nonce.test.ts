import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StunMessageBuilder } from '../stun/builder.js';
import { MAX_TEXT_CHARS, StunClass, StunMethod } from '../stun/constants.js';
import { decodeStunMessage } from '../stun/message.js';
import { StatelessNonces } from './nonce.js';

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const NOW = 1_700_000_000_000;
const LIFETIME = 10 * 60_000;
const IP = '203.0.113.7';
const nonces = new StatelessNonces(SECRET);

/** Flip one base64url character to another base64url character. */
function mutate(nonce: string, index: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const current = nonce[index] ?? 'A';
  const replacement = alphabet[(alphabet.indexOf(current) + 1) % alphabet.length] ?? 'A';
  return nonce.slice(0, index) + replacement + nonce.slice(index + 1);
}

describe('issue', () => {
  it('is base64url(issuedAt as 8 bytes || HMAC-SHA256(secret, issuedAt || ip)[0..12])', () => {
    const nonce = nonces.issue(IP, NOW);
    const time = Buffer.alloc(8);
    time.writeBigUInt64BE(BigInt(NOW));
    const mac = createHmac('sha256', SECRET)
      .update(time)
      .update(Uint8Array.of(203, 0, 113, 7))
      .digest();
    expect(nonce).toBe(Buffer.concat([time, mac.subarray(0, 12)]).toString('base64url'));
  });

  it('binds IPv6 clients to their 16 address bytes', () => {
    const nonce = nonces.issue('2001:db8::1', NOW);
    const time = Buffer.alloc(8);
    time.writeBigUInt64BE(BigInt(NOW));
    const ip = Buffer.from('20010db8000000000000000000000001', 'hex');
    const mac = createHmac('sha256', SECRET).update(time).update(ip).digest();
    expect(nonce).toBe(Buffer.concat([time, mac.subarray(0, 12)]).toString('base64url'));
  });

  it('fits a STUN NONCE: 27 quoted-string-safe characters, no security-feature cookie', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 2 ** 47 }), (ip, now) => {
        const nonce = nonces.issue(ip, now);
        expect(nonce).toMatch(/^[A-Za-z0-9_-]{27}$/);
        expect(nonce.length).toBeLessThanOrEqual(MAX_TEXT_CHARS);
        expect(nonce.startsWith('obMatJos2')).toBe(false);
      }),
    );
  });

  it('goes through the STUN codec unchanged', () => {
    const nonce = nonces.issue(IP, NOW);
    const bytes = new StunMessageBuilder(StunClass.ErrorResponse, StunMethod.Allocate, new Uint8Array(12))
      .nonce(nonce)
      .build();
    expect(decodeStunMessage(bytes).nonce).toBe(nonce);
  });

  it('changes with the time and the IP', () => {
    expect(nonces.issue(IP, NOW)).not.toBe(nonces.issue(IP, NOW + 1));
    expect(nonces.issue(IP, NOW)).not.toBe(nonces.issue('203.0.113.8', NOW));
  });

  it('truncates a fractional time to whole milliseconds', () => {
    expect(nonces.issue(IP, NOW + 0.7)).toBe(nonces.issue(IP, NOW));
  });

  it.each([
    ['an unparsable IP', 'not-an-ip', NOW],
    ['an IP with a zone', 'fe80::1%eth0', NOW],
    ['NaN time', IP, Number.NaN],
    ['negative time', IP, -1],
  ])('throws a RangeError for %s', (_, ip, now) => {
    expect(() => nonces.issue(ip, now)).toThrow(RangeError);
  });
});

describe('check', () => {
  const nonce = nonces.issue(IP, NOW);

  it.each([
    ['just issued', NOW, 'valid'],
    ['half-way', NOW + LIFETIME / 2, 'valid'],
    ['exactly at the lifetime', NOW + LIFETIME, 'valid'],
    ['1 ms past the lifetime', NOW + LIFETIME + 1, 'stale'],
    ['a day later', NOW + 86_400_000, 'stale'],
    ['checked 5 s before it was issued (clock skew)', NOW - 5_000, 'valid'],
    ['checked 5.001 s before it was issued', NOW - 5_001, 'invalid'],
  ] as const)('%s → %s', (_, now, verdict) => {
    expect(nonces.check(nonce, IP, now)).toBe(verdict);
  });

  it('honours a custom lifetime', () => {
    const short = new StatelessNonces(SECRET, 1_000);
    const issued = short.issue(IP, NOW);
    expect(short.check(issued, IP, NOW + 1_000)).toBe('valid');
    expect(short.check(issued, IP, NOW + 1_001)).toBe('stale');
  });

  it('is invalid from another IP, even when it would be stale', () => {
    expect(nonces.check(nonce, '203.0.113.8', NOW)).toBe('invalid');
    expect(nonces.check(nonce, '2001:db8::1', NOW)).toBe('invalid');
    expect(nonces.check(nonce, '203.0.113.8', NOW + LIFETIME + 1)).toBe('invalid');
  });

  it('accepts any spelling of the same IP, IPv4-mapped included', () => {
    expect(nonces.check(nonce, '::ffff:203.0.113.7', NOW)).toBe('valid');
    expect(nonces.check(nonces.issue('::ffff:cb00:7107', NOW), IP, NOW)).toBe('valid');
    const v6 = nonces.issue('2001:db8::1', NOW);
    expect(nonces.check(v6, '2001:0DB8:0:0:0:0:0:0001', NOW)).toBe('valid');
    // NAT64 is another host, not another spelling.
    expect(nonces.check(nonce, '64:ff9b::cb00:7107', NOW)).toBe('invalid');
  });

  it('is invalid under another secret, valid under the same secret in another instance', () => {
    const other = new StatelessNonces(Uint8Array.from(SECRET, (b) => b ^ 1));
    expect(other.check(nonce, IP, NOW)).toBe('invalid');
    expect(new StatelessNonces(Uint8Array.from(SECRET)).check(nonce, IP, NOW)).toBe('valid');
  });

  it('copies the secret', () => {
    const secret = Uint8Array.from(SECRET);
    const instance = new StatelessNonces(secret);
    const issued = instance.issue(IP, NOW);
    secret.fill(0);
    expect(instance.check(issued, IP, NOW)).toBe('valid');
  });

  it('refuses a forged issue time (the MAC covers it)', () => {
    const bytes = Buffer.from(nonce, 'base64url');
    bytes.writeBigUInt64BE(BigInt(NOW + LIFETIME), 0); // try to make an old nonce look fresh
    expect(nonces.check(bytes.toString('base64url'), IP, NOW + LIFETIME + 1)).toBe('invalid');
  });

  it('refuses a nonce issued far in the future even though it is authentic', () => {
    const future = nonces.issue(IP, NOW + 60_000);
    expect(nonces.check(future, IP, NOW)).toBe('invalid');
    expect(nonces.check(future, IP, NOW + 55_000)).toBe('valid');
  });

  it.each([
    ['empty', ''],
    ['one character short', nonce.slice(0, -1)],
    ['one character long', `${nonce}A`],
    ['with base64 padding', `${nonce}=`],
    ['standard base64 alphabet', Buffer.from(nonce, 'base64url').toString('base64')],
    ['a space inside', `${nonce.slice(0, 10)} ${nonce.slice(11)}`],
    ['surrounding quotes', `"${nonce.slice(1, -1)}"`],
    ['non-ASCII', `${nonce.slice(0, -1)}é`],
    ['all zeros', 'A'.repeat(27)],
  ])('is invalid when malformed: %s', (_, bad) => {
    expect(nonces.check(bad, IP, NOW)).toBe('invalid');
  });

  it('insists on the canonical last character (its 2 spare bits must be zero)', () => {
    const last = nonce.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) + 1] ?? 'A'; // same 4 data bits, a spare bit set
    const variant = nonce.slice(0, -1) + sibling;
    expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(nonce, 'base64url'));
    expect(nonces.check(variant, IP, NOW)).toBe('invalid');
  });

  it('any single changed character makes it invalid', () => {
    for (let i = 0; i < nonce.length; i++)
      expect(nonces.check(mutate(nonce, i), IP, NOW), `index ${i}`).toBe('invalid');
  });

  it('round-trips for any IP and time, and random strings are never accepted', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.integer({ min: 0, max: 2 ** 47 }),
        fc.integer({ min: -5_000, max: LIFETIME }),
        fc.string(),
        (ip, issuedAt, age, junk) => {
          expect(nonces.check(nonces.issue(ip, issuedAt), ip, issuedAt + age)).toBe('valid');
          expect(nonces.check(junk, ip, issuedAt)).toBe('invalid');
        },
      ),
    );
  });

  it('throws for an unparsable client IP or a broken clock (our bugs, not peer input)', () => {
    expect(() => nonces.check(nonce, 'nope', NOW)).toThrow(RangeError);
    expect(() => nonces.check(nonce, IP, Number.NaN)).toThrow(RangeError);
  });
});

describe('constructor', () => {
  it.each([
    ['a 15-byte secret', new Uint8Array(15), LIFETIME],
    ['an empty secret', new Uint8Array(0), LIFETIME],
    ['a zero lifetime', SECRET, 0],
    ['a negative lifetime', SECRET, -1],
    ['a fractional lifetime', SECRET, 1.5],
    ['a NaN lifetime', SECRET, Number.NaN],
  ])('refuses %s', (_, secret, lifetime) => {
    expect(() => new StatelessNonces(secret, lifetime)).toThrow(RangeError);
  });

  it('accepts a 16-byte secret and defaults to a 10-minute lifetime', () => {
    const instance = new StatelessNonces(new Uint8Array(16).fill(9));
    const issued = instance.issue(IP, NOW);
    expect(instance.check(issued, IP, NOW + 600_000)).toBe('valid');
    expect(instance.check(issued, IP, NOW + 600_001)).toBe('stale');
  });
});
