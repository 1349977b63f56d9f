/** Monotonic milliseconds. Injected so tests move time by hand. */
export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();

/**
 * What to do with one incoming message:
 * - `accept`: handle it.
 * - `warn`: drop it and tell the client `rate_limited` (at most once per `warnIntervalMs`).
 * - `drop`: drop it silently (the client was warned recently).
 * - `close`: the client kept flooding after the warning; close the connection (4001).
 */
export type RateDecision = 'accept' | 'warn' | 'drop' | 'close';

export interface RateLimiterOptions {
  /** Sustained messages per second. */
  readonly ratePerSecond: number;
  /** Bucket size: messages that may arrive at once. */
  readonly burst: number;
  readonly clock: Clock;
  /** Minimum time between two `warn` decisions. */
  readonly warnIntervalMs?: number;
  /** Dropping more than `burst` messages within this window means the client ignores the warnings. */
  readonly floodWindowMs?: number;
}

/**
 * Token bucket per connection, sans I/O: the caller asks `take()` for each message and acts on
 * the decision. A client that briefly exceeds the rate loses those messages and gets one warning
 * a second; one that keeps going (more than `burst` dropped within `floodWindowMs`) is cut off,
 * so a flood costs the server little and never reaches other participants.
 */
export class RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #warnIntervalMs: number;
  readonly #floodWindowMs: number;
  #tokens: number;
  #refilledAt: number;
  #lastWarnAt = Number.NEGATIVE_INFINITY;
  #floodWindowStart = Number.NEGATIVE_INFINITY;
  #droppedInWindow = 0;

  constructor(options: RateLimiterOptions) {
    this.#ratePerMs = options.ratePerSecond / 1000;
    this.#burst = options.burst;
    this.#clock = options.clock;
    this.#warnIntervalMs = options.warnIntervalMs ?? 1000;
    this.#floodWindowMs = options.floodWindowMs ?? 10_000;
    this.#tokens = options.burst;
    this.#refilledAt = options.clock();
  }

  take(): RateDecision {
    const now = this.#clock();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#refilledAt) * this.#ratePerMs);
    this.#refilledAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 'accept';
    }
    if (now - this.#floodWindowStart >= this.#floodWindowMs) {
      this.#floodWindowStart = now;
      this.#droppedInWindow = 0;
    }
    this.#droppedInWindow += 1;
    if (this.#droppedInWindow > this.#burst) return 'close';
    if (now - this.#lastWarnAt >= this.#warnIntervalMs) {
      this.#lastWarnAt = now;
      return 'warn';
    }
    return 'drop';
  }

  /** Tokens left right now (rounded down); for tests and stats. */
  get available(): number {
    const now = this.#clock();
    return Math.floor(Math.min(this.#burst, this.#tokens + (now - this.#refilledAt) * this.#ratePerMs));
  }
}
