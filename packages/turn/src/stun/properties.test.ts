import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAddress,
  decodeErrorCode,
  decodeText,
  decodeUnknownAttributes,
  type StunAddress,
  type StunErrorCode,
} from './attributes.js';
import { StunMessageBuilder } from './builder.js';
import { AttributeType, MAX_TEXT_CHARS, type StunClass } from './constants.js';
import { StunParseError } from './errors.js';
import { verifyFingerprint, verifyMessageIntegrity } from './integrity.js';
import { formatIp, parseIp } from './ip.js';
import { decodeStunMessage, type StunMessage } from './message.js';

// Property tests: what the builder writes, the decoder reads back; whatever bytes arrive, the
// decoder and the verifiers answer or throw StunParseError, nothing else.

type Op =
  | { kind: 'username' | 'realm' | 'nonce'; text: string }
  | { kind: 'error'; error: StunErrorCode }
  | { kind: 'xor' | 'mapped'; address: StunAddress }
  | { kind: 'unknown'; types: number[] }
  | { kind: 'raw'; type: number; value: Uint8Array };

const TRAILERS = new Set<number>([
  AttributeType.MessageIntegrity,
  AttributeType.MessageIntegritySha256,
  AttributeType.Fingerprint,
]);

const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength }).filter((s) => !/\p{Cs}/u.test(s)); // well-formed only
const canonical = (address: string) => formatIp(parseIp(address) ?? new Uint8Array());
const address: fc.Arbitrary<StunAddress> = fc.oneof(
  fc.record({ family: fc.constant('IPv4' as const), address: fc.ipV4(), port: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({
    family: fc.constant('IPv6' as const),
    address: fc.ipV6().map(canonical),
    port: fc.integer({ min: 0, max: 0xffff }),
  }),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('username' as const), text: text(120) }),
  fc.record({ kind: fc.constantFrom('realm' as const, 'nonce' as const), text: text(MAX_TEXT_CHARS) }),
  fc.record({
    kind: fc.constant('error' as const),
    error: fc.record({ code: fc.integer({ min: 300, max: 699 }), reason: text(40) }),
  }),
  fc.record({ kind: fc.constantFrom('xor' as const, 'mapped' as const), address }),
  fc.record({
    kind: fc.constant('unknown' as const),
    types: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('raw' as const),
    type: fc.integer({ min: 0, max: 0xffff }).filter((t) => !TRAILERS.has(t)),
    value: fc.uint8Array({ maxLength: 40 }),
  }),
);

const spec = fc.record({
  cls: fc.constantFrom<StunClass>(0, 1, 2, 3),
  method: fc.integer({ min: 0, max: 0xfff }),
  transactionId: fc.uint8Array({ minLength: 12, maxLength: 12 }),
  ops: fc.array(op, { maxLength: 8 }),
  integrityKey: fc.option(fc.uint8Array({ minLength: 1, maxLength: 32 }), { nil: undefined }),
  fingerprint: fc.boolean(),
});
type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

function build(s: Spec): Uint8Array {
  const b = new StunMessageBuilder(s.cls, s.method, s.transactionId);
  for (const o of s.ops) {
    if (o.kind === 'username') b.username(o.text);
    else if (o.kind === 'realm') b.realm(o.text);
    else if (o.kind === 'nonce') b.nonce(o.text);
    else if (o.kind === 'error') b.errorCode(o.error);
    else if (o.kind === 'xor') b.xorMappedAddress(o.address);
    else if (o.kind === 'mapped') b.mappedAddress(o.address);
    else if (o.kind === 'unknown') b.unknownAttributes(o.types);
    else if (o.kind === 'raw') b.add(o.type, o.value);
  }
  return b.build({ integrityKey: s.integrityKey, fingerprint: s.fingerprint });
}

/** Decodes attribute `i` back to the op that wrote it. */
function readBack(msg: StunMessage, i: number, o: Op): Op {
  const a = msg.attributes[i];
  if (!a) throw new Error(`attribute ${i} missing`);
  switch (o.kind) {
    case 'username':
      return { kind: o.kind, text: decodeText(a.type, a.value, 'username') };
    case 'realm':
    case 'nonce':
      return { kind: o.kind, text: decodeText(a.type, a.value, 'text') };
    case 'error':
      return { kind: o.kind, error: decodeErrorCode(a.type, a.value) };
    case 'xor':
      return { kind: o.kind, address: decodeAddress(a.type, a.value, msg.transactionId) };
    case 'mapped':
      return { kind: o.kind, address: decodeAddress(a.type, a.value) };
    case 'unknown':
      return { kind: o.kind, types: decodeUnknownAttributes(a.type, a.value) };
    case 'raw':
      return { kind: o.kind, type: a.type, value: a.value };
  }
}

