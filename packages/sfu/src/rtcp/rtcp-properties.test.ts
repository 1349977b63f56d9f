import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildFir,
  buildNack,
  buildPli,
  buildReceiverReport,
  buildRemb,
  type FirEntry,
  MAX_REMB_BITRATE,
  type ReportBlock,
  type RtcpItem,
  readRtcpCompound,
  rewriteMediaSsrc,
  rewriteSenderSsrc,
} from './rtcp-packet.js';

// Property tests: every builder round-trips through the walk, alone and inside compounds; whatever
// bytes arrive, the walk answers with items and a typed reason, never an exception, and the
// in-place rewrites never write outside the packet they were pointed at.

const ssrc = fc.integer({ min: 0, max: 0xffffffff });
const seq = fc.integer({ min: 0, max: 0xffff });

const reportBlock: fc.Arbitrary<ReportBlock> = fc.record({
  ssrc,
  fractionLost: fc.integer({ min: 0, max: 255 }),
  cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
  highestSequenceNumber: ssrc,
  jitter: ssrc,
  lastSenderReport: ssrc,
  delaySinceLastSenderReport: ssrc,
});
const firEntry: fc.Arbitrary<FirEntry> = fc.record({ ssrc, sequenceNumber: fc.integer({ min: 0, max: 255 }) });

/** Lost sequence numbers as a NACK sees them: within half the space of each other, around any base. */
const lostSet = fc
  .tuple(seq, fc.uniqueArray(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 60 }))
  .map(([base, offsets]) => offsets.map((o) => (base + o) & 0xffff));

type Built = { bytes: Uint8Array; expected: Omit<RtcpItem, 'offset' | 'length'> | null };

/** A buildable packet and the item the walk must read back (null for one it skips). */
const built: fc.Arbitrary<Built> = fc.oneof(
  fc.tuple(ssrc, ssrc).map(([s, m]) => ({
    bytes: buildPli(s, m),
    expected: { type: 'pli' as const, senderSsrc: s, mediaSsrc: m },
  })),
  fc.tuple(ssrc, fc.array(firEntry, { minLength: 1, maxLength: 5 })).map(([s, entries]) => ({
    bytes: buildFir(s, entries),
    expected: { type: 'fir' as const, senderSsrc: s, entries },
  })),
  fc.tuple(ssrc, ssrc, lostSet).map(([s, m, lost]) => ({
    bytes: buildNack(s, m, lost),
    expected: { type: 'nack' as const, senderSsrc: s, mediaSsrc: m, lost: circular(lost) },
  })),
  fc.tuple(ssrc, fc.array(reportBlock, { maxLength: 31 })).map(([s, reports]) => ({
    bytes: buildReceiverReport(s, reports),
    expected: { type: 'rr' as const, ssrc: s, reports },
  })),
  fc.tuple(ssrc, fc.integer({ min: 0, max: 0x3ffff }), fc.array(ssrc, { maxLength: 8 })).map(([s, bitrate, ssrcs]) => ({
    bytes: buildRemb(s, bitrate, ssrcs),
    expected: { type: 'remb' as const, senderSsrc: s, bitrate, ssrcs },
  })),
  // A BYE with random sources: walked and skipped.
  fc.array(ssrc, { maxLength: 4 }).map((sources) => {
    const bytes = new Uint8Array(4 + sources.length * 4);
    bytes[0] = 0x80 | sources.length;
    bytes[1] = 203;
    bytes[3] = sources.length;
    const view = new DataView(bytes.buffer);
    for (const [i, s] of sources.entries()) view.setUint32(4 + i * 4, s);
    return { bytes, expected: null };
  }),
);

