import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RewrittenSequence, SequenceRewriter } from './sequence-rewriter.js';
import { sequenceDelta, timestampDelta } from './serial.js';

const A = 0xaaaa0001;
const B = 0xbbbb0002;
const VIDEO_CLOCK = 90_000;

function video(historySize?: number): SequenceRewriter {
  return new SequenceRewriter({ clockRate: VIDEO_CLOCK, ...(historySize ? { historySize } : {}) });
}

describe('SequenceRewriter within one source', () => {
  it('keeps the first source’s numbers, gaps and reordering included', () => {
    const r = video();
    r.switchSource(A);
    expect(r.rewrite(A, 100, 1000, 0)).toEqual({ sequenceNumber: 100, timestamp: 1000 });
    expect(r.rewrite(A, 103, 1090, 10)).toEqual({ sequenceNumber: 103, timestamp: 1090 }); // 101-102 lost: a gap
    expect(r.rewrite(A, 102, 1060, 11)).toEqual({ sequenceNumber: 102, timestamp: 1060 }); // late, still mapped
    expect(r.rewrite(A, 103, 1090, 12)).toEqual({ sequenceNumber: 103, timestamp: 1090 }); // duplicate
  });

  it('drops what is older than the first packet after the switch (its number is taken)', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 100, 1000, 0);
    expect(r.rewrite(A, 99, 970, 1)).toBeNull();
    expect(r.rewrite(A, 100 - 0x7fff, 0, 1)).toBeNull();
  });

  it('follows sequence numbers and timestamps across their wrap-around', () => {
    const r = video();
    r.switchSource(A);
    const out = [
      r.rewrite(A, 65534, 0xfffffe00, 0),
      r.rewrite(A, 65535, 0xffffff00, 1),
      r.rewrite(A, 1, 0x00000100, 3), // 0 lost
      r.rewrite(A, 0, 0x00000000, 4), // and here it is, late
      r.rewrite(A, 2, 0x00000200, 5),
    ];
    expect(out).toEqual([
      { sequenceNumber: 65534, timestamp: 0xfffffe00 },
      { sequenceNumber: 65535, timestamp: 0xffffff00 },
      { sequenceNumber: 1, timestamp: 0x100 },
      { sequenceNumber: 0, timestamp: 0 },
      { sequenceNumber: 2, timestamp: 0x200 },
    ]);
    expect(r.rewrite(A, 65533, 0xfffffd00, 6)).toBeNull(); // before the stint's first packet, across the wrap
  });

  it('takes a jump of less than half the sequence space as a gap, half or more as the past', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 0, 0, 0);
    expect(r.rewrite(A, 0x7fff, 100, 1)?.sequenceNumber).toBe(0x7fff);
    expect(r.rewrite(A, 0xffff, 200, 2)).toBeNull(); // exactly half behind 0x7fff: RFC 1982 leaves it undefined; older
    expect(r.rewrite(A, 0xfffe, 200, 2)?.sequenceNumber).toBe(0xfffe); // 0x7fff ahead: newer
  });

  it('follows a long stream through many wraps', () => {
    const r = video();
    r.switchSource(A);
    let last: RewrittenSequence | null = null;
    for (let i = 0; i < 200_000; i++) last = r.rewrite(A, (40_000 + i) % 65536, (i * 3000) >>> 0, i);
    expect(last).toEqual({ sequenceNumber: (40_000 + 199_999) % 65536, timestamp: (199_999 * 3000) >>> 0 });
    expect(r.rewrite(A, (40_000 + 199_990) % 65536, 0, 0)?.sequenceNumber).toBe((40_000 + 199_990) % 65536);
  });
});

