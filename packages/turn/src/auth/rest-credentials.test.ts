import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StunMessageBuilder } from '../stun/builder.js';
import { StunClass, StunMethod } from '../stun/constants.js';
import { longTermKey, verifyMessageIntegrity } from '../stun/integrity.js';
import { decodeStunMessage } from '../stun/message.js';
import {
  checkRestUsername,
  DEFAULT_CREDENTIAL_TTL_SECONDS,
  MAX_CREDENTIAL_TTL_SECONDS,
  mintRestCredentials,
  type RestUsernameProblem,
  restPassword,
} from './rest-credentials.js';

const SECRET = 'convene-shared-secret';
const NOW_MS = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const NOW_S = NOW_MS / 1000;

describe('restPassword', () => {
  it('matches a vector computed with openssl, as coturn documents it', () => {
    // printf '%s' "$user" | openssl dgst -binary -sha1 -hmac "$secret" | base64
    expect(restPassword('convene-shared-secret', '1700000300:participant-42')).toBe('QiMnZyxtdkJ/V/y/jbzVkeOw0PE=');
    expect(restPassword('north', '1433895918506:alice')).toBe('GPCalOXHCHJRqBRVGXzX5o/tUXE=');
  });

  it('is base64 of the raw 20-byte HMAC-SHA1 digest (not hex, not base64url)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (secret, username) => {
        const expected = createHmac('sha1', Buffer.from(secret, 'utf8')).update(Buffer.from(username, 'utf8')).digest();
        const password = restPassword(secret, username);
        expect(Buffer.from(password, 'base64')).toEqual(expected);
        expect(password).toMatch(/^[A-Za-z0-9+/]{27}=$/);
      }),
    );
  });

  it('refuses an empty secret', () => {
    expect(() => restPassword('', '1700000300:x')).toThrow(RangeError);
  });
});

