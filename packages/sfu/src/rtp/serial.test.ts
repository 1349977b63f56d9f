import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNewerSequence, isNewerTimestamp, sequenceDelta, timestampDelta } from './serial.js';

describe('serial number arithmetic (RFC 1982)', () => {
  it('orders sequence numbers across the wrap', () => {
    expect(sequenceDelta(0, 65535)).toBe(1);
    expect(sequenceDelta(65535, 0)).toBe(-1);
    expect(sequenceDelta(0x7fff, 0)).toBe(0x7fff);
    expect(sequenceDelta(0x8000, 0)).toBe(-0x8000); // half the space: undefined by the RFC, called older
    expect([isNewerSequence(1, 65535), isNewerSequence(65535, 1), isNewerSequence(5, 5)]).toEqual([true, false, false]);
  });

  it('orders timestamps across the wrap', () => {
    expect(timestampDelta(0, 0xffffffff)).toBe(1);
    expect(timestampDelta(0xffffffff, 0)).toBe(-1);
    expect(timestampDelta(0x7fffffff, 0)).toBe(0x7fffffff);
    expect(timestampDelta(0x80000000, 0)).toBe(-0x80000000);
    expect([isNewerTimestamp(10, 0xfffffff0), isNewerTimestamp(0xfffffff0, 10)]).toEqual([true, false]);
  });

  it('gives the distance back for any pair', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -0x8000, max: 0x7fff }), (b, d) => {
        expect(sequenceDelta((b + d) & 0xffff, b)).toBe(d);
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        (b, d) => {
          expect(timestampDelta((b + d) >>> 0, b)).toBe(d);
        },
      ),
    );
  });
});
