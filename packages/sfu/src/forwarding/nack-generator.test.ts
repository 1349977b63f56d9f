import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildNack, readRtcpCompound } from '../rtcp/rtcp-packet.js';
import { DEFAULT_NACK_GENERATOR_OPTIONS, NackGenerator } from './nack-generator.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Feeds `seqs` in order at `nowMs`. */
function receive(nack: NackGenerator, seqs: readonly number[], nowMs = 0): void {
  for (const seq of seqs) nack.onPacket(seq, nowMs);
}

/** Polls every millisecond in [fromMs, toMs] and returns when each number was requested. */
function pollEveryMs(nack: NackGenerator, fromMs: number, toMs: number): Map<number, number[]> {
  const requests = new Map<number, number[]>();
  for (let t = fromMs; t <= toMs; t++) {
    for (const seq of nack.poll(t)) requests.set(seq, [...(requests.get(seq) ?? []), t]);
  }
  return requests;
}

describe('NackGenerator', () => {
  it('requests a single lost packet after the reordering delay, then once per RTT', () => {
    const nack = new NackGenerator();
    expect(nack.onPacket(10, 0)).toBe('new');
    expect(nack.onPacket(11, 0)).toBe('new');
    expect(nack.onPacket(13, 0)).toBe('new');
    expect(nack.missingCount).toBe(1);
    expect(nack.poll(0)).toEqual([]);
    expect(nack.poll(9)).toEqual([]);
    expect(nack.poll(10)).toEqual([12]);
    expect(nack.poll(11)).toEqual([]);
    expect(nack.poll(109)).toEqual([]);
    expect(nack.poll(110)).toEqual([12]);
  });

  it('requests every packet of a burst loss, oldest first', () => {
    const nack = new NackGenerator();
    receive(nack, [10, 15, 16, 20]);
    expect(nack.poll(10)).toEqual([11, 12, 13, 14, 17, 18, 19]);
  });

  it('does not request a packet reordered within the delay', () => {
    const nack = new NackGenerator();
    receive(nack, [10, 12], 0);
    expect(nack.onPacket(11, 5)).toBe('recovered');
    expect(nack.missingCount).toBe(0);
    expect(pollEveryMs(nack, 0, 500).size).toBe(0);
  });

  it('stops requesting a packet once it arrives (a retransmission)', () => {
    const nack = new NackGenerator();
    receive(nack, [10, 12], 0);
    expect(nack.poll(10)).toEqual([11]);
    expect(nack.onPacket(11, 60)).toBe('recovered');
    expect(nack.onPacket(11, 61)).toBe('old'); // and a second copy is only a duplicate
    expect(pollEveryMs(nack, 11, 2000).size).toBe(0);
    expect(nack.givenUpCount).toBe(0);
  });

  it('spaces requests by the RTT, at least the floor, and makes at most maxRetries', () => {
    const nack = new NackGenerator({ maxRetries: 3 });
    nack.setRtt(50);
    receive(nack, [1, 3], 0);
    expect(pollEveryMs(nack, 0, 159)).toEqual(new Map([[2, [10, 60, 110]]]));
    expect(nack.missingCount).toBe(1); // the last request still has its RTT to be answered
    expect(nack.poll(160)).toEqual([]);
    expect(nack.missingCount).toBe(0);
    expect(nack.givenUpCount).toBe(1);

    const lan = new NackGenerator({ maxRetries: 3 });
    lan.setRtt(1);
    expect(lan.retryIntervalMs).toBe(DEFAULT_NACK_GENERATOR_OPTIONS.minRetryIntervalMs);
    receive(lan, [1, 3], 0);
    expect(pollEveryMs(lan, 0, 500).get(2)).toEqual([10, 30, 50]);
  });

  it('uses the default retries and RTT: 10 requests 100 ms apart', () => {
    const nack = new NackGenerator({ maxAgeMs: 5000 });
    receive(nack, [1, 3], 0);
    expect(pollEveryMs(nack, 0, 3000).get(2)).toEqual(range(0, 10).map((i) => 10 + i * 100));
  });

  it('ignores an RTT that is negative or not finite', () => {
    const nack = new NackGenerator();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) nack.setRtt(bad);
    expect(nack.retryIntervalMs).toBe(100);
    nack.setRtt(250);
    expect(nack.retryIntervalMs).toBe(250);
  });

  it('drops a missing packet older than maxAgeMs, requests left or not', () => {
    const nack = new NackGenerator({ maxAgeMs: 1000 });
    nack.setRtt(400);
    receive(nack, [1, 3], 0);
    expect(pollEveryMs(nack, 0, 1000).get(2)).toEqual([10, 410, 810]);
    expect(nack.missingCount).toBe(1);
    expect(nack.poll(1001)).toEqual([]);
    expect(nack.missingCount).toBe(0);
    expect(nack.givenUpCount).toBe(1);
  });

  it('follows the sequence numbers across 65535 → 0', () => {
    const nack = new NackGenerator();
    receive(nack, [65533, 65534, 2]);
    expect(nack.poll(10)).toEqual([65535, 0, 1]);
    expect(nack.onPacket(0, 20)).toBe('recovered');
    expect(nack.onPacket(65535, 20)).toBe('recovered');
    expect(nack.poll(110)).toEqual([1]);
  });

  it('takes a jump forward of more than resetJump as a stream reset, not a loss', () => {
    const nack = new NackGenerator();
    receive(nack, [10, 12], 0); // 11 missing
    expect(nack.onPacket(12 + 1001, 1)).toBe('reset');
    expect(nack.missingCount).toBe(0);
    expect(pollEveryMs(nack, 0, 200).size).toBe(0);
    expect(nack.onPacket(12 + 1003, 201)).toBe('new'); // and the new stream is tracked
    expect(nack.poll(211)).toEqual([12 + 1002]);
  });

  it('takes a jump of exactly resetJump as a loss, kept to maxMissing', () => {
    const nack = new NackGenerator();
    receive(nack, [10, 1010], 0);
    expect(nack.missingCount).toBe(500);
    expect(nack.givenUpCount).toBe(499);
    expect(nack.poll(10)).toEqual(range(510, 1010));
  });

  it('takes a jump back of more than resetJump as a reset once the next packet follows it', () => {
    const nack = new NackGenerator();
    receive(nack, [5000, 5002], 0); // 5001 missing
    expect(nack.onPacket(1000, 1)).toBe('old'); // a stray late packet, or a reset?
    expect(nack.missingCount).toBe(1);
    expect(nack.onPacket(1001, 2)).toBe('reset');
    expect(nack.missingCount).toBe(0);
    expect(nack.onPacket(1003, 3)).toBe('new');
    expect(pollEveryMs(nack, 3, 20)).toEqual(new Map([[1002, [13]]]));
  });

  it('ignores strays from far back that their successor does not follow at once', () => {
    const nack = new NackGenerator();
    receive(nack, [5000, 5002], 0);
    expect(nack.onPacket(1000, 1)).toBe('old');
    expect(nack.onPacket(5003, 1)).toBe('new');
    expect(nack.onPacket(1001, 1)).toBe('old'); // follows 1000, but not right after it
    expect(nack.onPacket(4500, 1)).toBe('old'); // behind, not missing, not far: a duplicate
    expect(nack.onPacket(5004, 2)).toBe('new');
    expect(nack.poll(10)).toEqual([5001]);
  });

  it('recovers a retransmission from further back than resetJump', () => {
    const nack = new NackGenerator({ resetJump: 10, maxMissing: 20 });
    receive(nack, [0, 2], 0);
    receive(nack, range(3, 30), 1);
    expect(nack.onPacket(1, 2)).toBe('recovered');
    expect(nack.onPacket(30, 2)).toBe('new');
    expect(nack.missingCount).toBe(0);
  });

  it('keeps at most maxMissing, dropping the oldest', () => {
    const nack = new NackGenerator();
    receive(nack, [0, 600], 0); // 1-599 missing: only the newest 500 are kept
    expect(nack.missingCount).toBe(500);
    expect(nack.givenUpCount).toBe(99);
    receive(nack, [602], 1); // 601 pushes 100 out
    expect(nack.missingCount).toBe(500);
    expect(nack.givenUpCount).toBe(100);
    expect(nack.poll(11)).toEqual([...range(101, 600), 601]);
  });

  it('answers `invalid` for a number that is not 16-bit, never throwing', () => {
    const nack = new NackGenerator();
    for (const bad of [-1, 0x10000, 2.5, Number.NaN]) expect(nack.onPacket(bad, 0)).toBe('invalid');
    expect(nack.onPacket(7, 0)).toBe('new');
  });

  it('clear() forgets the stream: the next packet starts afresh', () => {
    const nack = new NackGenerator();
    receive(nack, [10, 20]);
    nack.clear();
    expect(nack.missingCount).toBe(0);
    expect(nack.onPacket(30000, 1)).toBe('new');
    expect(nack.onPacket(30001, 1)).toBe('new');
    expect(nack.poll(100)).toEqual([]);
  });

  it('throws RangeError for bad options and fills undefined ones from the defaults', () => {
    const bad: Partial<Record<keyof typeof DEFAULT_NACK_GENERATOR_OPTIONS, number[]>> = {
      maxRetries: [0, 256, 1.5],
      reorderDelayMs: [-1, Number.NaN, Number.POSITIVE_INFINITY],
      rttMs: [-1, Number.NaN],
      minRetryIntervalMs: [0, Number.POSITIVE_INFINITY],
      maxMissing: [0, 0x4001],
      maxAgeMs: [0, Number.NaN],
      resetJump: [0, 0x4001, 2.5],
    };
    for (const [name, values] of Object.entries(bad)) {
      for (const value of values ?? []) expect(() => new NackGenerator({ [name]: value })).toThrow(RangeError);
    }
    const nack = new NackGenerator({ maxRetries: undefined, reorderDelayMs: 0, rttMs: 30 });
    expect(nack.retryIntervalMs).toBe(30);
    receive(nack, [1, 3], 0);
    expect(nack.poll(0)).toEqual([2]);
  });
});

