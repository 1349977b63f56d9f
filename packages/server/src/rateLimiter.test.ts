import { describe, expect, it } from 'vitest';
import { type RateDecision, RateLimiter } from './rateLimiter.js';

function limiter(ratePerSecond: number, burst: number) {
  let now = 1_000;
  const clock = () => now;
  const rl = new RateLimiter({ ratePerSecond, burst, clock });
  return {
    rl,
    advance: (ms: number) => {
      now += ms;
    },
    takeMany: (n: number): RateDecision[] => Array.from({ length: n }, () => rl.take()),
  };
}

describe('RateLimiter', () => {
  it('accepts a full burst at once, then drops with one warning', () => {
    const { takeMany } = limiter(10, 5);
    expect(takeMany(5)).toEqual(['accept', 'accept', 'accept', 'accept', 'accept']);
    expect(takeMany(3)).toEqual(['warn', 'drop', 'drop']);
  });

  it('refills at the sustained rate, never above the burst size', () => {
    const { rl, advance, takeMany } = limiter(10, 5);
    takeMany(5);
    advance(100); // one token at 10/s
    expect(rl.take()).toBe('accept');
    expect(rl.take()).toBe('warn');
    advance(60_000);
    expect(rl.available).toBe(5);
    expect(takeMany(6)).toEqual(['accept', 'accept', 'accept', 'accept', 'accept', 'warn']);
  });

  it('warns at most once per second', () => {
    const { rl, advance, takeMany } = limiter(1, 3);
    takeMany(3);
    expect(rl.take()).toBe('warn');
    advance(400);
    expect(rl.take()).toBe('drop');
    advance(600); // one token back at 1/s
    expect(rl.take()).toBe('accept');
    expect(rl.take()).toBe('warn'); // a second after the first warning
  });

  it('closes a client that drops more than a burst within 10 s', () => {
    const { takeMany } = limiter(10, 5);
    takeMany(5); // accepted
    const decisions = takeMany(6);
    expect(decisions).toEqual(['warn', 'drop', 'drop', 'drop', 'drop', 'close']);
  });

  it('does not close a client whose drops are spread over more than 10 s', () => {
    const { rl, advance } = limiter(0.001, 2); // practically no refill
    rl.take();
    rl.take();
    const decisions: RateDecision[] = [];
    for (let i = 0; i < 6; i += 1) {
      decisions.push(rl.take());
      advance(6_000); // at most 2 drops in any 10 s window
    }
    expect(decisions).not.toContain('close');
  });
});
