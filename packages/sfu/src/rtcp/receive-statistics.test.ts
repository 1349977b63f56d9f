import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReceiveStatistics } from './receive-statistics.js';
import { buildReceiverReport, type ReportBlock, readRtcpCompound } from './rtcp-packet.js';

const SSRC = 0x1234abcd;

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A stream whose sequence numbers and timestamps both step by one, arriving at `nowMs`. */
function receive(stats: ReceiveStatistics, seqs: readonly number[], nowMs = 0): void {
  for (const seq of seqs) stats.onPacket(seq & 0xffff, (seq * 3000) >>> 0, nowMs);
}

function report(stats: ReceiveStatistics, nowMs = 0): ReportBlock {
  const block = stats.reportBlock(nowMs);
  if (block === undefined) throw new Error('no report block');
  return block;
}

describe('ReceiveStatistics', () => {
  it('throws RangeError for a bad SSRC, clock rate or maxMisorder', () => {
    expect(() => new ReceiveStatistics({ ssrc: -1, clockRate: 90_000 })).toThrow(RangeError);
    expect(() => new ReceiveStatistics({ ssrc: 2 ** 32, clockRate: 90_000 })).toThrow(RangeError);
    expect(() => new ReceiveStatistics({ ssrc: 1.5, clockRate: 90_000 })).toThrow(RangeError);
    expect(() => new ReceiveStatistics({ ssrc: SSRC, clockRate: 0 })).toThrow(RangeError);
    expect(() => new ReceiveStatistics({ ssrc: SSRC, clockRate: Number.NaN })).toThrow(RangeError);
    expect(() => new ReceiveStatistics({ ssrc: SSRC, clockRate: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000, maxMisorder: 0 })).toThrow(RangeError);
    expect(() => new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000, maxMisorder: 0x8001 })).toThrow(RangeError);
    expect(() => new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000, maxMisorder: 2.5 })).toThrow(RangeError);
    expect(new ReceiveStatistics({ ssrc: 0xffffffff, clockRate: 48_000, maxMisorder: 0x8000 }).ssrc).toBe(0xffffffff);
  });

  it('has no report block before the stream is valid: before any packet, and on probation (A.1)', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    expect(stats.reportBlock(0)).toBeUndefined();
    stats.onPacket(100, 0, 0);
    expect(stats.reportBlock(0)).toBeUndefined();
    stats.onPacket(102, 0, 0); // not in sequence: probation starts over from 102
    expect(stats.reportBlock(0)).toBeUndefined();
    stats.onPacket(103, 0, 0);
    // Valid from the second in-sequence packet, which is the base: nothing before it counts.
    expect(report(stats)).toEqual({
      ssrc: SSRC,
      fractionLost: 0,
      cumulativeLost: 0,
      highestSequenceNumber: 103,
      jitter: 0,
      lastSenderReport: 0,
      delaySinceLastSenderReport: 0,
    });
    expect(stats.packetsReceived).toBe(3);
  });

  it('reports no loss for a complete stream', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, range(1000, 1100));
    const block = report(stats);
    expect(block.fractionLost).toBe(0);
    expect(block.cumulativeLost).toBe(0);
    expect(block.highestSequenceNumber).toBe(1099);
    expect(stats.packetsReceived).toBe(100);
  });

  it('reports 10% loss as a fraction of 25/256 and the lost count', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    // Base 1 (the second packet), highest 1000: 1000 expected, the 100 ending in 5 lost.
    receive(
      stats,
      range(0, 1001).filter((seq) => seq % 10 !== 5),
    );
    const block = report(stats);
    expect(block.fractionLost).toBe(25); // floor(100 × 256 / 1000)
    expect(block.cumulativeLost).toBe(100);
    expect(block.highestSequenceNumber).toBe(1000);
  });

  it('does not count reordered packets as lost', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, [10, 11, 13, 12, 15, 14, 16]);
    expect(report(stats)).toMatchObject({ fractionLost: 0, cumulativeLost: 0, highestSequenceNumber: 16 });
  });

  it('counts duplicates as received, so the cumulative loss can go negative (RFC 3550 §6.4.1)', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, [10, 11, 12, 12, 13, 11, 14]);
    // Base 11, highest 14: 4 expected, 6 received.
    expect(report(stats)).toMatchObject({ fractionLost: 0, cumulativeLost: -2, highestSequenceNumber: 14 });
    expect(stats.packetsReceived).toBe(7);
  });

  it('covers only the interval since the previous report in each fraction lost', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, [0, 1]);
    // 2..101 with every other one lost: 101 expected, 51 received so far.
    receive(
      stats,
      range(2, 102).filter((seq) => seq % 2 === 1),
    );
    expect(report(stats)).toMatchObject({ fractionLost: 126, cumulativeLost: 50 }); // floor(50 × 256 / 101)
    receive(stats, range(102, 202));
    expect(report(stats)).toMatchObject({ fractionLost: 0, cumulativeLost: 50 });
    // No packet since: an empty interval.
    expect(report(stats)).toMatchObject({ fractionLost: 0, cumulativeLost: 50 });
    receive(
      stats,
      range(202, 302).filter((seq) => seq % 4 !== 0),
    );
    expect(report(stats)).toMatchObject({ fractionLost: 64, cumulativeLost: 75 });
  });

  it('reads a packet that arrives after the report that counted it lost as a negative loss: fraction 0', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, [0, 1, 2, 4]);
    expect(report(stats)).toMatchObject({ fractionLost: 64, cumulativeLost: 1 }); // 1 of 4
    receive(stats, [3, 5]); // a retransmission, then the next one
    expect(report(stats)).toMatchObject({ fractionLost: 0, cumulativeLost: 0 });
  });

  it('counts a cycle at each wrap of the sequence number', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, range(65530, 65536));
    expect(report(stats).highestSequenceNumber).toBe(65535);
    receive(stats, range(0, 6));
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 0x10005, cumulativeLost: 0, fractionLost: 0 });
    // A packet from before the wrap, arriving late, is not a cycle back.
    receive(stats, [65534]);
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 0x10005, cumulativeLost: -1 });
    // The second wrap, 0 lost across it: one lost, less the duplicate above.
    receive(stats, [...range(6, 65536), ...range(1, 10)]);
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 0x20009, cumulativeLost: 0 });
  });

  it('starts on probation across the wrap too', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, [65535, 0, 1]);
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 1, cumulativeLost: 0 });
  });

  it('ignores a lone packet from a very large jump (A.1)', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, range(100, 201));
    receive(stats, [40_000]); // far ahead
    receive(stats, [201, 202]);
    receive(stats, [202 - 101]); // further back than MAX_MISORDER (100)
    receive(stats, [203]);
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 203, cumulativeLost: 0, fractionLost: 0 });
    expect(stats.packetsReceived).toBe(106);
  });

  it('takes a forward step under MAX_DROPOUT (3000) as loss, and one of 3000 as a jump', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(stats, [0, 1, 3000]);
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 3000, cumulativeLost: 2998 });
    receive(stats, [6000]);
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 3000, cumulativeLost: 2998 });
  });

  it('starts over when a very large jump is confirmed by the next packet (A.1 bad_seq)', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(
      stats,
      [...range(65000, 65536), ...range(0, 100)].filter((seq) => seq % 7 !== 0),
    );
    const before = report(stats);
    expect(before.highestSequenceNumber).toBe(0x10063);
    expect(before.cumulativeLost).toBeGreaterThan(0);
    receive(stats, [30_000, 30_001]); // the publisher restarted
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 30_001, cumulativeLost: 0, fractionLost: 0 });
    receive(stats, [30_002, 30_004]);
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 30_004, cumulativeLost: 1, fractionLost: 85 });
    // The old numbers are now the jump: 98 and 99 restart the stream back there.
    receive(stats, [98, 99, 100]);
    expect(report(stats)).toMatchObject({ highestSequenceNumber: 100, cumulativeLost: 0 });
  });

  it('lets a larger maxMisorder count retransmissions from far back instead of restarting', () => {
    // Without RTX, two consecutive NACKed packets 200 behind read as a restart with the default:
    // the statistics start over at 101, and 102-299, received before, now count as lost.
    const seqs = [...range(0, 300).filter((seq) => seq < 100 || seq > 101), 100, 101, 300];
    const byDefault = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    receive(byDefault, seqs);
    expect(report(byDefault)).toMatchObject({ highestSequenceNumber: 300, cumulativeLost: 198 });
    const tolerant = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000, maxMisorder: 500 });
    receive(tolerant, seqs);
    expect(report(tolerant)).toMatchObject({ highestSequenceNumber: 300, cumulativeLost: 0 });
  });

  it('clamps the cumulative loss to 24 bits and wraps the extended highest sequence number at 2^32', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    let seq = 1;
    receive(stats, [0, 1]);
    // Steps of 2999 (under MAX_DROPOUT): 2998 lost each, 2^24 lost long before 2^16 cycles.
    const steps = 65536 * 22;
    for (let i = 0; i < steps; i++) {
      seq = (seq + 2999) & 0xffff;
      stats.onPacket(seq, 0, 0);
    }
    const block = report(stats);
    expect(block.cumulativeLost).toBe(0x7fffff); // steps × 2998 before clamping
    const extended = 1 + steps * 2999; // from base 1
    expect(block.highestSequenceNumber).toBe(extended % 2 ** 32);
    expect(block.fractionLost).toBe(255); // floor(2998 × 256 / 2999)
    // The clamped values still make a valid report, read back as they were written.
    const walk = readRtcpCompound(buildReceiverReport(1, [block]));
    expect(walk.items).toEqual([expect.objectContaining({ type: 'rr', ssrc: 1, reports: [block] })]);
  });

  it('ignores values the header fields cannot hold', () => {
    const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
    stats.onPacket(65536, 0, 0);
    stats.onPacket(-1, 0, 0);
    stats.onPacket(1.5, 0, 0);
    stats.onPacket(1, 2 ** 32, 0);
    stats.onPacket(1, 0, Number.NaN);
    expect(stats.packetsReceived).toBe(0);
    expect(stats.reportBlock(0)).toBeUndefined();
    receive(stats, [1, 2]);
    stats.onSenderReport(2 ** 32, 0, 0);
    stats.onSenderReport(1, -1, 0);
    stats.onSenderReport(1, 1, Number.POSITIVE_INFINITY);
    expect(report(stats)).toMatchObject({ lastSenderReport: 0, delaySinceLastSenderReport: 0 });
  });

  describe('jitter (A.8)', () => {
    it('is 0 for a stream arriving exactly at its timestamps’ pace', () => {
      const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
      for (let i = 0; i < 300; i++) stats.onPacket(i, (12345 + i * 3000) >>> 0, 1000 + (i * 100) / 3);
      expect(report(stats).jitter).toBe(0);
    });

    it('matches a hand-computed example', () => {
      const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 8000 });
      // 20 ms packets (160 ticks at 8 kHz); the first is on probation, the second the reference.
      const arrivals = [0, 20, 45, 60, 80];
      arrivals.forEach((nowMs, i) => {
        stats.onPacket(i, i * 160, nowMs);
      });
      // 45: arrived 25 ms = 200 ticks after the previous, 160 apart: |D| = 40, J = 40 / 16 = 2.5
      // 60: 15 ms = 120 ticks, |D| = 40: J = 2.5 + (40 - 2.5) / 16 = 4.84375
      // 80: |D| = 0: J = 4.84375 - 4.84375 / 16 = 4.541015625, reported as 4.
      expect(report(stats).jitter).toBe(4);
    });

    it('grows with the variation of arrival and decays back once it stops', () => {
      const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
      const run = (from: number, to: number, wobbleMs: number) => {
        for (let i = from; i < to; i++) stats.onPacket(i, i * 3000, i * 33.3333 + (i % 2) * wobbleMs);
      };
      run(0, 200, 2);
      const small = report(stats).jitter;
      run(200, 400, 10);
      const large = report(stats).jitter;
      // Every |D| is 2 × wobble ms: the average tends to it (180 and 900 ticks).
      expect(small).toBeGreaterThan(170);
      expect(small).toBeLessThanOrEqual(180);
      expect(large).toBeGreaterThan(850);
      expect(large).toBeLessThanOrEqual(900);
      run(400, 600, 0);
      expect(report(stats).jitter).toBeLessThan(10);
    });

    it('is not raised by the packets of one frame paced out with the same timestamp', () => {
      const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
      let seq = 0;
      for (let frame = 0; frame < 100; frame++) {
        // Five packets 2 ms apart, the frame's first at its timestamp's time.
        for (let p = 0; p < 5; p++) stats.onPacket(seq++, frame * 3000, frame * (100 / 3) + p * 2);
      }
      // Measured against the previous frame's last packet, as libwebrtc does: 8 ms early every time.
      expect(report(stats).jitter).toBe(Math.floor(8 * 90 * (1 - (15 / 16) ** 99)));
    });

    it('ignores late and retransmitted packets and timestamp jumps', () => {
      const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 8000 });
      for (let i = 0; i < 50; i++) stats.onPacket(i, i * 160, i * 20);
      stats.onPacket(40, 40 * 160, 50 * 20); // a retransmission, 200 ms late
      stats.onPacket(49, 49 * 160, 50 * 20); // a duplicate
      stats.onPacket(50, 50 * 160, 50 * 20);
      stats.onPacket(51, 51 * 160 + 8000 * 10, 51 * 20); // the timestamp jumps by 10 s
      stats.onPacket(52, 52 * 160 + 8000 * 10, 52 * 20);
      expect(report(stats).jitter).toBe(0);
    });

    it('handles the timestamp wrap', () => {
      const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
      const start = 2 ** 32 - 10 * 3000;
      for (let i = 0; i < 20; i++) stats.onPacket(i, (start + i * 3000) % 2 ** 32, i * (100 / 3));
      expect(report(stats).jitter).toBe(0);
    });
  });

  describe('LSR and DLSR', () => {
    it('reports the middle 32 bits of the last SR and the delay since it, in 1/65536 s', () => {
      const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
      receive(stats, [1, 2]);
      expect(report(stats, 900)).toMatchObject({ lastSenderReport: 0, delaySinceLastSenderReport: 0 });
      stats.onSenderReport(0xe020a2a9, 0x52a53fc0, 1000);
      expect(report(stats, 1000)).toMatchObject({ lastSenderReport: 0xa2a952a5, delaySinceLastSenderReport: 0 });
      expect(report(stats, 1500)).toMatchObject({ lastSenderReport: 0xa2a952a5, delaySinceLastSenderReport: 32768 });
      expect(report(stats, 3000).delaySinceLastSenderReport).toBe(131072);
      // A newer SR replaces it.
      stats.onSenderReport(0xe020a2aa, 0x80000000, 3000);
      expect(report(stats, 3250)).toMatchObject({ lastSenderReport: 0xa2aa8000, delaySinceLastSenderReport: 16384 });
    });

    it('says 0 for a clock before the SR arrived, and saturates after 2^16 s', () => {
      const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
      receive(stats, [1, 2]);
      stats.onSenderReport(0xffffffff, 0xffffffff, 5000);
      expect(report(stats, 4000)).toMatchObject({ lastSenderReport: 0xffffffff, delaySinceLastSenderReport: 0 });
      expect(report(stats, 5000 + 65536 * 1000 + 1).delaySinceLastSenderReport).toBe(0xffffffff);
    });
  });

  it('gives buildReceiverReport a block it accepts, for any input (round trip through readRtcpCompound)', () => {
    const garbage = fc.constantFrom(-1, 65536, 1.5, Number.NaN, 2 ** 32);
    // Mostly in sequence (so the stream passes probation), with gaps, reordering, duplicates,
    // jumps anywhere and values no header field holds.
    const sequenceNumber = fc.oneof(
      { weight: 10, arbitrary: fc.record({ step: fc.constant(1) }) },
      { weight: 4, arbitrary: fc.record({ step: fc.integer({ min: -150, max: 3100 }) }) },
      { weight: 1, arbitrary: fc.record({ raw: fc.oneof(fc.integer({ min: 0, max: 0xffff }), garbage) }) },
    );
    const packet = fc.record({
      kind: fc.constant('packet' as const),
      seq: sequenceNumber,
      timestamp: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), garbage),
      dtMs: fc.oneof(fc.double({ min: -100, max: 1e6, noNaN: true }), fc.constant(Number.NaN)),
    });
    const senderReport = fc.record({
      kind: fc.constant('sr' as const),
      ntpSeconds: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), garbage),
      ntpFraction: fc.integer({ min: 0, max: 0xffffffff }),
      dtMs: fc.double({ min: -1000, max: 1e8, noNaN: true }),
    });
    const reportNow = fc.record({
      kind: fc.constant('report' as const),
      dtMs: fc.double({ min: -1000, max: 1e9, noNaN: true }),
    });
    const event = fc.oneof(
      { weight: 12, arbitrary: packet },
      { weight: 1, arbitrary: senderReport },
      { weight: 2, arbitrary: reportNow },
    );
    let blocks = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.array(event, { maxLength: 300, size: 'max' }),
        (ssrc, clockRate, events) => {
          const stats = new ReceiveStatistics({ ssrc, clockRate });
          let seq = 0;
          let nowMs = 0;
          for (const e of events) {
            if (!Number.isNaN(e.dtMs)) nowMs += e.dtMs;
            if (e.kind === 'packet') {
              const next = 'step' in e.seq ? (seq + e.seq.step) & 0xffff : e.seq.raw;
              if (Number.isInteger(next) && next >= 0 && next <= 0xffff) seq = next;
              stats.onPacket(next, e.timestamp, Number.isNaN(e.dtMs) ? e.dtMs : nowMs);
            } else if (e.kind === 'sr') {
              stats.onSenderReport(e.ntpSeconds, e.ntpFraction, nowMs);
            } else {
              const block = stats.reportBlock(nowMs);
              if (block === undefined) continue;
              blocks++;
              const walk = readRtcpCompound(buildReceiverReport(0x5eed, [block]));
              expect(walk.ok).toBe(true);
              expect(walk.items).toEqual([expect.objectContaining({ type: 'rr', ssrc: 0x5eed, reports: [block] })]);
            }
          }
        },
      ),
    );
    expect(blocks).toBeGreaterThan(100);
  });

  it('reports the loss of any subset of a contiguous run, in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 2000 }),
        (first, kept) => {
          const stats = new ReceiveStatistics({ ssrc: SSRC, clockRate: 90_000 });
          // The first two packets make the stream valid; the last one closes the run.
          const seqs = [
            first,
            first + 1,
            ...kept.flatMap((keep, i) => (keep ? [first + 2 + i] : [])),
            first + 2 + kept.length,
          ];
          receive(stats, seqs);
          const lost = kept.filter((keep) => !keep).length;
          const expected = kept.length + 2; // from the base (first + 1) to the last
          const block = report(stats);
          expect(block.cumulativeLost).toBe(lost);
          expect(block.fractionLost).toBe(Math.floor((lost * 256) / expected));
          // Cycles count from the base, so a base past the wrap starts at 0.
          expect(block.highestSequenceNumber).toBe(((first + 1) & 0xffff) + kept.length + 1);
        },
      ),
    );
  });
});