describe('mintRestCredentials', () => {
  it('mints "<expiry>:<userId>" with the default TTL of 300 s', () => {
    const credentials = mintRestCredentials(SECRET, 'participant-42', NOW_MS);
    expect(DEFAULT_CREDENTIAL_TTL_SECONDS).toBe(300);
    expect(credentials).toEqual({
      username: '1700000300:participant-42',
      password: 'QiMnZyxtdkJ/V/y/jbzVkeOw0PE=',
      expiresAt: NOW_S + 300,
      ttlSeconds: 300,
    });
  });

  it('computes the password independently of restPassword (node:crypto in the test)', () => {
    const { username, password } = mintRestCredentials('s3cr3t', 'user-1', NOW_MS, 60);
    expect(username).toBe(`${NOW_S + 60}:user-1`);
    expect(password).toBe(createHmac('sha1', 's3cr3t').update(username).digest('base64'));
  });

  it('rounds the current time down to whole seconds', () => {
    expect(mintRestCredentials(SECRET, 'u', NOW_MS + 999, 10).expiresAt).toBe(NOW_S + 10);
  });

  it.each([
    [0, 1],
    [-5, 1],
    [0.5, 1],
    [1, 1],
    [299.9, 299],
    [MAX_CREDENTIAL_TTL_SECONDS, MAX_CREDENTIAL_TTL_SECONDS],
    [MAX_CREDENTIAL_TTL_SECONDS + 1, MAX_CREDENTIAL_TTL_SECONDS],
    [Number.POSITIVE_INFINITY, MAX_CREDENTIAL_TTL_SECONDS],
    [Number.NEGATIVE_INFINITY, 1],
  ])('clamps a TTL of %s s to %s s', (requested, granted) => {
    const credentials = mintRestCredentials(SECRET, 'u', NOW_MS, requested);
    expect(credentials.ttlSeconds).toBe(granted);
    expect(credentials.expiresAt).toBe(NOW_S + granted);
    expect(MAX_CREDENTIAL_TTL_SECONDS).toBe(86_400);
  });

  it.each([
    ['empty userId', SECRET, '', NOW_MS, 300],
    ['userId with ":"', SECRET, 'a:b', NOW_MS, 300],
    ['userId with a space', SECRET, 'a b', NOW_MS, 300],
    ['userId with a control character', SECRET, 'a\nb', NOW_MS, 300],
    ['non-ASCII userId', SECRET, 'zoë', NOW_MS, 300],
    ['username over 508 bytes', SECRET, 'x'.repeat(500), NOW_MS, 300],
    ['empty secret', '', 'u', NOW_MS, 300],
    ['NaN time', SECRET, 'u', Number.NaN, 300],
    ['infinite time', SECRET, 'u', Number.POSITIVE_INFINITY, 300],
    ['negative time', SECRET, 'u', -1, 300],
    ['NaN TTL', SECRET, 'u', NOW_MS, Number.NaN],
  ])('throws a RangeError for %s', (_, secret, userId, nowMs, ttl) => {
    expect(() => mintRestCredentials(secret, userId, nowMs, ttl)).toThrow(RangeError);
  });

  it('accepts the usual id alphabets (uuid, nanoid)', () => {
    for (const userId of [
      '3f0e1c2a-9b8d-4e7f-a6b5-c4d3e2f1a0b9',
      'V1StGXR8_Z5jdHi6B-myT',
      '~!@#$%^&*()+=[]{}|;<>?,./',
    ]) {
      expect(mintRestCredentials(SECRET, userId, NOW_MS).username).toBe(`${NOW_S + 300}:${userId}`);
    }
  });

  it('minted credentials pass checkRestUsername until they expire', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: -10, max: 100_000 }),
        fc.stringMatching(/^[\x21-\x39\x3b-\x7e]{1,64}$/),
        (nowMs, ttl, userId) => {
          const minted = mintRestCredentials(SECRET, userId, nowMs, ttl);
          expect(checkRestUsername(minted.username, nowMs)).toEqual({ ok: true, expiresAt: minted.expiresAt, userId });
          expect(checkRestUsername(minted.username, minted.expiresAt * 1000 - 1).ok).toBe(true);
          expect(checkRestUsername(minted.username, minted.expiresAt * 1000)).toEqual({
            ok: false,
            problem: 'expired',
          });
        },
      ),
    );
  });

  it('authenticates a STUN request end to end with the long-term key', () => {
    const { username, password } = mintRestCredentials(SECRET, 'participant-42', NOW_MS);
    const realm = 'convene.example';
    const request = new StunMessageBuilder(StunClass.Request, StunMethod.Allocate, new Uint8Array(12).fill(7))
      .username(username)
      .realm(realm)
      .nonce('n')
      .build({ integrityKey: longTermKey(username, realm, password), fingerprint: true });
    // What the server does: take USERNAME, recompute the password from the secret, verify.
    const received = decodeStunMessage(request).username ?? '';
    expect(verifyMessageIntegrity(request, longTermKey(received, realm, restPassword(SECRET, received)))).toBe(true);
    expect(verifyMessageIntegrity(request, longTermKey(received, realm, restPassword('other', received)))).toBe(false);
  });
});

