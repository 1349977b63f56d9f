import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PerSourceLimiter } from './source-limiter.js';

const SECOND = 1_000;
const T0 = 1_700_000_000_000; // a multiple of 1000: the start of a window

/** How many of `n` calls at `nowMs` are allowed. */
function allowed(limiter: PerSourceLimiter, source: string, nowMs: number, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (limiter.allow(source, nowMs)) count++;
  return count;
}

describe('PerSourceLimiter', () => {
  it('allows exactly 10 answers per IP per second', () => {
    const limiter = new PerSourceLimiter({ limit: 10, windowMs: SECOND, maxSources: 10_000 });
    const verdicts = Array.from({ length: 11 }, (_, i) => limiter.allow('198.51.100.1', T0 + i * 90));
    expect(verdicts).toEqual([...Array<boolean>(10).fill(true), false]);
    expect(limiter.allow('198.51.100.1', T0 + 999)).toBe(false);
    // Next second: a fresh budget of exactly 10.
    expect(allowed(limiter, '198.51.100.1', T0 + SECOND, 100)).toBe(10);
  });

  it('counts each source on its own', () => {
    const limiter = new PerSourceLimiter({ limit: 3, windowMs: SECOND, maxSources: 100 });
    expect(allowed(limiter, 'a', T0, 5)).toBe(3);
    expect(allowed(limiter, 'b', T0, 5)).toBe(3);
    expect(allowed(limiter, '::ffff:a', T0, 5)).toBe(3); // keys are opaque strings: callers canonicalize
    expect(limiter.size).toBe(3);
  });

  it('rolls over at the aligned window boundary, not one window after the first call', () => {
    const limiter = new PerSourceLimiter({ limit: 2, windowMs: SECOND, maxSources: 100 });
    expect(allowed(limiter, 'a', T0 + 900, 5)).toBe(2);
    expect(allowed(limiter, 'a', T0 + 999, 5)).toBe(0);
    expect(allowed(limiter, 'a', T0 + 1_000, 5)).toBe(2); // 100 ms after the first call
    expect(allowed(limiter, 'a', T0 + 1_999, 5)).toBe(0);
  });

  it('drops the whole table when a new window starts', () => {
    const limiter = new PerSourceLimiter({ limit: 1, windowMs: SECOND, maxSources: 100 });
    for (let i = 0; i < 50; i++) limiter.allow(`s${i}`, T0);
    expect(limiter.size).toBe(50);
    limiter.allow('other', T0 + SECOND);
    expect(limiter.size).toBe(1);
    limiter.allow('other', T0 + 10 * SECOND); // skipping windows is fine too
    expect(limiter.size).toBe(1);
  });

  it('fails closed for new sources once maxSources are in the window, known ones keep their budget', () => {
    const limiter = new PerSourceLimiter({ limit: 2, windowMs: SECOND, maxSources: 3 });
    expect(['a', 'b', 'c'].map((s) => limiter.allow(s, T0))).toEqual([true, true, true]);
    expect(limiter.allow('d', T0)).toBe(false);
    expect(limiter.allow('d', T0 + 999)).toBe(false);
    expect(limiter.size).toBe(3);
    expect(limiter.allow('a', T0 + 500)).toBe(true); // second answer for a known source
    expect(limiter.allow('a', T0 + 500)).toBe(false);
    // The next window lets new sources in again.
    expect(limiter.allow('d', T0 + SECOND)).toBe(true);
    expect(limiter.size).toBe(1);
  });

  it('never holds more than maxSources entries under a flood of distinct sources', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5_000 })), { maxLength: 300 }),
        (maxSources, calls) => {
          const limiter = new PerSourceLimiter({ limit: 3, windowMs: SECOND, maxSources });
          let now = T0;
          for (const [source, step] of calls) {
            now += step;
            limiter.allow(String(source), now);
            expect(limiter.size).toBeLessThanOrEqual(maxSources);
          }
        },
      ),
    );
  });

  it('matches a reference model: per source and window, at most `limit` allowed, first come first served', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 0, max: 400 })), {
          maxLength: 200,
        }),
        (limit, maxSources, calls) => {
          const limiter = new PerSourceLimiter({ limit, windowMs: SECOND, maxSources });
          const model = new Map<string, number>();
          let modelWindow = -1;
          let now = T0;
          for (const [source, step] of calls) {
            now += step;
            const window = Math.floor(now / SECOND);
            if (window !== modelWindow) {
              model.clear();
              modelWindow = window;
            }
            const count = model.get(source);
            let expected: boolean;
            if (count === undefined) expected = model.size < maxSources;
            else expected = count < limit;
            if (expected) model.set(source, (count ?? 0) + 1);
            expect(limiter.allow(source, now)).toBe(expected);
          }
        },
      ),
    );
  });

  it('a time from an earlier window counts against the current one instead of resetting it', () => {
    const limiter = new PerSourceLimiter({ limit: 2, windowMs: SECOND, maxSources: 100 });
    expect(allowed(limiter, 'a', T0 + SECOND, 2)).toBe(2);
    expect(limiter.allow('a', T0 + 500)).toBe(false);
    expect(limiter.size).toBe(1);
  });

  it('works with other window lengths', () => {
    const limiter = new PerSourceLimiter({ limit: 1, windowMs: 250, maxSources: 10 });
    expect(limiter.allow('a', 0)).toBe(true);
    expect(limiter.allow('a', 249)).toBe(false);
    expect(limiter.allow('a', 250)).toBe(true);
  });

  it('starts empty', () => {
    expect(new PerSourceLimiter({ limit: 1, windowMs: 1, maxSources: 1 }).size).toBe(0);
  });

  it.each([
    { limit: 0, windowMs: SECOND, maxSources: 1 },
    { limit: 1.5, windowMs: SECOND, maxSources: 1 },
    { limit: 1, windowMs: 0, maxSources: 1 },
    { limit: 1, windowMs: Number.POSITIVE_INFINITY, maxSources: 1 },
    { limit: 1, windowMs: SECOND, maxSources: 0 },
    { limit: 1, windowMs: SECOND, maxSources: Number.NaN },
  ])('refuses %o', (options) => {
    expect(() => new PerSourceLimiter(options)).toThrow(RangeError);
  });

  it('refuses a broken clock', () => {
    const limiter = new PerSourceLimiter({ limit: 1, windowMs: SECOND, maxSources: 1 });
    expect(() => limiter.allow('a', Number.NaN)).toThrow(RangeError);
  });
});