function lostOf(bytes: Uint8Array): number[] {
  const walk = readRtcpCompound(bytes);
  expect(walk.ok).toBe(true);
  const [item] = walk.items;
  if (item?.type !== 'nack') throw new Error('not a NACK');
  return item.lost;
}

describe('NACK properties', () => {
  // A stream of 20-300 packets from any base (wrap-around included): some lost for good, some
  // duplicated, each delayed by up to `jitterMs` (so reordered), a packet every 0-4 ms.
  const arrivals = fc
    .record({
      base: fc.integer({ min: 0, max: 0xffff }),
      jitterMs: fc.constantFrom(0, 5, 30),
      packets: fc.array(
        fc.record({
          lost: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
          duplicate: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
          gapMs: fc.integer({ min: 0, max: 4 }),
          delay: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        { minLength: 20, maxLength: 300 },
      ),
    })
    .map(({ base, jitterMs, packets }) => {
      let sentMs = 0;
      const events: { offset: number; atMs: number }[] = [];
      const lost = new Set<number>();
      packets.forEach((p, offset) => {
        sentMs += p.gapMs;
        if (p.lost) {
          lost.add(offset);
          return;
        }
        const atMs = Math.round(sentMs + p.delay * jitterMs);
        events.push({ offset, atMs });
        if (p.duplicate) events.push({ offset, atMs: atMs + 3 });
      });
      events.sort((a, b) => a.atMs - b.atMs); // stable: same-time packets keep their order
      return { base, events, lost };
    });

  it('never requests a packet after it arrived; requests every packet never received; spaces and caps retries', () => {
    fc.assert(
      fc.property(arrivals, ({ base, events, lost }) => {
        const nack = new NackGenerator();
        const toOffset = (seq: number) => (seq - base) & 0xffff;
        const arrived = new Set<number>();
        const requested = new Map<number, number[]>(); // offset → request times
        const pollAt = (t: number) => {
          for (const seq of nack.poll(t)) {
            const offset = toOffset(seq);
            expect(arrived.has(offset)).toBe(false);
            requested.set(offset, [...(requested.get(offset) ?? []), t]);
          }
        };
        let t = 0;
        for (const { offset, atMs } of events) {
          for (; t < atMs; t += 5) pollAt(t); // polled every 5 ms, as a router's timer would
          t = Math.max(t, atMs);
          nack.onPacket((base + offset) & 0xffff, atMs);
          arrived.add(offset);
        }
        const end = t + 200;
        for (; t <= end; t += 5) pollAt(t);

        const first = events[0]?.offset ?? 0;
        const newest = Math.max(...events.map((e) => e.offset));
        for (const offset of lost) {
          // Numbers before the first packet or after the newest are not known to be missing.
          if (offset > first && offset < newest) expect(requested.has(offset)).toBe(true);
        }
        for (const [offset, times] of requested) {
          expect(offset > first && offset < newest).toBe(true);
          expect(times.length).toBeLessThanOrEqual(DEFAULT_NACK_GENERATOR_OPTIONS.maxRetries);
          for (let i = 1; i < times.length; i++) {
            expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(100);
          }
        }
      }),
    );
  });

  it('poll() output builds a NACK that reads back the same numbers in the same order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.uniqueArray(fc.integer({ min: 1, max: 400 })),
        (base, gaps) => {
          const nack = new NackGenerator();
          const missing = new Set(gaps);
          for (let offset = 0; offset <= 401; offset++) {
            if (!missing.has(offset)) nack.onPacket((base + offset) & 0xffff, 0);
          }
          const due = nack.poll(10);
          expect(due).toEqual(gaps.sort((a, b) => a - b).map((o) => (base + o) & 0xffff));
          if (due.length > 0) expect(lostOf(buildNack(1, 2, due))).toEqual(due);
        },
      ),
    );
  });
});