describe('SequenceRewriter switching sources', () => {
  it('forwards only the selected source, nothing before the first selection', () => {
    const r = video();
    expect(r.rewrite(A, 1, 1, 0)).toBeNull();
    r.switchSource(A);
    expect(r.sourceSsrc).toBe(A);
    expect(r.rewrite(B, 1, 1, 0)).toBeNull();
    expect(r.rewrite(A, 1, 1, 0)).not.toBeNull();
  });

  it('continues at highest + 1 and moves the timestamp by the wall-clock time since', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 100, 1000, 1000); // the frame with timestamp 1000 first sent at t = 1000 ms
    r.rewrite(A, 101, 1000, 1005); // same frame, second packet
    r.rewrite(A, 102, 4000, 1033);
    r.switchSource(B);
    expect(r.rewrite(A, 103, 7000, 1066)).toBeNull(); // late packet of the old source
    // 40 ms after timestamp 4000 was first sent: 40 ms × 90 kHz = 3600 ticks.
    expect(r.rewrite(B, 5000, 777, 1073)).toEqual({ sequenceNumber: 103, timestamp: 7600 });
    expect(r.rewrite(B, 5002, 777 + 3000, 1100)).toEqual({ sequenceNumber: 105, timestamp: 10600 });
    expect(r.rewrite(B, 5001, 777, 1101)).toEqual({ sequenceNumber: 104, timestamp: 7600 });
    expect(r.rewrite(B, 4999, 777, 1102)).toBeNull(); // older than B's first packet since the switch
  });

  it('advances the timestamp at least one tick, so the new source starts a new frame', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 10, 500, 50);
    r.switchSource(B);
    expect(r.rewrite(B, 9000, 123, 50)?.timestamp).toBe(501);
    r.switchSource(A);
    expect(r.rewrite(A, 11, 600, 40)?.timestamp).toBe(502); // a clock going back counts as no time
  });

  it('wraps the outgoing numbers at a switch', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 65535, 0xffffffff, 0);
    r.switchSource(B);
    expect(r.rewrite(B, 300, 5, 1000)).toEqual({ sequenceNumber: 0, timestamp: 89_999 });
  });

  it('caps the timestamp jump after a very long pause below half the timestamp space', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 1, 0, 0);
    r.switchSource(B);
    const out = r.rewrite(B, 1, 0, 10 * 3600 * 1000); // 10 h: 3.24e9 ticks would read as a step back
    expect(out && timestampDelta(out.timestamp, 0)).toBe(0x3fffffff);
  });

  it('starts a new stint when the same source is selected again after a pause', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 100, 0, 0);
    r.switchSource(undefined);
    expect(r.sourceSsrc).toBeUndefined();
    expect(r.rewrite(A, 101, 3000, 33)).toBeNull();
    r.switchSource(A);
    // A went on to 900 meanwhile: continuing at 101 hides those 799 packets from the subscriber's NACKs.
    expect(r.rewrite(A, 900, 90_000, 1000)).toEqual({ sequenceNumber: 101, timestamp: 90_000 });
  });

  it('ignores a switch to the source already selected', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 100, 0, 0);
    r.switchSource(A);
    expect(r.rewrite(A, 105, 3000, 33)).toEqual({ sequenceNumber: 105, timestamp: 3000 });
  });
});

describe('SequenceRewriter.mapTimestamp', () => {
  it('maps a source timestamp (a sender report’s) with the running stint’s offset, only for that source', () => {
    const r = video();
    expect(r.mapTimestamp(A, 5)).toBeUndefined(); // nothing forwarded yet
    r.switchSource(A);
    r.rewrite(A, 100, 1000, 0);
    expect(r.mapTimestamp(A, 4000)).toBe(4000); // the first stint keeps the source's timeline
    r.switchSource(B);
    expect(r.mapTimestamp(A, 4000)).toBeUndefined();
    const first = r.rewrite(B, 7, 0xfffffff0, 100);
    expect(r.mapTimestamp(B, 0xfffffff0)).toBe(first?.timestamp);
    expect(r.mapTimestamp(B, 0x10)).toBe(((first?.timestamp ?? 0) + 0x20) >>> 0); // across the wrap
  });
});

