import { describe, expect, it } from 'vitest';
import { hex } from '../test-support/hex.js';
import { newTransactionId, StunMessageBuilder } from './builder.js';
import { AttributeType, StunClass, StunMethod } from './constants.js';
import { longTermKey, shortTermKey, verifyFingerprint, verifyMessageIntegrity } from './integrity.js';
import { decodeStunMessage, isStunMessage } from './message.js';

// RFC 5769 test vectors, transcribed from the RFC text. Every vector carries MESSAGE-INTEGRITY
// (and all but 2.4 a FINGERPRINT): those verifying is the proof that no byte was mistyped.
// 2.1-2.3 pad with 0x20 on purpose (receivers must ignore padding); 2.4 pads with 0x00.

const TX_ID = hex('b7 e7 a7 01 bc 34 d6 86 fa 87 df ae');

const SAMPLE_REQUEST = hex(`
  00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74
  00 24 00 04  6e 00 01 ff
  80 29 00 08  93 2f f9 b1  51 26 3b 36
  00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20
  00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2
  80 28 00 04  e5 7a 3b cf`);

const IPV4_RESPONSE = hex(`
  01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 08  00 01 a1 47  e1 12 a6 43
  00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
  80 28 00 04  c0 7d 4c 96`);

const IPV6_RESPONSE = hex(`
  01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
  00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
  80 28 00 04  c8 fb 0b 4c`);

const LONG_TERM_REQUEST = hex(`
  00 01 00 60  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
  00 06 00 12  e3 83 9e e3  83 88 e3 83  aa e3 83 83  e3 82 af e3  82 b9 00 00
  00 15 00 1c  66 2f 2f 34  39 39 6b 39  35 34 64 36  4f 4c 33 34  6f 4c 39 46  53 54 76 79  36 34 73 41
  00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
  00 08 00 14  f6 70 24 65  6d d6 4a 3e  02 b8 e0 71  2e 85 c9 a2  8c a8 96 66`);

const SHORT_TERM_KEY = shortTermKey('VOkJxbRl1RmTxUk/WvJxBt');
const PRIORITY = 0x0024;
const ICE_CONTROLLED = 0x8029;
const ALL = [SAMPLE_REQUEST, IPV4_RESPONSE, IPV6_RESPONSE, LONG_TERM_REQUEST];

