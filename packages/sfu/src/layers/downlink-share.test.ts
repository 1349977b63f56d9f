import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shareDownlink } from './downlink-share.js';

// Two 720p cameras' demands: a big tile wants f (1.5 Mb/s), a thumbnail wants q (150 kb/s).
const BIG = { lowest: 150_000, wanted: 1_500_000 };
const THUMB = { lowest: 150_000, wanted: 150_000 };

describe('shareDownlink', () => {
  it('everything fits: the spare is shared in proportion to what each wants', () => {
    expect(shareDownlink(3_300_000, [BIG, THUMB])).toEqual([3_000_000, 300_000]);
  });

  it('the smallest layers fit: the rest goes to whoever wants more', () => {
    // 1 Mb/s: both get 150k, the big tile the other 700k.
    expect(shareDownlink(1_000_000, [BIG, THUMB])).toEqual([850_000, 150_000]);
  });

  it('not even the smallest layers fit: shared in proportion to them', () => {
    expect(shareDownlink(200_000, [BIG, THUMB])).toEqual([100_000, 100_000]);
  });

  it('unknown rates and tracks that want nothing', () => {
    expect(shareDownlink(1_000_000, [{ lowest: 0, wanted: 0 }])).toEqual([1_000_000]);
    expect(shareDownlink(1_000_000, [BIG, { lowest: 0, wanted: 0 }])).toEqual([1_000_000, 0]);
    expect(shareDownlink(Number.POSITIVE_INFINITY, [BIG])).toEqual([Number.POSITIVE_INFINITY]);
    expect(shareDownlink(Number.NaN, [BIG])).toEqual([0]);
    expect(shareDownlink(1_000, [])).toEqual([]);
  });

  it('never hands out more than the budget, never a negative share, and covers the smallest layers when it can', () => {
    const demand = fc
      .tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }))
      .map(([a, b]) => ({ lowest: Math.min(a, b), wanted: Math.max(a, b) }));
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e8, noNaN: true }),
        fc.array(demand, { maxLength: 12 }),
        (budget, demands) => {
          const shares = shareDownlink(budget, demands);
          expect(shares).toHaveLength(demands.length);
          const total = shares.reduce((sum, share) => sum + share, 0);
          expect(total).toBeLessThanOrEqual(budget * (1 + 1e-9) + 1e-6);
          for (const share of shares) expect(share).toBeGreaterThanOrEqual(0);
          const lowestSum = demands.reduce((sum, d) => sum + d.lowest, 0);
          if (budget >= lowestSum)
            demands.forEach((d, i) => {
              expect(shares[i]).toBeGreaterThanOrEqual(d.lowest * (1 - 1e-9));
            });
        },
      ),
    );
  });
});