describe('checkRestUsername', () => {
  const at = (offsetSeconds: number) => `${NOW_S + offsetSeconds}:alice`;

  it('accepts a live username and returns its parts', () => {
    expect(checkRestUsername(at(300), NOW_MS)).toEqual({ ok: true, expiresAt: NOW_S + 300, userId: 'alice' });
  });

  it('keeps everything after the first ":" as the userId', () => {
    expect(checkRestUsername(`${NOW_S + 10}:a:b:c`, NOW_MS)).toEqual({
      ok: true,
      expiresAt: NOW_S + 10,
      userId: 'a:b:c',
    });
  });

  it.each<[string, string, number, RestUsernameProblem | 'ok']>([
    ['expires in 1 s', at(1), NOW_MS, 'ok'],
    ['expires in 1 ms', at(0), NOW_MS - 1, 'ok'],
    ['expiry is now', at(0), NOW_MS, 'expired'],
    ['expired 1 s ago', at(-1), NOW_MS, 'expired'],
    ['expired long ago', '1:alice', NOW_MS, 'expired'],
    ['exactly max TTL + skew ahead', at(MAX_CREDENTIAL_TTL_SECONDS + 60), NOW_MS, 'ok'],
    ['1 s beyond max TTL + skew', at(MAX_CREDENTIAL_TTL_SECONDS + 61), NOW_MS, 'too-far-ahead'],
    ['12 nines', '999999999999:alice', NOW_MS, 'too-far-ahead'],
    ['zero expiry', '0:alice', NOW_MS, 'zero-expiry'],
    ['zero expiry, several zeros', '000:alice', NOW_MS, 'zero-expiry'],
    ['leading zeros are still decimal', `0${NOW_S + 10}:alice`, NOW_MS, 'ok'],
    ['no colon', `${NOW_S + 10}`, NOW_MS, 'malformed'],
    ['empty', '', NOW_MS, 'malformed'],
    ['empty userId', `${NOW_S + 10}:`, NOW_MS, 'malformed'],
    ['empty expiry', ':alice', NOW_MS, 'malformed'],
    ['userId first (coturn accepts this, we do not)', `alice:${NOW_S + 10}`, NOW_MS, 'malformed'],
    ['sign', `+${NOW_S + 10}:alice`, NOW_MS, 'malformed'],
    ['minus sign', '-1:alice', NOW_MS, 'malformed'],
    ['leading space', ` ${NOW_S + 10}:alice`, NOW_MS, 'malformed'],
    ['trailing space', `${NOW_S + 10} :alice`, NOW_MS, 'malformed'],
    ['exponent', '1.7e9:alice', NOW_MS, 'malformed'],
    ['decimal point', `${NOW_S + 10}.5:alice`, NOW_MS, 'malformed'],
    ['hex', '0x6553f2ec:alice', NOW_MS, 'malformed'],
    ['13 digits (milliseconds)', `${NOW_MS + 10_000}:alice`, NOW_MS, 'malformed'],
    ['non-ASCII digits', '١٧٠٠٠٠٠٣٠٠:alice', NOW_MS, 'malformed'],
    ['Infinity', 'Infinity:alice', NOW_MS, 'malformed'],
  ])('%s → %s', (_, username, nowMs, expected) => {
    const result = checkRestUsername(username, nowMs);
    expect(result.ok ? 'ok' : result.problem).toBe(expected);
  });

  it('throws only for a broken clock', () => {
    expect(() => checkRestUsername(at(10), Number.NaN)).toThrow(RangeError);
  });

  it('never throws, and whatever it accepts is exactly "<expiry>:<userId>"', () => {
    const nearNow = fc.integer({ min: -100, max: MAX_CREDENTIAL_TTL_SECONDS + 100 }).map((d) => String(NOW_S + d));
    const expiry = fc.oneof(fc.string({ maxLength: 14 }), fc.stringMatching(/^[0-9]{1,14}$/), nearNow);
    const username = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.tuple(expiry, fc.string({ maxLength: 20 })).map(([e, u]) => `${e}:${u}`),
    );
    fc.assert(
      fc.property(username, (text) => {
        const result = checkRestUsername(text, NOW_MS);
        if (!result.ok) return;
        const colon = text.indexOf(':');
        expect(Number(text.slice(0, colon))).toBe(result.expiresAt);
        expect(text.slice(colon + 1)).toBe(result.userId);
        expect(text.slice(0, colon)).toMatch(/^[0-9]{1,12}$/);
        expect(result.userId).not.toBe('');
      }),
      { numRuns: 500 },
    );
  });
});
