import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex } from '../test-support/hex.js';
import { readRedBlocks, rewriteRedPayloadTypes } from './red.js';

// Written from RFC 2198 §3's layout: one redundant Opus block (PT 111, 960 ticks old, 3 bytes),
// then the primary's one-byte header, then the data: aa bb cc (redundant), 11 22 (primary).
const ONE_REDUNDANT = hex('ef 0f 00 03  6f  aa bb cc  11 22');

describe('readRedBlocks', () => {
  it('finds the primary after the redundant blocks', () => {
    expect(readRedBlocks(ONE_REDUNDANT)).toEqual({
      ok: true,
      payloadTypeOffsets: [0, 4],
      primaryOffset: 8,
      primaryLength: 2,
      primaryPayloadType: 111,
    });
  });

  it('reads a packet with the primary only (libwebrtc’s first packets)', () => {
    expect(readRedBlocks(hex('6f 11 22 33'))).toMatchObject({ primaryOffset: 1, primaryLength: 3 });
  });

  it('typed failures for truncated headers and block lengths running past the payload', () => {
    expect(readRedBlocks(hex(''))).toEqual({ ok: false, reason: 'too-short' });
    expect(readRedBlocks(hex('ef 0f 00'))).toEqual({ ok: false, reason: 'too-short' });
    expect(readRedBlocks(hex('ef 0f 00 03'))).toEqual({ ok: false, reason: 'too-short' }); // no primary header
    expect(readRedBlocks(hex('ef 0f 00 09  6f  aa'))).toEqual({ ok: false, reason: 'bad-length' });
  });

  it('rewrites every block’s payload type, keeping the F bits', () => {
    const payload = Uint8Array.from(ONE_REDUNDANT);
    const blocks = readRedBlocks(payload);
    if (!blocks.ok) throw new Error('parse');
    rewriteRedPayloadTypes(payload, blocks, 100);
    expect(payload).toEqual(hex('e4 0f 00 03  64  aa bb cc  11 22'));
  });

  it('never throws, and a parsed primary lies within the payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const blocks = readRedBlocks(bytes);
        if (!blocks.ok) return;
        expect(blocks.primaryLength).toBeGreaterThanOrEqual(0);
        expect(blocks.primaryOffset + blocks.primaryLength).toBe(bytes.length);
        // Every block header (its payload type byte) comes before the primary's data.
        for (const offset of blocks.payloadTypeOffsets) expect(offset).toBeLessThan(blocks.primaryOffset);
      }),
    );
  });
});