/** The order a NACK reports sequence numbers in: deduplicated, ascending from the oldest, across the wrap. */
function circular(lost: readonly number[]): number[] {
  const unique = [...new Set(lost)];
  // The oldest is the one no other precedes within half the space.
  const oldest = unique.find((a) => unique.every((b) => ((a - b) & 0xffff) === 0 || ((b - a) & 0xffff) < 0x8000));
  return unique.sort((a, b) => ((a - (oldest ?? 0)) & 0xffff) - ((b - (oldest ?? 0)) & 0xffff));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

const REASONS = new Set(['too-short', 'bad-version', 'bad-length', 'bad-padding', 'bad-report', 'bad-feedback']);

/** Runs what the router would run on received RTCP; checks only typed, in-bounds results come back. */
function exercise(bytes: Uint8Array): void {
  const walk = readRtcpCompound(bytes);
  if (!walk.ok) {
    expect(REASONS.has(walk.reason)).toBe(true);
    expect(walk.offset).toBeLessThan(Math.max(bytes.length, 1));
  }
  expect(walk.items.length + walk.skipped).toBe(walk.packets);
  let end = 0;
  for (const item of walk.items) {
    expect(item.offset).toBeGreaterThanOrEqual(end);
    end = item.offset + item.length;
    expect(end).toBeLessThanOrEqual(bytes.length);
    if (item.type === 'transport-cc') expect(item.fci.byteOffset + item.fci.length).toBeLessThanOrEqual(end);
  }
}

describe('RTCP builders round-trip through readRtcpCompound', () => {
  it('alone', () => {
    fc.assert(
      fc.property(built, ({ bytes, expected }) => {
        const walk = readRtcpCompound(bytes);
        expect(walk.ok).toBe(true);
        expect(walk.items).toEqual(expected ? [{ ...expected, offset: 0, length: bytes.length }] : []);
      }),
      { numRuns: 1000 },
    );
  });

  it('inside compounds, with positions', () => {
    fc.assert(
      fc.property(fc.array(built, { minLength: 1, maxLength: 6 }), (parts) => {
        const walk = readRtcpCompound(concat(parts.map((p) => p.bytes)));
        expect(walk.ok).toBe(true);
        let offset = 0;
        const expected: RtcpItem[] = [];
        for (const part of parts) {
          if (part.expected) expected.push({ ...part.expected, offset, length: part.bytes.length } as RtcpItem);
          offset += part.bytes.length;
        }
        expect(walk.items).toEqual(expected);
        expect(walk.packets).toBe(parts.length);
        expect(walk.skipped).toBe(parts.length - expected.length);
      }),
      { numRuns: 300 },
    );
  });

  it('REMB keeps 18 significant bits of any bitrate', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: MAX_REMB_BITRATE, noNaN: true }), (bitrate) => {
        const item = readRtcpCompound(buildRemb(1, bitrate, [])).items[0];
        if (item?.type !== 'remb') throw new Error('no REMB');
        expect(item.bitrate).toBeLessThanOrEqual(bitrate);
        // Rounded down by less than one step of the exponent chosen: a relative error under 2^-17.
        expect(bitrate - item.bitrate).toBeLessThanOrEqual(Math.max(1, bitrate / 2 ** 17));
      }),
      { numRuns: 1000 },
    );
  });

  it('NACK covers exactly the lost numbers, in as few entries as greedy packing allows', () => {
    fc.assert(
      fc.property(lostSet, (lost) => {
        const bytes = buildNack(1, 2, lost);
        const entries = (bytes.length - 12) / 4;
        const ordered = circular(lost);
        let greedy = 0;
        let pid: number | undefined;
        for (const s of ordered) {
          if (pid === undefined || ((s - pid) & 0xffff) > 16) {
            greedy++;
            pid = s;
          }
        }
        expect(entries).toBe(greedy);
      }),
    );
  });
});

describe('readRtcpCompound fuzzing', () => {
  it('answers random bytes with items and a typed reason', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), exercise), { numRuns: 3000 });
  });

  it('answers random bytes behind a valid version with items and a typed reason', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 4, maxLength: 40 }), { maxLength: 4 }), (packets) => {
        // Random packets with version 2, feedback or report types, and a length field that fits.
        for (const p of packets) {
          p[0] = 0x80 | ((p[0] ?? 0) & 0x3f);
          p[1] = 200 + ((p[1] ?? 0) % 8);
          const words = Math.floor(p.length / 4) - 1;
          p[2] = 0;
          p[3] = words;
        }
        exercise(concat(packets.map((p) => p.subarray(0, (Math.floor(p.length / 4) || 1) * 4))));
      }),
      { numRuns: 3000 },
    );
  });

  it('answers truncated and bit-flipped valid compounds with items and a typed reason', () => {
    fc.assert(
      fc.property(
        fc.array(built, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (parts, cut, at, bit) => {
          const bytes = concat(parts.map((p) => p.bytes));
          exercise(bytes.subarray(0, cut % (bytes.length + 1)));
          const flipped = bytes.slice();
          const index = at % flipped.length;
          flipped[index] = (flipped[index] ?? 0) ^ (1 << bit);
          exercise(flipped);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('in-place feedback rewriting', () => {
  it('never writes outside the packet it was pointed at, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.integer({ min: -2, max: 62 }), ssrc, (bytes, offset, value) => {
        for (const rewrite of [rewriteMediaSsrc, rewriteSenderSsrc]) {
          const copy = bytes.slice();
          const wrote = rewrite(copy, value, offset);
          if (!wrote) {
            expect(copy).toEqual(bytes);
            continue;
          }
          const length = (((bytes[offset + 2] ?? 0) << 8) + (bytes[offset + 3] ?? 0) + 1) * 4;
          expect(copy.subarray(0, offset)).toEqual(bytes.subarray(0, offset));
          expect(copy.subarray(offset + length)).toEqual(bytes.subarray(offset + length));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('retargets every built PLI, FIR and NACK inside a compound', () => {
    fc.assert(
      fc.property(fc.array(built, { minLength: 1, maxLength: 5 }), ssrc, ssrc, (parts, media, sender) => {
        const bytes = concat(parts.map((p) => p.bytes));
        for (const item of readRtcpCompound(bytes).items) {
          const feedback = item.type === 'pli' || item.type === 'fir' || item.type === 'nack';
          expect(rewriteMediaSsrc(bytes, media, item.offset)).toBe(feedback);
          expect(rewriteSenderSsrc(bytes, sender, item.offset)).toBe(feedback);
        }
        for (const item of readRtcpCompound(bytes).items) {
          if (item.type === 'pli' || item.type === 'nack')
            expect([item.senderSsrc, item.mediaSsrc]).toEqual([sender, media]);
          if (item.type === 'fir') {
            expect(item.senderSsrc).toBe(sender);
            for (const entry of item.entries) expect(entry.ssrc).toBe(media);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
