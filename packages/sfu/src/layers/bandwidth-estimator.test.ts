import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BandwidthEstimator, DEFAULT_BANDWIDTH_ESTIMATOR_OPTIONS } from './bandwidth-estimator.js';

/** Fraction lost in 1/256, as a ReportBlock carries it. */
const percent = (p: number): number => Math.round((p / 100) * 256);

/** Sends `bitrate` bits/s as a packet every 10 ms over [fromMs, toMs). */
function send(e: BandwidthEstimator, bitrate: number, fromMs: number, toMs: number): void {
  for (let t = fromMs; t < toMs; t += 10) e.onSent(bitrate / 800, t);
}

/** Sends `bitrate` bits/s over (fromMs, toMs], a receiver report with `fraction` every second on the way. */
function run(e: BandwidthEstimator, bitrate: number, fraction: number, fromMs: number, toMs: number): void {
  for (let t = fromMs + 10; t <= toMs; t += 10) {
    if (t % 1000 === 0) e.onReceiverReport(fraction, t);
    e.onSent(bitrate / 800, t);
  }
}

/** Past the 2 s start phase: the first feedback at 0, then loss-free reports every second. */
function settled(options = {}): BandwidthEstimator {
  const e = new BandwidthEstimator(options);
  e.onReceiverReport(0, 0);
  return e;
}

