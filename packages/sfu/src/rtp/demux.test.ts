import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex } from '../test-support/hex.js';
import { isRtcp, isRtp } from './demux.js';

// First bytes of real traffic: an Opus RTP packet (V=2, PT 111), a VP8 one with the marker bit
// (0x80 | 96 = 0xe0), an RR (PT 201 = 0xc9), a PSFB (206 = 0xce); STUN starts 0x00-0x03, DTLS 0x14-0x3f.
const OPUS = hex('80 6f 12 34  00 00 03 c0  11 22 33 44  fc ff fe');
const VP8_MARKER = hex('90 e0 00 01  00 00 00 00  00 00 00 01');
const RR = hex('81 c9 00 01  90 2f 9e 2e');
const PLI = hex('81 ce 00 02  90 2f 9e 2e  90 2f 9e 2e');

describe('isRtp / isRtcp', () => {
  it('sorts RTP from RTCP by the second byte', () => {
    expect([isRtp(OPUS), isRtcp(OPUS)]).toEqual([true, false]);
    expect([isRtp(VP8_MARKER), isRtcp(VP8_MARKER)]).toEqual([true, false]);
    expect([isRtp(RR), isRtcp(RR)]).toEqual([false, true]);
    expect([isRtp(PLI), isRtcp(PLI)]).toEqual([false, true]);
  });

  it('takes exactly 192-223 as RTCP (RFC 5761 §4)', () => {
    for (let second = 0; second < 256; second++) {
      const bytes = new Uint8Array(12);
      bytes[0] = 0x80;
      bytes[1] = second;
      const rtcp = second >= 192 && second <= 223;
      expect(isRtcp(bytes)).toBe(rtcp);
      expect(isRtp(bytes)).toBe(!rtcp);
    }
  });

  it('refuses other versions and what RFC 7983 sends elsewhere (STUN, DTLS, TURN ChannelData)', () => {
    for (const first of [0x00, 0x01, 0x14, 0x17, 0x40, 0x7f, 0xc0, 0xff]) {
      const bytes = new Uint8Array(12);
      bytes[0] = first;
      bytes[1] = 0xc8;
      expect(isRtcp(bytes)).toBe(false);
      bytes[1] = 0x60;
      expect(isRtp(bytes)).toBe(false);
    }
  });

  it('refuses what is too short to hold the header', () => {
    expect(isRtcp(hex('81 c9 00'))).toBe(false);
    expect(isRtp(OPUS.subarray(0, 11))).toBe(false);
    expect(isRtp(new Uint8Array())).toBe(false);
    expect(isRtcp(new Uint8Array())).toBe(false);
  });

  it('never calls anything both RTP and RTCP', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
        expect(isRtp(bytes) && isRtcp(bytes)).toBe(false);
      }),
    );
  });
});
