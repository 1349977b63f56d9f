import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PACKET_CACHE_OPTIONS, RtpPacketCache } from './packet-cache.js';

/** A packet whose bytes say which one it is: the sequence number, then `tag` repeated. */
function packet(seq: number, length = 64, tag = seq & 0xff): Uint8Array {
  const bytes = new Uint8Array(length).fill(tag);
  bytes[2] = seq >> 8;
  bytes[3] = seq & 0xff;
  return bytes;
}

/** Stores `seqs` in order, all at `nowMs`, and expects each to be taken. */
function storeAll(cache: RtpPacketCache, seqs: Iterable<number>, nowMs = 0): void {
  for (const seq of seqs) expect(cache.store(seq, packet(seq), nowMs)).toBe(true);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('RtpPacketCache', () => {
  it('returns what was stored, byte for byte, and nothing for what was not', () => {
    const cache = new RtpPacketCache();
    const p = packet(1000, 1200);
    expect(cache.store(1000, p, 0)).toBe(true);
    expect(cache.get(1000, 0)).toEqual(p);
    expect(cache.get(1001, 0)).toBeUndefined();
    expect(cache.get(999, 0)).toBeUndefined();
  });

  it('copies the packet: changing the caller’s buffer afterwards does not change the cache', () => {
    const cache = new RtpPacketCache();
    const datagram = new Uint8Array(2000).fill(0xee);
    const p = datagram.subarray(100, 300); // a view at an offset, as node-datachannel hands Buffers over
    p.set(packet(7, 200));
    cache.store(7, p, 0);
    p.fill(0);
    expect(cache.get(7, 0)).toEqual(packet(7, 200));
  });

  it('returns a view of the slot, valid until a newer packet takes the slot', () => {
    const cache = new RtpPacketCache({ capacity: 16 });
    cache.store(3, packet(3), 0);
    const view = cache.get(3, 0);
    expect(view).toEqual(packet(3));
    cache.store(3 + 16, packet(3 + 16, 64, 0xab), 0);
    expect(view?.[10]).toBe(0xab); // documented: the view now shows the new packet's bytes
    expect(cache.get(3, 0)).toBeUndefined();
  });

  it('follows the sequence numbers across 65535 → 0', () => {
    const cache = new RtpPacketCache({ capacity: 16 });
    const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4];
    storeAll(cache, seqs);
    for (const seq of seqs) expect(cache.get(seq, 0)).toEqual(packet(seq));
    expect(cache.get(5, 0)).toBeUndefined(); // newer than anything stored
    expect(cache.get(65529, 0)).toBeUndefined();
  });

  it('keeps the last `capacity` numbers: an older packet of the same slot is overwritten', () => {
    const cache = new RtpPacketCache({ capacity: 16 });
    storeAll(cache, range(100, 140));
    for (const seq of range(124, 140)) expect(cache.get(seq, 0)).toEqual(packet(seq));
    for (const seq of range(100, 124)) expect(cache.get(seq, 0)).toBeUndefined();
    // Outside the window even when its slot was not reused since.
    storeAll(cache, [140, 170]);
    expect(cache.get(140, 0)).toBeUndefined();
  });

  it('does not answer for a number of the previous wrap whose slot was never reused', () => {
    const cache = new RtpPacketCache({ capacity: 16, maxAgeMs: Number.POSITIVE_INFINITY });
    cache.store(5, packet(5), 0);
    // A whole wrap in which every packet of slot 5 is lost: slot 5 keeps the first 5.
    for (let seq = 6; seq < 0x10000 + 10; seq++) {
      if ((seq & 15) !== 5) cache.store(seq & 0xffff, packet(seq & 0xffff), 0);
      if (seq === 10) expect(cache.get(5, 0)).toEqual(packet(5)); // same wrap: still answered
      if (seq === 0x10000 + 4) expect(cache.get(5, 0)).toBeUndefined(); // the next wrap's 5 is not sent yet
    }
    expect(cache.get(9, 0)).toEqual(packet(9)); // the new wrap's 9
    expect(cache.get(5, 0)).toBeUndefined(); // the old wrap's 5 is not this wrap's 5
  });

  it('takes a late packet inside the window, and a duplicate replaces the copy', () => {
    const cache = new RtpPacketCache({ capacity: 16 });
    storeAll(cache, [10, 12, 13]);
    expect(cache.get(11, 0)).toBeUndefined();
    expect(cache.store(11, packet(11), 1)).toBe(true); // reordered or retransmitted
    expect(cache.get(11, 1)).toEqual(packet(11));
    expect(cache.store(12, packet(12, 80), 1)).toBe(true);
    expect(cache.get(12, 1)).toEqual(packet(12, 80));
    expect(cache.get(13, 1)).toEqual(packet(13));
  });

  it('refuses a late packet from behind the window: it does not evict the newer packet of its slot', () => {
    const cache = new RtpPacketCache({ capacity: 16 });
    storeAll(cache, range(0, 21)); // slot 4 holds 20
    expect(cache.store(4, packet(4, 64, 0x44), 1)).toBe(false);
    expect(cache.get(20, 1)).toEqual(packet(20));
    expect(cache.get(4, 1)).toBeUndefined();
    // Across the wrap too: 65535 is 17 behind 16, and its slot (15) holds 15.
    const wrapped = new RtpPacketCache({ capacity: 16 });
    storeAll(wrapped, range(0, 17));
    expect(wrapped.store(65535, packet(65535), 0)).toBe(false);
    expect(wrapped.get(15, 0)).toEqual(packet(15));
  });

  it('stops answering once a packet is older than maxAgeMs', () => {
    const cache = new RtpPacketCache({ maxAgeMs: 500 });
    cache.store(1, packet(1), 1000);
    cache.store(2, packet(2), 1200);
    expect(cache.get(1, 1500)).toEqual(packet(1));
    expect(cache.get(1, 1501)).toBeUndefined();
    expect(cache.get(2, 1700)).toEqual(packet(2));
    expect(cache.get(2, 1701)).toBeUndefined();
  });

  it('refuses a packet longer than maxPacketBytes, keeping what the slot held', () => {
    const cache = new RtpPacketCache({ maxPacketBytes: 100 });
    expect(cache.store(7, packet(7, 100), 0)).toBe(true);
    expect(cache.store(8, packet(8, 101), 0)).toBe(false);
    expect(cache.get(8, 0)).toBeUndefined();
    expect(cache.store(7, packet(7, 101, 0x77), 0)).toBe(false);
    expect(cache.get(7, 0)).toEqual(packet(7, 100));
  });

  it('refuses sequence numbers that are not 16-bit integers, never throwing', () => {
    const cache = new RtpPacketCache();
    for (const bad of [-1, 0x10000, 1.5, Number.NaN]) {
      expect(cache.store(bad, packet(0), 0)).toBe(false);
      expect(cache.get(bad, 0)).toBeUndefined();
    }
    expect(cache.get(0, 0)).toBeUndefined();
  });

  it('takes a jump back past the window as a reset when the next packet follows it', () => {
    const cache = new RtpPacketCache({ capacity: 16 });
    storeAll(cache, range(1000, 1011));
    expect(cache.store(40000, packet(40000), 1)).toBe(false); // a stray late packet, or a reset?
    expect(cache.get(1010, 1)).toEqual(packet(1010));
    expect(cache.store(40001, packet(40001), 2)).toBe(true); // a reset: the old stream is forgotten
    expect(cache.get(1010, 2)).toBeUndefined();
    expect(cache.get(40001, 2)).toEqual(packet(40001));
    expect(cache.store(40000, packet(40000), 3)).toBe(true); // now inside the window
    expect(cache.get(40000, 3)).toEqual(packet(40000));
  });

  it('keeps its packets when strays from far back are not followed by their successor', () => {
    const cache = new RtpPacketCache({ capacity: 16 });
    storeAll(cache, range(100, 121));
    expect(cache.store(50, packet(50), 1)).toBe(false);
    expect(cache.store(121, packet(121), 1)).toBe(true);
    expect(cache.store(51, packet(51), 1)).toBe(false); // follows 50, but not right after it
    expect(cache.store(60, packet(60), 1)).toBe(false);
    expect(cache.store(62, packet(62), 1)).toBe(false);
    for (const seq of range(106, 122)) expect(cache.get(seq, 1)).toEqual(packet(seq));
  });

  it('takes any packet once everything held has expired', () => {
    const cache = new RtpPacketCache({ capacity: 16, maxAgeMs: 100 });
    storeAll(cache, range(100, 120), 0);
    expect(cache.store(50, packet(50), 100)).toBe(false);
    expect(cache.store(50, packet(50), 101)).toBe(true);
    expect(cache.get(50, 101)).toEqual(packet(50));
  });

  it('clear() forgets every packet and the next store starts afresh', () => {
    const cache = new RtpPacketCache({ capacity: 16 });
    storeAll(cache, range(100, 110));
    cache.clear();
    expect(cache.get(105, 0)).toBeUndefined();
    expect(cache.store(30000, packet(30000), 0)).toBe(true);
    expect(cache.get(30000, 0)).toEqual(packet(30000));
  });

  it('holds its memory from the start: the slab and the per-slot bookkeeping', () => {
    const { capacity, maxPacketBytes } = DEFAULT_PACKET_CACHE_OPTIONS;
    expect(capacity).toBe(1024);
    expect(new RtpPacketCache().byteSize).toBe(capacity * (maxPacketBytes + 8 + 2 + 8));
    expect(new RtpPacketCache({ capacity: 64, maxPacketBytes: 300 }).byteSize).toBe(64 * (300 + 18));
  });

  it('throws RangeError for bad options and fills undefined ones from the defaults', () => {
    for (const capacity of [0, 3, 1000, 0x10000, 1.5, Number.NaN]) {
      expect(() => new RtpPacketCache({ capacity })).toThrow(RangeError);
    }
    for (const maxPacketBytes of [11, 0x10000, 100.5]) {
      expect(() => new RtpPacketCache({ maxPacketBytes })).toThrow(RangeError);
    }
    for (const maxAgeMs of [0, -1, Number.NaN]) expect(() => new RtpPacketCache({ maxAgeMs })).toThrow(RangeError);
    const cache = new RtpPacketCache({ capacity: undefined, maxPacketBytes: 12, maxAgeMs: undefined });
    expect(cache.capacity).toBe(1024);
    expect(cache.maxAgeMs).toBe(DEFAULT_PACKET_CACHE_OPTIONS.maxAgeMs);
    expect(new RtpPacketCache({ capacity: 0x8000, maxPacketBytes: 12 }).capacity).toBe(0x8000);
  });
});

