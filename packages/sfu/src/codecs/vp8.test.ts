import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex } from '../test-support/hex.js';
import { isVp8Keyframe, readVp8Descriptor } from './vp8.js';

// Descriptors written from RFC 7741 §4.2's figure, followed by the first byte of a VP8 payload
// header: bit 0 (P, "inverse key frame flag") 0 = keyframe, 1 = interframe (RFC 6386 §9.1).
describe('readVp8Descriptor', () => {
  it('reads the descriptor libwebrtc sends: X, I with a 15-bit picture ID, L, T', () => {
    // X=1 S=1 PID=0 | I L T | M + picture ID 0x1234 | TL0PICIDX 7 | TID 2, Y | keyframe byte
    const packet = hex('90 e0 92 34 07 a0 10');
    expect(readVp8Descriptor(packet)).toEqual({
      ok: true,
      startOfFrame: true,
      keyframe: true,
      pictureId: 0x1234,
      tl0PicIdx: 7,
      temporalId: 2,
      descriptorLength: 6,
    });
  });

  it('reads a 7-bit picture ID and the minimal one-byte descriptor', () => {
    expect(readVp8Descriptor(hex('90 80 05 11'))).toMatchObject({ pictureId: 5, keyframe: false, descriptorLength: 3 });
    expect(readVp8Descriptor(hex('10 10'))).toMatchObject({
      startOfFrame: true,
      keyframe: true,
      pictureId: undefined,
      tl0PicIdx: undefined,
      temporalId: undefined,
      descriptorLength: 1,
    });
  });

  it('a keyframe only at the start of partition 0: continuation packets and other partitions are not', () => {
    expect(isVp8Keyframe(hex('10 10'))).toBe(true);
    expect(isVp8Keyframe(hex('10 11'))).toBe(false); // interframe
    expect(isVp8Keyframe(hex('00 10'))).toBe(false); // S = 0: middle of a frame
    expect(isVp8Keyframe(hex('11 10'))).toBe(false); // partition 1
  });

  it('K without T carries KEYIDX but no temporal layer', () => {
    expect(readVp8Descriptor(hex('90 10 c0 10'))).toMatchObject({ temporalId: undefined, descriptorLength: 3 });
  });

  it('truncated descriptors are typed failures', () => {
    for (const bytes of ['', '90', '90 80', '90 80 92', '90 40', '90 20', '90 e0 92 34 07 a0']) {
      expect(readVp8Descriptor(hex(bytes))).toEqual({ ok: false, reason: 'too-short' });
      expect(isVp8Keyframe(hex(bytes))).toBe(false);
    }
  });

  it('never throws and never reads past the payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        const result = readVp8Descriptor(bytes);
        if (result.ok) expect(result.descriptorLength).toBeLessThan(bytes.length);
      }),
    );
  });
});