describe('SequenceRewriter.unmap', () => {
  it('answers which source packet an outgoing number stands for, across stints', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 100, 0, 0);
    r.rewrite(A, 102, 0, 0); // 101 lost upstream
    r.switchSource(B);
    r.rewrite(B, 7, 0, 10);
    r.rewrite(B, 8, 0, 10);
    expect(r.unmap(100)).toEqual({ ssrc: A, sequenceNumber: 100 });
    expect(r.unmap(101)).toEqual({ ssrc: A, sequenceNumber: 101 }); // the gap: A may retransmit it
    expect(r.unmap(102)).toEqual({ ssrc: A, sequenceNumber: 102 });
    expect(r.unmap(103)).toEqual({ ssrc: B, sequenceNumber: 7 });
    expect(r.unmap(104)).toEqual({ ssrc: B, sequenceNumber: 8 });
    expect(r.unmap(105)).toBeUndefined(); // not sent yet
    expect(r.unmap(99)).toBeUndefined(); // before anything was sent
  });

  it('answers nothing before the first packet', () => {
    expect(video().unmap(0)).toBeUndefined();
  });

  it('follows the wrap-around', () => {
    const r = video();
    r.switchSource(A);
    r.rewrite(A, 65535, 0, 0);
    r.switchSource(B);
    r.rewrite(B, 40_000, 0, 0);
    r.rewrite(B, 40_001, 0, 0);
    expect(r.unmap(65535)).toEqual({ ssrc: A, sequenceNumber: 65535 });
    expect(r.unmap(0)).toEqual({ ssrc: B, sequenceNumber: 40_000 });
    expect(r.unmap(1)).toEqual({ ssrc: B, sequenceNumber: 40_001 });
  });

  it('forgets what is older than its history', () => {
    const r = video(10);
    r.switchSource(A);
    for (let seq = 0; seq < 20; seq++) r.rewrite(A, seq, 0, 0);
    expect(r.unmap(10)).toEqual({ ssrc: A, sequenceNumber: 10 });
    expect(r.unmap(9)).toBeUndefined();
    // Many short stints: the ones wholly outside the history are let go.
    for (let i = 0; i < 100; i++) {
      r.switchSource(i % 2 ? A : B);
      r.rewrite(i % 2 ? A : B, 1000 + i, 0, 0);
    }
    expect((r as unknown as { stints: unknown[] }).stints.length).toBeLessThanOrEqual(11);
    expect(r.unmap(119)).toEqual({ ssrc: A, sequenceNumber: 1099 });
    expect(r.unmap(110)).toEqual({ ssrc: B, sequenceNumber: 1090 });
    expect(r.unmap(109)).toBeUndefined();
  });
});

describe('SequenceRewriter options', () => {
  it('refuses a clock rate or history it cannot use', () => {
    expect(() => new SequenceRewriter({ clockRate: 0 })).toThrow(RangeError);
    expect(() => new SequenceRewriter({ clockRate: Number.NaN })).toThrow(RangeError);
    expect(() => new SequenceRewriter({ clockRate: 48_000, historySize: 0 })).toThrow(RangeError);
    expect(() => new SequenceRewriter({ clockRate: 48_000, historySize: 0x8001 })).toThrow(RangeError);
    expect(() => new SequenceRewriter({ clockRate: 48_000, historySize: 0x8000 })).not.toThrow();
  });
});

// Property tests over random schedules: segments of in-order packets from randomly chosen sources,
// with packets from unselected sources mixed in, pauses, gaps, and starting points near the wraps.

interface Segment {
  source: number | undefined; // index into the sources, undefined: pause
  packets: { seqGap: number; tsStep: number; dtMs: number }[];
  strays: number[]; // packets from these sources arrive during the segment
}

const segment: fc.Arbitrary<Segment> = fc.record({
  source: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 8 }),
  packets: fc.array(
    fc.record({
      seqGap: fc.integer({ min: 1, max: 3 }),
      tsStep: fc.integer({ min: 0, max: 6000 }),
      dtMs: fc.integer({ min: 0, max: 100 }),
    }),
    { minLength: 1, maxLength: 40 },
  ),
  strays: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
});

const nearWrap16 = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xff00, max: 0xffff }));
const nearWrap32 = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffff0000, max: 0xffffffff }));