describe('RFC 5769 test vectors', () => {
  it('are all recognized as STUN', () => {
    for (const bytes of ALL) expect(isStunMessage(bytes)).toBe(true);
  });

  it('2.1 sample request', () => {
    const msg = decodeStunMessage(SAMPLE_REQUEST);
    expect(msg.cls).toBe(StunClass.Request);
    expect(msg.method).toBe(StunMethod.Binding);
    expect(msg.transactionId).toEqual(TX_ID);
    expect(msg.attributes.map((a) => a.type)).toEqual([
      AttributeType.Software,
      PRIORITY,
      ICE_CONTROLLED,
      AttributeType.Username,
      AttributeType.MessageIntegrity,
      AttributeType.Fingerprint,
    ]);
    expect(msg.software).toBe('STUN test client');
    expect(msg.get(PRIORITY)).toEqual(hex('6e 00 01 ff'));
    expect(msg.get(ICE_CONTROLLED)).toEqual(hex('93 2f f9 b1 51 26 3b 36'));
    expect(msg.username).toBe('evtj:h6vY');
    expect(msg.fingerprint).toBe(0xe57a3bcf);
    expect(verifyMessageIntegrity(SAMPLE_REQUEST, SHORT_TERM_KEY)).toBe(true);
    expect(verifyFingerprint(SAMPLE_REQUEST)).toBe(true);
    // A server that knows neither ICE attribute must list PRIORITY (0x0024, comprehension-required),
    // not ICE-CONTROLLED (0x8029) nor SOFTWARE (0x8022), which are comprehension-optional.
    expect(msg.unknownComprehensionRequired(new Set([AttributeType.Username, AttributeType.MessageIntegrity]))).toEqual(
      [PRIORITY],
    );
  });

  it('2.2 IPv4 response', () => {
    const msg = decodeStunMessage(IPV4_RESPONSE);
    expect(msg.cls).toBe(StunClass.SuccessResponse);
    expect(msg.method).toBe(StunMethod.Binding);
    expect(msg.transactionId).toEqual(TX_ID);
    expect(msg.software).toBe('test vector');
    expect(msg.xorMappedAddress).toEqual({ family: 'IPv4', address: '192.0.2.1', port: 32853 });
    expect(verifyMessageIntegrity(IPV4_RESPONSE, SHORT_TERM_KEY)).toBe(true);
    expect(verifyFingerprint(IPV4_RESPONSE)).toBe(true);
  });

  it('2.3 IPv6 response', () => {
    const msg = decodeStunMessage(IPV6_RESPONSE);
    expect(msg.cls).toBe(StunClass.SuccessResponse);
    expect(msg.transactionId).toEqual(TX_ID);
    expect(msg.software).toBe('test vector');
    expect(msg.xorMappedAddress).toEqual({
      family: 'IPv6',
      address: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
    });
    expect(verifyMessageIntegrity(IPV6_RESPONSE, SHORT_TERM_KEY)).toBe(true);
    expect(verifyFingerprint(IPV6_RESPONSE)).toBe(true);
  });

  it('2.4 request with long-term authentication', () => {
    const msg = decodeStunMessage(LONG_TERM_REQUEST);
    expect(msg.cls).toBe(StunClass.Request);
    expect(msg.method).toBe(StunMethod.Binding);
    expect(msg.transactionId).toEqual(hex('78 ad 34 33 c6 ad 72 c0 29 da 41 2e'));
    expect(msg.username).toBe('\u30de\u30c8\u30ea\u30c3\u30af\u30b9');
    expect(msg.nonce).toBe('f//499k954d6OL34oL9FSTvy64sA');
    expect(msg.realm).toBe('example.org');
    expect(msg.fingerprint).toBeUndefined();
    // "TheMatrIX" is the SASLprep of "The\u00adM\u00aatr\u2168" (RFC 5769 §2.4).
    const key = longTermKey(msg.username ?? '', 'example.org', 'TheMatrIX');
    expect(verifyMessageIntegrity(LONG_TERM_REQUEST, key)).toBe(true);
    expect(verifyFingerprint(LONG_TERM_REQUEST)).toBe(false); // there is none
  });

  it('2.4 re-encodes byte for byte with the builder', () => {
    const msg = decodeStunMessage(LONG_TERM_REQUEST);
    const username = '\u30de\u30c8\u30ea\u30c3\u30af\u30b9';
    const bytes = new StunMessageBuilder(StunClass.Request, StunMethod.Binding, msg.transactionId)
      .username(username)
      .nonce('f//499k954d6OL34oL9FSTvy64sA')
      .realm('example.org')
      .build({ integrityKey: longTermKey(username, 'example.org', 'TheMatrIX') });
    expect(bytes).toEqual(LONG_TERM_REQUEST);
  });

  // 2.1-2.3 carry SOFTWARE (decode-only for us) and 0x20 padding (we write zeros, as RFC 8489
  // requires), so byte equality is impossible. What must match: every attribute value, and the
  // message we write for the same content must verify under the same key.
  it.each([
    ['2.1', SAMPLE_REQUEST],
    ['2.2', IPV4_RESPONSE],
    ['2.3', IPV6_RESPONSE],
  ])('%s re-encodes to an equivalent message that verifies', (_name, vector) => {
    const msg = decodeStunMessage(vector);
    const builder = new StunMessageBuilder(msg.cls, msg.method, msg.transactionId);
    for (const a of msg.attributes) {
      if (a.type === AttributeType.MessageIntegrity || a.type === AttributeType.Fingerprint) continue;
      if (a.type === AttributeType.XorMappedAddress) builder.xorMappedAddress(msg.xorMappedAddress ?? fail());
      else if (a.type === AttributeType.Username) builder.username(msg.username ?? fail());
      else builder.add(a.type, a.value);
    }
    const bytes = builder.build({ integrityKey: SHORT_TERM_KEY, fingerprint: true });
    expect(bytes.length).toBe(vector.length);
    const again = decodeStunMessage(bytes);
    expect(again.attributes.slice(0, -2)).toEqual(msg.attributes.slice(0, -2));
    expect(verifyMessageIntegrity(bytes, SHORT_TERM_KEY)).toBe(true);
    expect(verifyFingerprint(bytes)).toBe(true);
    // The XOR-MAPPED-ADDRESS we write is the vector's, byte for byte.
    if (msg.xorMappedAddress)
      expect(again.get(AttributeType.XorMappedAddress)).toEqual(msg.get(AttributeType.XorMappedAddress));
  });

  it('work the same from a pooled Node Buffer (what dgram delivers), without touching it', () => {
    const pooled = Buffer.from(LONG_TERM_REQUEST); // small Buffers share a pool: byteOffset is not 0
    const before = Buffer.from(pooled);
    const msg = decodeStunMessage(pooled);
    expect(msg.transactionId).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(msg.transactionId)).toBe(false); // a copy, not a view into the pool
    expect(msg.realm).toBe('example.org');
    const key = longTermKey(msg.username ?? '', 'example.org', 'TheMatrIX');
    expect(verifyMessageIntegrity(pooled, key)).toBe(true);
    expect(verifyFingerprint(Buffer.from(IPV6_RESPONSE))).toBe(true);
    expect(decodeStunMessage(Buffer.from(IPV6_RESPONSE)).xorMappedAddress?.port).toBe(32853);
    expect(pooled.equals(before)).toBe(true);
  });

  it('only the right key verifies', () => {
    expect(verifyMessageIntegrity(SAMPLE_REQUEST, shortTermKey('VOkJxbRl1RmTxUk/WvJxBT'))).toBe(false);
    expect(verifyMessageIntegrity(LONG_TERM_REQUEST, longTermKey('x', 'example.org', 'TheMatrIX'))).toBe(false);
    expect(newTransactionId()).toHaveLength(12);
  });
});

function fail(): never {
  throw new Error('expected attribute missing');
}
