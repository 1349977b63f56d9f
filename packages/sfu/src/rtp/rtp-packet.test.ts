import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtpEncodeError } from '../errors.js';
import { hex } from '../test-support/hex.js';
import { buildRtp, type ExtensionElement, type RtpSpec } from '../test-support/rtp-builder.js';
import {
  type RtpHeader,
  type RtpParseFailure,
  type RtpParseReason,
  readRtpHeader,
  rewriteRtpHeader,
} from './rtp-packet.js';

function parsed(bytes: Uint8Array): RtpHeader {
  const header = readRtpHeader(bytes);
  if (!header.ok) throw new Error(`expected an RTP header, got ${header.reason}`);
  return header;
}

function reasonOf(bytes: Uint8Array): RtpParseReason | 'ok' {
  const header = readRtpHeader(bytes);
  return header.ok ? 'ok' : header.reason;
}

// Hand-computed from the one-byte example layout of RFC 8285 §4.2 (elements with L=0, L=1, two
// padding bytes, L=3), IDs 1, 2, 3 chosen by us. V=2 X=1 (0x90); M=1 PT=111 (0xef); seq 0x1234;
// ts 0xdeadbeef; SSRC 0x01020304; extension length 3 words; payload fc ff fe.
const ONE_BYTE_EXAMPLE = hex(`
  90 ef 12 34  de ad be ef  01 02 03 04
  be de 00 03  10 aa 21 bb  cc 00 00 33  01 02 03 04
  fc ff fe`);

// The two-byte example layout of RFC 8285 §4.3 (L=0, L=1, one padding byte, L=4), IDs 1, 2, 200;
// profile 0x1000 (app bits 0), M=0 PT=96, seq 0xffff, ts 1, SSRC 0xfffffffe, no payload.
const TWO_BYTE_EXAMPLE = hex(`
  90 60 ff ff  00 00 00 01  ff ff ff fe
  10 00 00 03  01 00 02 01  aa 00 c8 04  01 02 03 04`);

// A real packet with a non-RFC 8285 extension (profile 0x0001, one word), as quoted in pion/rtp's
// tests: V=2 X=1, M=1 PT=96, seq 27023, ts 3653407706, SSRC 476325762, five payload bytes.
const OTHER_PROFILE_EXAMPLE = hex(`
  90 e0 69 8f  d9 c2 93 da  1c 64 27 82  00 01 00 01  ff ff ff ff  98 36 be 88 9e`);