describe('RtpPacketCache properties', () => {
  // A stream from any base (wrap-around included): runs of up to 3 losses, neighbours swapped
  // (reordering), some duplicates, lengths and arrival gaps at random.
  const stream = fc
    .record({
      base: fc.integer({ min: 0, max: 0xffff }),
      steps: fc.array(
        fc.record({
          lost: fc.boolean(),
          swap: fc.boolean(),
          duplicate: fc.integer({ min: 0, max: 9 }),
          length: fc.integer({ min: 12, max: 200 }),
          gapMs: fc.integer({ min: 0, max: 3 }),
        }),
        { minLength: 1, maxLength: 150 },
      ),
    })
    .map(({ base, steps }) => {
      const arrivals: { offset: number; length: number; gapMs: number }[] = [];
      let lostRun = 0;
      steps.forEach((step, offset) => {
        if (step.lost && lostRun < 3) {
          lostRun++;
          return;
        }
        lostRun = 0;
        arrivals.push({ offset, length: step.length, gapMs: step.gapMs });
        if (step.duplicate === 0) arrivals.push({ offset, length: step.length, gapMs: step.gapMs });
      });
      for (let i = 1; i < arrivals.length; i++) {
        const a = arrivals[i - 1];
        const b = arrivals[i];
        if (!a || !b || !steps[i]?.swap) continue;
        [arrivals[i - 1], arrivals[i]] = [b, a];
        i++; // each packet moves by one place at most
      }
      return { base, arrivals };
    });

  it('answers with the last bytes stored for a number, and for every number in the window not too old', () => {
    fc.assert(
      fc.property(stream, fc.constantFrom(16, 32), ({ base, arrivals }, capacity) => {
        const maxAgeMs = 40;
        const cache = new RtpPacketCache({ capacity, maxPacketBytes: 200, maxAgeMs });
        const held = new Map<number, { bytes: Uint8Array; atMs: number }>(); // by offset from base
        let nowMs = 0;
        let highest = -1;
        arrivals.forEach(({ offset, length, gapMs }, i) => {
          nowMs += gapMs;
          const seq = (base + offset) & 0xffff;
          const bytes = packet(seq, length, i & 0xff); // each arrival distinguishable
          // Losses come in runs of at most 3 and swaps move a packet by one: never behind the window.
          expect(cache.store(seq, bytes, nowMs)).toBe(true);
          held.set(offset, { bytes, atMs: nowMs });
          highest = Math.max(highest, offset);
          for (const [heldOffset, { bytes: expected, atMs }] of held) {
            const got = cache.get((base + heldOffset) & 0xffff, nowMs);
            const answerable = highest - heldOffset < capacity && nowMs - atMs <= maxAgeMs;
            expect(got).toEqual(answerable ? expected : undefined);
          }
        });
      }),
    );
  });
});