describe('SequenceRewriter properties', () => {
  it('gives in-order input a gapless-at-switches, increasing output, and unmap inverts it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ seq: nearWrap16, ts: nearWrap32 }), { minLength: 4, maxLength: 4 }),
        fc.array(segment, { minLength: 1, maxLength: 12 }),
        (starts, segments) => {
          const ssrcs = [0x1111, 0x2222, 0x3333, 0x4444];
          const sources = starts.map((s) => ({ ...s }));
          const r = new SequenceRewriter({ clockRate: VIDEO_CLOCK });
          let now = 0;
          let previous: RewrittenSequence | undefined;
          let previousIn: { seq: number; ts: number } | undefined;
          const sent: { out: number; ssrc: number; seq: number }[] = [];

          const send = (index: number) => {
            const source = sources[index];
            if (!source) throw new Error('no source');
            return r.rewrite(ssrcs[index] ?? 0, source.seq, source.ts, now);
          };

          for (const seg of segments) {
            const target = seg.source === undefined ? undefined : ssrcs[seg.source];
            // A switch (or a resume after a pause) starts a stint; selecting the current source does not.
            const startsStint = target !== undefined && target !== r.sourceSsrc;
            r.switchSource(target);
            seg.packets.forEach((p, i) => {
              now += p.dtMs;
              const stray = seg.strays[i];
              if (stray !== undefined && stray !== seg.source) {
                const strayOut = send(stray);
                expect(strayOut).toBeNull();
              }
              if (seg.source === undefined) return;
              const source = sources[seg.source];
              if (!source) throw new Error('no source');
              const out = send(seg.source);
              if (!out) throw new Error('in-order packet of the selected source dropped');
              if (previous) {
                const newStint = i === 0 && startsStint;
                const seqStep = sequenceDelta(out.sequenceNumber, previous.sequenceNumber);
                const tsStep = timestampDelta(out.timestamp, previous.timestamp);
                if (newStint) {
                  expect(seqStep).toBe(1);
                  expect(tsStep).toBeGreaterThanOrEqual(1);
                } else if (previousIn) {
                  expect(seqStep).toBe(sequenceDelta(source.seq, previousIn.seq));
                  expect(tsStep).toBe(timestampDelta(source.ts, previousIn.ts));
                }
              }
              sent.push({ out: out.sequenceNumber, ssrc: ssrcs[seg.source] ?? 0, seq: source.seq });
              previous = out;
              previousIn = { seq: source.seq, ts: source.ts };
              source.seq = (source.seq + p.seqGap) & 0xffff;
              source.ts = (source.ts + p.tsStep) >>> 0;
            });
            // Every source advances while not selected, as real publishers do.
            for (const [index, source] of sources.entries()) {
              if (index === seg.source) continue;
              source.seq = (source.seq + 37) & 0xffff;
              source.ts = (source.ts + 9000) >>> 0;
            }
          }
          for (const { out, ssrc, seq } of sent) expect(r.unmap(out)).toEqual({ ssrc, sequenceNumber: seq });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('maps reordered packets of one stint by their distance from the first, and drops older ones', () => {
    fc.assert(
      fc.property(
        nearWrap16,
        nearWrap32,
        fc.integer({ min: 2, max: 200 }),
        fc.array(fc.nat(), { maxLength: 100 }),
        fc.nat({ max: 20 }),
        (startSeq, startTs, count, swaps, firstIndex) => {
          // Packets i = 0..count-1 with sequence startSeq + i, shuffled by random adjacent swaps.
          const order = Array.from({ length: count }, (_, i) => i);
          for (const s of swaps) {
            const at = s % (count - 1);
            [order[at], order[at + 1]] = [order[at + 1] ?? 0, order[at] ?? 0];
          }
          const first = order[firstIndex % count] ?? 0;
          const arrival = [first, ...order.filter((i) => i !== first)];
          const r = video();
          r.switchSource(A);
          r.rewrite(A, 5, 5, 0); // an earlier stint, so the one under test is not the identity
          r.switchSource(B);
          const out = new Map<number, RewrittenSequence | null>();
          for (const i of arrival) out.set(i, r.rewrite(B, (startSeq + i) & 0xffff, (startTs + i * 100) >>> 0, 0));
          const base = out.get(first);
          if (!base) throw new Error('first packet dropped');
          for (const [i, o] of out) {
            if (i < first) {
              expect(o).toBeNull();
              continue;
            }
            expect(o).toEqual({
              sequenceNumber: (base.sequenceNumber + i - first) & 0xffff,
              timestamp: (base.timestamp + (i - first) * 100) >>> 0,
            });
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
