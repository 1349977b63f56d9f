/*
 * At most N unauthenticated answers per source per window (SECURITY.md: ≤ 10 401s per source IP
 * per second), so a spoofed flood cannot turn us into a reflector. Fixed, aligned windows rather
 * than a sliding log: one counter per source and one table drop per window keep memory and time
 * bounded under attack. The price: a source can get up to 2×limit across a window boundary.
 */

/** Limits of a {@link PerSourceLimiter}; all positive integers. */
export interface PerSourceLimiterOptions {
  /** Answers allowed per source per window. */
  limit: number;
  /** Window length; windows start at multiples of it (`floor(nowMs / windowMs)`). */
  windowMs: number;
  /** Distinct sources tracked per window; beyond it unknown sources are refused. */
  maxSources: number;
}

/** A bounded fixed-window counter per source (e.g. per client IP). Pure: the time is passed in. */
export class PerSourceLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly maxSources: number;
  private readonly counts = new Map<string, number>();
  private window = Number.NEGATIVE_INFINITY;

  /** Throws a RangeError unless every option is a positive integer. */
  constructor(options: PerSourceLimiterOptions) {
    for (const name of ['limit', 'windowMs', 'maxSources'] as const) {
      const value = options[name];
      if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} ${value} must be a positive integer`);
    }
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.maxSources = options.maxSources;
  }

  /**
   * true if this source may get one more answer in the current window. Windows are aligned: the
   * whole table is dropped when a new window starts, so memory never exceeds maxSources entries;
   * once maxSources distinct sources are in a window, unknown sources are refused (fail closed)
   * until the window ends. Throws a RangeError only for a non-finite `nowMs` (our clock).
   */
  allow(source: string, nowMs: number): boolean {
    if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs ${nowMs} is not a time`);
    const window = Math.floor(nowMs / this.windowMs);
    // Only forward: a time from an earlier window (a late caller) counts against the current one
    // instead of wiping it.
    if (window > this.window) {
      this.counts.clear();
      this.window = window;
    }
    const count = this.counts.get(source);
    if (count === undefined) {
      if (this.counts.size >= this.maxSources) return false;
      this.counts.set(source, 1);
      return true;
    }
    if (count >= this.limit) return false;
    this.counts.set(source, count + 1);
    return true;
  }

  /** Sources counted in the latest window seen (it is only dropped by the next `allow`). */
  get size(): number {
    return this.counts.size;
  }
}
