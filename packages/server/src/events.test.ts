import { describe, expect, it } from 'vitest';
import { TypedEmitter } from './events.js';
import { createSilentLogger } from './logger.js';

class Emitter extends TypedEmitter<{ tick: [n: number] }> {
  emitTick(n: number): boolean {
    return this.safeEmit('tick', n);
  }
}

describe('TypedEmitter', () => {
  it('keeps calling listeners after one of them throws', () => {
    const emitter = new Emitter(createSilentLogger());
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw new Error('listener bug');
    });
    emitter.on('tick', (n) => seen.push(n));
    expect(emitter.emitTick(1)).toBe(true);
    expect(seen).toEqual([1]);
  });

  it('calls once-listeners once and reports whether anyone listened', () => {
    const emitter = new Emitter(createSilentLogger());
    const seen: number[] = [];
    emitter.once('tick', (n) => seen.push(n));
    emitter.emitTick(1);
    expect(emitter.emitTick(2)).toBe(false);
    expect(seen).toEqual([1]);
  });
});
