import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex } from '../test-support/hex.js';
import { buildRtp } from '../test-support/rtp-builder.js';
import {
  readAudioLevel,
  readMid,
  readRepairedRtpStreamId,
  readRtpStreamId,
  readTransportWideSequenceNumber,
  writeTransportWideSequenceNumber,
} from './header-extensions.js';
import { type RtpHeader, readRtpHeader } from './rtp-packet.js';

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

// A simulcast video packet as libwebrtc lays it out, hand-built with typical extmap IDs:
// 3 = transport-wide seq, 4 = MID "1", 10 = RID "h", 11 = repaired RID (on RTX; here for the test).
// be de 00 03 | 31 01 2c (ID 3, L=1: 0x012c) | 40 31 (ID 4, L=0: "1") | a0 68 (ID 10: "h")
//             | b0 68 (ID 11: "h") | 00 00 00 (padding)
const VIDEO = hex(`
  90 60 00 07  00 00 00 64  00 00 30 39
  be de 00 03  31 01 2c 40  31 a0 68 b0  68 00 00 00
  aa`);

// An Opus packet with the audio level extension (ID 1, L=0): V=1, level 0x2a = 42 → -42 dBov.
const AUDIO = hex(`
  90 6f 00 01  00 00 03 c0  00 00 00 01
  be de 00 01  10 aa 00 00
  fc`);

function parsed(bytes: Uint8Array): RtpHeader {
  const h = readRtpHeader(bytes);
  if (!h.ok) throw new Error(h.reason);
  return h;
}

describe('header extension readers on real layouts', () => {
  it('read MID, RID, repaired RID and transport-wide sequence number from a video packet', () => {
    const h = parsed(VIDEO);
    expect(readTransportWideSequenceNumber(h.extension(3) ?? new Uint8Array())).toBe(300);
    expect(readMid(h.extension(4) ?? new Uint8Array())).toBe('1');
    expect(readRtpStreamId(h.extension(10) ?? new Uint8Array())).toBe('h');
    expect(readRepairedRtpStreamId(h.extension(11) ?? new Uint8Array())).toBe('h');
  });

  it('read the audio level and voice activity', () => {
    const h = parsed(AUDIO);
    expect(readAudioLevel(h.extension(1) ?? new Uint8Array())).toEqual({ voiceActivity: true, level: 42 });
  });

  it('rewrite the transport-wide sequence number in place, through the view', () => {
    const bytes = VIDEO.slice();
    const view = parsed(bytes).extension(3);
    expect(view && writeTransportWideSequenceNumber(view, 0xfffe)).toBe(true);
    expect(readTransportWideSequenceNumber(parsed(bytes).extension(3) ?? new Uint8Array())).toBe(0xfffe);
    expect(bytes.subarray(19)).toEqual(VIDEO.subarray(19));
  });
});

describe('readAudioLevel', () => {
  it('splits the V bit from the 7-bit level (RFC 6464 §3)', () => {
    expect(readAudioLevel(hex('00'))).toEqual({ voiceActivity: false, level: 0 });
    expect(readAudioLevel(hex('7f'))).toEqual({ voiceActivity: false, level: 127 });
    expect(readAudioLevel(hex('80'))).toEqual({ voiceActivity: true, level: 0 });
    expect(readAudioLevel(hex('ff'))).toEqual({ voiceActivity: true, level: 127 });
  });

  it('refuses any other size', () => {
    expect(readAudioLevel(new Uint8Array())).toBeUndefined();
    expect(readAudioLevel(hex('80 00'))).toBeUndefined();
  });
});

describe('transport-wide sequence number', () => {
  it('is 2 bytes, big-endian', () => {
    expect(readTransportWideSequenceNumber(hex('ff ff'))).toBe(65535);
    expect(readTransportWideSequenceNumber(hex('00 01'))).toBe(1);
    expect(readTransportWideSequenceNumber(hex('01'))).toBeUndefined();
    expect(readTransportWideSequenceNumber(hex('00 01 02 03'))).toBeUndefined();
  });

  it('is not written into a view of the wrong size', () => {
    const view = hex('01 02 03');
    expect(writeTransportWideSequenceNumber(view, 5)).toBe(false);
    expect(view).toEqual(hex('01 02 03'));
  });

  it('wraps written values to 16 bits', () => {
    const view = new Uint8Array(2);
    writeTransportWideSequenceNumber(view, 0x10001);
    expect(readTransportWideSequenceNumber(view)).toBe(1);
  });
});

describe('MID and RID', () => {
  it('accept their grammars', () => {
    for (const rid of ['q', 'h', 'f', 'hi-res_2', 'A0']) {
      expect(readRtpStreamId(ascii(rid))).toBe(rid);
      expect(readRepairedRtpStreamId(ascii(rid))).toBe(rid);
    }
    for (const mid of ['0', 'audio', 'video-1', "!#$%&'*+-.^_`{|}~"]) expect(readMid(ascii(mid))).toBe(mid);
  });

  it('refuse empty values, bytes outside the grammar and non-ASCII', () => {
    for (const bad of ['', 'a b', 'a.b', 'a/b', 'é']) expect(readRtpStreamId(ascii(bad))).toBeUndefined();
    for (const bad of ['', 'a b', 'a:b', 'a"b', '(x)', 'a=b']) expect(readMid(ascii(bad))).toBeUndefined();
    expect(readMid(hex('61 00'))).toBeUndefined(); // a trailing NUL is not part of the value
    expect(readMid(hex('61 80'))).toBeUndefined();
  });

  it('read what a packet carries, whatever the form', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/),
        fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`{|}~-]{1,16}$/),
        fc.boolean(),
        (rid, mid, twoByte) => {
          const elements = [
            { id: 5, data: ascii(rid) },
            { id: 6, data: ascii(mid) },
          ];
          const bytes = buildRtp({
            marker: false,
            payloadType: 96,
            sequenceNumber: 1,
            timestamp: 2,
            ssrc: 3,
            csrcs: [],
            extension: twoByte ? { form: 'two-byte', appBits: 0, elements } : { form: 'one-byte', elements },
            payload: new Uint8Array(4),
            padding: 0,
          });
          const h = parsed(bytes);
          expect(readRtpStreamId(h.extension(5) ?? new Uint8Array())).toBe(rid);
          expect(readMid(h.extension(6) ?? new Uint8Array())).toBe(mid);
        },
      ),
    );
  });

  it('answer random bytes with a valid string or undefined', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
        for (const read of [readMid, readRtpStreamId, readRepairedRtpStreamId]) {
          const value = read(bytes);
          if (value !== undefined) expect(ascii(value)).toEqual(bytes);
        }
        const level = readAudioLevel(bytes);
        if (level) expect(level.level).toBeLessThan(128);
        const seq = readTransportWideSequenceNumber(bytes);
        if (seq !== undefined) expect(seq).toBeLessThan(65536);
      }),
      { numRuns: 1000 },
    );
  });
});