/** Runs everything a server would run on received bytes; only StunParseError may escape. */
function exercise(bytes: Uint8Array): void {
  const key = new Uint8Array(16);
  expect(typeof verifyMessageIntegrity(bytes, key)).toBe('boolean');
  expect(typeof verifyFingerprint(bytes)).toBe('boolean');
  let msg: StunMessage;
  try {
    msg = decodeStunMessage(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(StunParseError);
    return;
  }
  const getters = [
    () => msg.xorMappedAddress,
    () => msg.mappedAddress,
    () => msg.username,
    () => msg.realm,
    () => msg.nonce,
    () => msg.software,
    () => msg.errorCode,
    () => msg.unknownAttributes,
    () => msg.messageIntegrity,
    () => msg.messageIntegritySha256,
    () => msg.fingerprint,
    () => msg.unknownComprehensionRequired(new Set()),
  ];
  for (const get of getters) {
    try {
      get();
    } catch (error) {
      expect(error).toBeInstanceOf(StunParseError);
    }
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('length' as const), length: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  // Rewrite one attribute header: type and length, the fields a parser trusts most.
  fc.record({
    kind: fc.constant('attr' as const),
    at: fc.nat(),
    type: fc.integer({ min: 0, max: 0xffff }),
    length: fc.integer({ min: 0, max: 0xffff }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const out = bytes.slice();
  if (out.length < 4) return out; // an earlier truncation left nothing worth rewriting
  const view = new DataView(out.buffer);
  switch (m.kind) {
    case 'truncate':
      return out.subarray(0, m.at % (out.length + 1));
    case 'flip':
      out[m.at % out.length] = (out[m.at % out.length] ?? 0) ^ m.mask;
      return out;
    case 'length':
      view.setUint16(2, m.length);
      return out;
    case 'append': {
      const longer = Uint8Array.from([...out, ...m.extra]);
      new DataView(longer.buffer).setUint16(2, (longer.length - 20) & 0xffff); // keep the header honest
      return longer;
    }
    case 'attr': {
      if (out.length < 24) return out;
      const at = 20 + (m.at % (out.length - 23));
      view.setUint16(at, m.type);
      view.setUint16(at + 2, m.length);
      return out;
    }
  }
}

describe('STUN codec properties', () => {
  it('decodes what the builder writes', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const bytes = build(s);
        expect(bytes.length % 4).toBe(0);
        const msg = decodeStunMessage(bytes);
        expect(msg.cls).toBe(s.cls);
        expect(msg.method).toBe(s.method);
        expect(msg.transactionId).toEqual(s.transactionId);
        s.ops.forEach((o, i) => {
          expect(readBack(msg, i, o)).toEqual(o);
        });
        const trailer = msg.attributes.slice(s.ops.length).map((a) => a.type);
        const expected: number[] = [];
        if (s.integrityKey) expected.push(AttributeType.MessageIntegrity);
        if (s.fingerprint) expected.push(AttributeType.Fingerprint);
        expect(trailer).toEqual(expected);
        if (s.integrityKey) expect(verifyMessageIntegrity(bytes, s.integrityKey)).toBe(true);
        expect(verifyFingerprint(bytes)).toBe(s.fingerprint);
      }),
      { numRuns: 300 },
    );
  });

  it('answers or throws StunParseError for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => exercise(bytes)),
      { numRuns: 1000 },
    );
  });

  it('answers or throws StunParseError for bytes behind a valid header', () => {
    // Random bodies rarely get past the cookie by chance: give them a real header.
    const framed = fc
      .tuple(
        fc.integer({ min: 0, max: 0x3fff }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 200 }),
      )
      .map(([type, tx, body]) => {
        const bytes = new Uint8Array(20 + body.length);
        const view = new DataView(bytes.buffer);
        view.setUint16(0, type);
        view.setUint16(2, body.length);
        view.setUint32(4, 0x2112a442);
        bytes.set(tx, 8);
        bytes.set(body, 20);
        return bytes;
      });
    fc.assert(
      fc.property(framed, (bytes) => exercise(bytes)),
      { numRuns: 1000 },
    );
  });

  it('answers or throws StunParseError for mutated valid messages', () => {
    fc.assert(
      fc.property(spec, fc.array(mutation, { minLength: 1, maxLength: 3 }), (s, ms) => {
        exercise(ms.reduce(mutate, build(s)));
      }),
      { numRuns: 700 },
    );
  });
});

describe('tampering', () => {
  const signed = spec.map((s) => ({ ...s, integrityKey: s.integrityKey ?? new Uint8Array([1]), fingerprint: true }));

  it('any flipped byte fails the fingerprint, and the integrity unless it hit FINGERPRINT', () => {
    fc.assert(
      fc.property(signed, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, at, mask) => {
        const bytes = build(s);
        const i = at % bytes.length;
        const tampered = bytes.slice();
        tampered[i] = (tampered[i] ?? 0) ^ mask;
        expect(verifyFingerprint(tampered)).toBe(false);
        // Only FINGERPRINT follows MESSAGE-INTEGRITY: a changed CRC value leaves the HMAC valid; a
        // changed FINGERPRINT header may break the message structure, so either answer is fine there.
        if (i < bytes.length - 8) expect(verifyMessageIntegrity(tampered, s.integrityKey)).toBe(false);
        if (i >= bytes.length - 4) expect(verifyMessageIntegrity(tampered, s.integrityKey)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a wrong key fails', () => {
    fc.assert(
      fc.property(signed, fc.uint8Array({ minLength: 1, maxLength: 32 }), (s, key) => {
        fc.pre(Buffer.compare(key, s.integrityKey) !== 0);
        expect(verifyMessageIntegrity(build(s), key)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('a message without MESSAGE-INTEGRITY or FINGERPRINT never verifies', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const bytes = build({ ...s, integrityKey: undefined, fingerprint: false });
        expect(verifyMessageIntegrity(bytes, new Uint8Array(16))).toBe(false);
        expect(verifyFingerprint(bytes)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