describe('readRtpHeader', () => {
  it('reads the fixed header and one-byte extensions (RFC 8285 §4.2 layout)', () => {
    const h = parsed(ONE_BYTE_EXAMPLE);
    expect(h).toMatchObject({
      version: 2,
      padding: false,
      marker: true,
      payloadType: 111,
      sequenceNumber: 0x1234,
      timestamp: 0xdeadbeef,
      ssrc: 0x01020304,
      csrcCount: 0,
      extensionProfile: 0xbede,
      extensionForm: 'one-byte',
      headerLength: 28,
      payloadOffset: 28,
      payloadLength: 3,
      paddingLength: 0,
    });
    expect(h.extension(1)).toEqual(hex('aa'));
    expect(h.extension(2)).toEqual(hex('bb cc'));
    expect(h.extension(3)).toEqual(hex('01 02 03 04'));
    expect(h.extension(4)).toBeUndefined();
    expect(h.payload).toEqual(hex('fc ff fe'));
  });

  it('reads two-byte extensions, zero-length elements included (RFC 8285 §4.3 layout)', () => {
    const h = parsed(TWO_BYTE_EXAMPLE);
    expect(h).toMatchObject({ marker: false, payloadType: 96, sequenceNumber: 0xffff, timestamp: 1 });
    expect(h.ssrc).toBe(0xfffffffe);
    expect(h.extensionForm).toBe('two-byte');
    expect(h.extension(1)).toEqual(new Uint8Array());
    expect(h.extension(2)).toEqual(hex('aa'));
    expect(h.extension(200)).toEqual(hex('01 02 03 04'));
    expect(h.extension(3)).toBeUndefined();
    expect(h.payloadLength).toBe(0);
  });

  it('accepts the two-byte form with any app bits (0x100X)', () => {
    const bytes = TWO_BYTE_EXAMPLE.slice();
    bytes[13] = 0x0f;
    const h = parsed(bytes);
    expect(h.extensionProfile).toBe(0x100f);
    expect(h.extension(200)).toEqual(hex('01 02 03 04'));
  });

  it('skips another profile’s extension block without reading elements from it', () => {
    const h = parsed(OTHER_PROFILE_EXAMPLE);
    expect(h).toMatchObject({
      marker: true,
      payloadType: 96,
      sequenceNumber: 27023,
      timestamp: 3653407706,
      ssrc: 476325762,
      extensionProfile: 1,
      extensionForm: 'other',
      headerLength: 20,
    });
    expect(h.payload).toEqual(hex('98 36 be 88 9e'));
    for (let id = 0; id < 256; id++) expect(h.extension(id)).toBeUndefined();
  });

  it('returns views into the packet, not copies', () => {
    const bytes = ONE_BYTE_EXAMPLE.slice();
    const h = parsed(bytes);
    const view = h.extension(2);
    expect(view?.buffer).toBe(bytes.buffer);
    bytes[19] = 0x99; // the first data byte of element 2
    expect(view).toEqual(hex('99 cc'));
    expect(h.payload.buffer).toBe(bytes.buffer);
  });

  it('reads the CSRC list', () => {
    const h = parsed(hex('82 00 00 01  00 00 00 02  00 00 00 03  00 00 00 0a  ff ff ff ff  ee'));
    expect(h.csrcCount).toBe(2);
    expect([h.csrc(0), h.csrc(1), h.csrc(2), h.csrc(-1)]).toEqual([10, 0xffffffff, undefined, undefined]);
    expect(h.headerLength).toBe(20);
    expect(h.payload).toEqual(hex('ee'));
  });

  it('removes padding, and accepts padding-only packets (libwebrtc probes)', () => {
    const h = parsed(hex('a0 60 00 01  00 00 00 02  00 00 00 03  aa bb  00 00 03'));
    expect(h).toMatchObject({ padding: true, paddingLength: 3, payloadLength: 2 });
    expect(h.payload).toEqual(hex('aa bb'));
    const probe = parsed(hex('a0 60 00 01  00 00 00 02  00 00 00 03  00 00 00 04'));
    expect(probe).toMatchObject({ paddingLength: 4, payloadLength: 0 });
  });

  it('stops at one-byte ID 15 and keeps what came before (RFC 8285 §4.2)', () => {
    // ID 1 (1 byte), then 0xf3: ID 15, whose length must be ignored even though it would overrun.
    const h = parsed(hex('90 60 00 01  00 00 00 02  00 00 00 03  be de 00 01  10 aa f3 00'));
    expect(h.extension(1)).toEqual(hex('aa'));
  });

  it('stops at a one-byte element with ID 0 and a length, as libwebrtc does', () => {
    const h = parsed(hex('90 60 00 01  00 00 00 02  00 00 00 03  be de 00 01  10 aa 05 00'));
    expect(h.extension(1)).toEqual(hex('aa'));
  });

  it('takes the first of duplicate elements', () => {
    const h = parsed(hex('90 60 00 01  00 00 00 02  00 00 00 03  be de 00 01  10 aa 10 bb'));
    expect(h.extension(1)).toEqual(hex('aa'));
  });

  it('answers undefined for IDs outside the form’s range', () => {
    const one = parsed(ONE_BYTE_EXAMPLE);
    for (const id of [0, 15, 16, 255, 1.5, -1, Number.NaN]) expect(one.extension(id)).toBeUndefined();
    const two = parsed(TWO_BYTE_EXAMPLE);
    for (const id of [0, 256, 2.5]) expect(two.extension(id)).toBeUndefined();
  });

  it('names each way a packet can be malformed', () => {
    const cases: [string, RtpParseReason][] = [
      ['', 'too-short'],
      ['80 60 00 01  00 00 00 02  00 00 00', 'too-short'],
      ['40 60 00 01  00 00 00 02  00 00 00 03', 'bad-version'],
      ['c0 60 00 01  00 00 00 02  00 00 00 03', 'bad-version'],
      // CC=2 but one CSRC present
      ['82 60 00 01  00 00 00 02  00 00 00 03  00 00 00 0a', 'bad-csrc'],
      // X=1 but no extension header, a short one, or a length running past the end
      ['90 60 00 01  00 00 00 02  00 00 00 03', 'bad-extension'],
      ['90 60 00 01  00 00 00 02  00 00 00 03  be de 00', 'bad-extension'],
      ['90 60 00 01  00 00 00 02  00 00 00 03  be de 00 02  10 aa 00 00', 'bad-extension'],
      // one-byte element of 4 bytes (L=3) in a 4-byte block, after its ID byte: overruns
      ['90 60 00 01  00 00 00 02  00 00 00 03  be de 00 01  13 01 02 03', 'bad-extension'],
      // two-byte: an ID at the last byte with no length byte, and an element longer than the block
      ['90 60 00 01  00 00 00 02  00 00 00 03  10 00 00 01  00 00 00 07', 'bad-extension'],
      ['90 60 00 01  00 00 00 02  00 00 00 03  10 00 00 01  07 03 01 02', 'bad-extension'],
      // P=1: nothing after the header, count 0, count larger than what follows the header
      ['a0 60 00 01  00 00 00 02  00 00 00 03', 'bad-padding'],
      ['a0 60 00 01  00 00 00 02  00 00 00 03  aa 00', 'bad-padding'],
      ['a0 60 00 01  00 00 00 02  00 00 00 03  aa 03', 'bad-padding'],
    ];
    for (const [bytes, reason] of cases) expect([bytes, reasonOf(hex(bytes))]).toEqual([bytes, reason]);
  });

  it('returns the same frozen failure each time (nothing allocated per bad packet)', () => {
    const a = readRtpHeader(new Uint8Array(3)) as RtpParseFailure;
    const b = readRtpHeader(new Uint8Array(5)) as RtpParseFailure;
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('reads a Node Buffer that is a view into a larger pool', () => {
    const pool = Buffer.alloc(100, 0x55);
    pool.set(ONE_BYTE_EXAMPLE, 37);
    const h = parsed(pool.subarray(37, 37 + ONE_BYTE_EXAMPLE.length));
    expect(h.sequenceNumber).toBe(0x1234);
    expect(Buffer.from(h.extension(3) ?? [])).toEqual(Buffer.from([1, 2, 3, 4]));
  });
});

describe('rewriteRtpHeader', () => {
  it('writes the given fields in place and nothing else', () => {
    const bytes = ONE_BYTE_EXAMPLE.slice();
    rewriteRtpHeader(bytes, { ssrc: 0xcafebabe, payloadType: 100, sequenceNumber: 7, timestamp: 0xffffffff });
    const h = parsed(bytes);
    expect(h).toMatchObject({ ssrc: 0xcafebabe, payloadType: 100, sequenceNumber: 7, timestamp: 0xffffffff });
    expect(h.marker).toBe(true);
    expect(bytes.subarray(12)).toEqual(ONE_BYTE_EXAMPLE.subarray(12));
    expect(bytes[0]).toBe(ONE_BYTE_EXAMPLE[0]);
  });

  it('sets and clears the marker without touching the payload type', () => {
    const bytes = ONE_BYTE_EXAMPLE.slice();
    rewriteRtpHeader(bytes, { marker: false });
    expect(parsed(bytes)).toMatchObject({ marker: false, payloadType: 111 });
    rewriteRtpHeader(bytes, { marker: true, payloadType: 0 });
    expect(parsed(bytes)).toMatchObject({ marker: true, payloadType: 0 });
    rewriteRtpHeader(bytes, {});
    expect(parsed(bytes)).toMatchObject({ marker: true, payloadType: 0 });
  });

  it('keeps what an earlier parse read: header fields are a snapshot', () => {
    const bytes = ONE_BYTE_EXAMPLE.slice();
    const h = parsed(bytes);
    rewriteRtpHeader(bytes, { sequenceNumber: 1, ssrc: 2 });
    expect([h.sequenceNumber, h.ssrc]).toEqual([0x1234, 0x01020304]);
  });

  it('refuses values outside their fields and leaves the packet untouched', () => {
    const refused = [
      { payloadType: 128 },
      { payloadType: 72 }, // would read as RTCP SR with the marker set
      { payloadType: -1 },
      { sequenceNumber: 0x10000 },
      { sequenceNumber: 1.5 },
      { timestamp: 2 ** 32 },
      { ssrc: -1 },
      { ssrc: Number.NaN },
      { ssrc: 1, sequenceNumber: 0x10000 },
    ];
    for (const fields of refused) {
      const bytes = ONE_BYTE_EXAMPLE.slice();
      const error = (() => {
        try {
          rewriteRtpHeader(bytes, fields);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(RtpEncodeError);
      expect((error as RtpEncodeError).reason).toBe('bad-value');
      expect(bytes).toEqual(ONE_BYTE_EXAMPLE);
    }
  });

  it('refuses bytes that are not an RTP header', () => {
    expect(() => rewriteRtpHeader(new Uint8Array(11).fill(0x80), { ssrc: 1 })).toThrow(RtpEncodeError);
    expect(() => rewriteRtpHeader(new Uint8Array(12), { ssrc: 1 })).toThrow(RtpEncodeError);
  });
});

// Property tests: what the test builder writes, the parser reads back; whatever arrives, the
// parser answers with a header or a typed failure, and a header's views stay inside the packet.

const REASONS = new Set<string>(['too-short', 'bad-version', 'bad-csrc', 'bad-extension', 'bad-padding']);

const oneByteElement: fc.Arbitrary<ExtensionElement> = fc.record({
  id: fc.integer({ min: 1, max: 14 }),
  data: fc.uint8Array({ minLength: 1, maxLength: 16 }),
});
const twoByteElement: fc.Arbitrary<ExtensionElement> = fc.record({
  id: fc.integer({ min: 1, max: 255 }),
  data: fc.uint8Array({ maxLength: 40 }),
});

const rtpSpec: fc.Arbitrary<RtpSpec> = fc.record({
  marker: fc.boolean(),
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
  timestamp: fc.integer({ min: 0, max: 0xffffffff }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 15 }),
  extension: fc.option(
    fc.oneof(
      fc.record({ form: fc.constant('one-byte' as const), elements: fc.array(oneByteElement, { maxLength: 6 }) }),
      fc.record({
        form: fc.constant('two-byte' as const),
        appBits: fc.integer({ min: 0, max: 15 }),
        elements: fc.array(twoByteElement, { maxLength: 6 }),
      }),
      fc.record({
        form: fc.constant('other' as const),
        profile: fc.integer({ min: 0, max: 0xffff }).filter((p) => p !== 0xbede && (p & 0xfff0) !== 0x1000),
        data: fc.uint8Array({ maxLength: 8 }).map((d) => d.subarray(0, d.length - (d.length % 4))),
      }),
    ),
    { nil: undefined },
  ),
  payload: fc.uint8Array({ maxLength: 64 }),
  padding: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })),
});

/** Runs everything a router would run on received bytes; only typed results may come back. */
function exercise(bytes: Uint8Array): void {
  const h = readRtpHeader(bytes);
  if (!h.ok) {
    expect(REASONS.has(h.reason)).toBe(true);
    return;
  }
  expect(h.payloadOffset + h.payloadLength + h.paddingLength).toBe(bytes.length);
  expect(h.payloadLength).toBeGreaterThanOrEqual(0);
  expect(h.payload.length).toBe(h.payloadLength);
  for (let id = 0; id <= 256; id++) {
    const view = h.extension(id);
    if (view === undefined) continue;
    expect(view.byteOffset).toBeGreaterThanOrEqual(bytes.byteOffset + 16 + h.csrcCount * 4);
    expect(view.byteOffset + view.length).toBeLessThanOrEqual(bytes.byteOffset + h.payloadOffset);
  }
  for (let i = 0; i <= h.csrcCount; i++) h.csrc(i);
}

describe('RTP properties', () => {
  it('parses back what was built', () => {
    fc.assert(
      fc.property(rtpSpec, (spec) => {
        const h = parsed(buildRtp(spec));
        expect(h).toMatchObject({
          marker: spec.marker,
          payloadType: spec.payloadType,
          sequenceNumber: spec.sequenceNumber,
          timestamp: spec.timestamp,
          ssrc: spec.ssrc,
          csrcCount: spec.csrcs.length,
          padding: spec.padding > 0,
          paddingLength: spec.padding,
        });
        expect(spec.csrcs.map((_, i) => h.csrc(i))).toEqual(spec.csrcs);
        expect(h.payload).toEqual(spec.payload);
        const ext = spec.extension;
        if (ext && ext.form !== 'other') {
          const firsts = new Map<number, Uint8Array>();
          for (const e of ext.elements) if (!firsts.has(e.id)) firsts.set(e.id, e.data);
          for (const [id, data] of firsts) expect(h.extension(id)).toEqual(data);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('answers random bytes with a header or a typed failure', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), exercise), { numRuns: 2000 });
    // The same with version 2 forced, so the parser gets past the first check.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (bytes) => {
        bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x80;
        exercise(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers truncated and bit-flipped valid packets with a header or a typed failure', () => {
    fc.assert(
      fc.property(rtpSpec, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 }), (spec, cut, at, bit) => {
        const bytes = buildRtp(spec);
        exercise(bytes.subarray(0, cut % (bytes.length + 1)));
        const flipped = bytes.slice();
        const index = at % flipped.length;
        flipped[index] = (flipped[index] ?? 0) ^ (1 << bit);
        exercise(flipped);
      }),
      { numRuns: 1000 },
    );
  });

  it('rewrites exactly the fields asked for', () => {
    fc.assert(
      fc.property(
        rtpSpec,
        fc.record(
          {
            ssrc: fc.integer({ min: 0, max: 0xffffffff }),
            payloadType: fc.integer({ min: 0, max: 127 }).filter((pt) => pt < 64 || pt > 95),
            sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
            timestamp: fc.integer({ min: 0, max: 0xffffffff }),
            marker: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
        (spec, fields) => {
          const bytes = buildRtp(spec);
          rewriteRtpHeader(bytes, fields);
          expect(buildRtp({ ...spec, ...fields })).toEqual(bytes);
        },
      ),
      { numRuns: 500 },
    );
  });
});