describe('BandwidthEstimator defaults and options', () => {
  it('starts at 1 Mbit/s between 100 kbit/s and 20 Mbit/s, REMB stale after 3 s', () => {
    expect(DEFAULT_BANDWIDTH_ESTIMATOR_OPTIONS).toEqual({
      startBitrate: 1_000_000,
      minBitrate: 100_000,
      maxBitrate: 20_000_000,
      rembTimeoutMs: 3000,
    });
    expect(new BandwidthEstimator().estimate(0)).toBe(1_000_000);
    expect(new BandwidthEstimator({ startBitrate: 300_000 }).estimate(0)).toBe(300_000);
  });

  it('clamps the start value into the floor and ceiling (setting only one of them is enough)', () => {
    expect(new BandwidthEstimator({ maxBitrate: 500_000 }).estimate(0)).toBe(500_000);
    expect(new BandwidthEstimator({ minBitrate: 2_000_000 }).estimate(0)).toBe(2_000_000);
  });

  it('throws RangeError for options that are not rates or durations', () => {
    for (const bad of [
      { startBitrate: Number.NaN },
      { minBitrate: -1 },
      { maxBitrate: 0 },
      { maxBitrate: Number.POSITIVE_INFINITY },
      { rembTimeoutMs: -5 },
      { minBitrate: 2_000_000, maxBitrate: 1_000_000 },
    ]) {
      expect(() => new BandwidthEstimator(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
  });
});

describe('BandwidthEstimator REMB', () => {
  it('caps the estimate', () => {
    const e = settled();
    e.onRemb(400_000, 100);
    expect(e.estimate(100)).toBe(400_000);
    e.onRemb(700_000, 1100);
    expect(e.estimate(1100)).toBe(700_000);
  });

  it('lifts the estimate in the first 2 s while no loss is reported, not after', () => {
    const early = new BandwidthEstimator();
    early.onRemb(2_500_000, 500);
    expect(early.estimate(500)).toBe(2_500_000);

    const late = new BandwidthEstimator();
    late.onRemb(800_000, 0); // the first feedback starts the phase
    late.onRemb(2_500_000, 2000);
    expect(late.estimate(2000)).toBe(1_000_000); // the loss-based value still at the start value

    const lossy = new BandwidthEstimator();
    lossy.onReceiverReport(percent(5), 0);
    lossy.onRemb(2_500_000, 500);
    expect(lossy.estimate(500)).toBe(1_000_000);
  });

  it('stops constraining when stale, and constrains again when one arrives', () => {
    const e = settled();
    e.onRemb(300_000, 2500);
    expect(e.estimate(5500)).toBe(300_000); // exactly 3 s old: still fresh
    expect(e.estimate(5501)).toBe(1_000_000);
    e.onRemb(600_000, 8000);
    expect(e.estimate(8000)).toBe(600_000);
  });

  it('follows the configured timeout', () => {
    const e = settled({ rembTimeoutMs: 10_000 });
    e.onRemb(300_000, 2500);
    expect(e.estimate(12_000)).toBe(300_000);
    expect(e.estimate(12_501)).toBe(1_000_000);
  });

  it('is clamped to the floor and ceiling', () => {
    const e = settled();
    e.onRemb(0, 2500);
    expect(e.estimate(2500)).toBe(100_000);
    const lifted = new BandwidthEstimator();
    lifted.onRemb(1e12, 0);
    expect(lifted.estimate(0)).toBe(20_000_000);
  });

  it('ignores a bitrate that is not a rate (NaN, negative, infinite)', () => {
    const e = settled();
    e.onRemb(400_000, 100);
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY]) e.onRemb(bad, 200);
    expect(e.estimate(200)).toBe(400_000);
  });
});

describe('BandwidthEstimator loss', () => {
  it('decreases above 10% loss to rate × (1 - loss/2)', () => {
    const e = settled();
    e.onReceiverReport(64, 3000); // 25%
    expect(e.estimate(3000)).toBeCloseTo(1_000_000 * (1 - 0.125), 3);
  });

  it('decreases from the sending rate when that is lower (the loss says it was too much)', () => {
    const e = settled();
    send(e, 400_000, 2000, 3000);
    e.onReceiverReport(64, 3000);
    expect(e.estimate(3000)).toBeCloseTo(400_000 * 0.875, -3);
  });

  it('decreases at most once per 300 ms (one RR, several report blocks)', () => {
    const e = settled();
    e.onReceiverReport(128, 3000); // 50%: × 0.75
    e.onReceiverReport(128, 3000);
    e.onReceiverReport(128, 3299);
    expect(e.estimate(3299)).toBeCloseTo(750_000, 3);
    e.onReceiverReport(128, 3300);
    expect(e.estimate(3300)).toBeCloseTo(562_500, 3);
  });

  it('holds between 2% and 10%', () => {
    const e = settled();
    send(e, 2_000_000, 0, 5000);
    for (const [fraction, at] of [
      [6, 1000], // 2.3%
      [25, 2000], // 9.8%
      [percent(5), 3000],
    ] as const) {
      e.onReceiverReport(fraction, at);
      expect(e.estimate(at)).toBe(1_000_000);
    }
  });

  it('grows ~8% a second below 2% loss, prorated to the time between reports', () => {
    const e = settled();
    send(e, 2_000_000, 0, 1000);
    e.onReceiverReport(5, 1000); // 1.95%
    expect(e.estimate(1000)).toBeCloseTo(1_081_000, 3);
    e.onReceiverReport(0, 1500);
    expect(e.estimate(1500)).toBeCloseTo(1_081_000 * Math.sqrt(1.08) + 500, 3);
    // A long silence counts as one second, not as minutes of loss-free growth.
    const quiet = settled();
    send(quiet, 2_000_000, 59_000, 60_000);
    quiet.onReceiverReport(0, 60_000);
    expect(quiet.estimate(60_000)).toBeCloseTo(1_081_000, 3);
  });

  it('grows no higher than 1.5 × the sending rate + 10 kbit/s, and not at all when nothing is sent', () => {
    const idle = settled();
    idle.onReceiverReport(0, 1000);
    expect(idle.estimate(1000)).toBe(1_000_000); // held, not lowered, not raised

    const e = settled();
    run(e, 700_000, 0, 0, 20_000);
    expect(e.estimate(20_000)).toBeCloseTo(1_060_000, -3);
  });

  it('stops at the ceiling and the floor', () => {
    const high = settled({ maxBitrate: 1_200_000 });
    run(high, 5_000_000, 0, 0, 10_000);
    expect(high.estimate(10_000)).toBe(1_200_000);

    const low = settled();
    run(low, 1_000_000, 255, 0, 60_000);
    expect(low.estimate(60_000)).toBe(100_000);
  });

  it('clamps a fraction over 255 and ignores NaN', () => {
    const e = settled();
    e.onReceiverReport(Number.NaN, 1000);
    expect(e.estimate(1000)).toBe(1_000_000);
    e.onReceiverReport(1000, 2000); // read as 255/256
    expect(e.estimate(2000)).toBeCloseTo(1_000_000 * (1 - 0.5 * (255 / 256)), 3);
  });

  it('takes the lower of REMB and loss', () => {
    const e = settled();
    e.onRemb(900_000, 2500);
    e.onReceiverReport(128, 3000); // loss-based 750 kbit/s
    expect(e.estimate(3000)).toBeCloseTo(750_000, 3);
    e.onRemb(500_000, 3100);
    expect(e.estimate(3100)).toBe(500_000);
  });
});

describe('BandwidthEstimator sending rate', () => {
  it('measures the last second', () => {
    const e = new BandwidthEstimator();
    expect(e.sendingRate(0)).toBe(0);
    send(e, 1_000_000, 0, 3000);
    expect(e.sendingRate(3000)).toBeCloseTo(1_000_000, -3);
    expect(e.sendingRate(3550)).toBeCloseTo(400_000 / 0.95, -3); // 400 ms of data in the 950 ms window
    expect(e.sendingRate(5000)).toBe(0);
  });

  it('ignores bytes that are not a size', () => {
    const e = new BandwidthEstimator();
    for (const bad of [Number.NaN, -100, 0, Number.POSITIVE_INFINITY]) e.onSent(bad, 50);
    expect(e.sendingRate(100)).toBe(0);
  });
});

describe('BandwidthEstimator properties', () => {
  const event = fc.oneof(
    fc.record({ kind: fc.constant('remb' as const), value: fc.double({ min: -1e3, max: 1e9 }) }),
    fc.record({ kind: fc.constant('rr' as const), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.double()) }),
    fc.record({ kind: fc.constant('sent' as const), value: fc.integer({ min: 0, max: 1500 }) }),
  );

  it('keeps the estimate within floor and ceiling whatever the feedback', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(event, fc.integer({ min: 0, max: 2000 })), { maxLength: 200 }), (events) => {
        const e = new BandwidthEstimator({ minBitrate: 50_000, maxBitrate: 5_000_000 });
        let now = 0;
        for (const [{ kind, value }, step] of events) {
          now += step;
          if (kind === 'remb') e.onRemb(value, now);
          else if (kind === 'rr') e.onReceiverReport(value, now);
          else e.onSent(value, now);
          const estimate = e.estimate(now);
          expect(estimate).toBeGreaterThanOrEqual(50_000);
          expect(estimate).toBeLessThanOrEqual(5_000_000);
        }
      }),
    );
  });
});
