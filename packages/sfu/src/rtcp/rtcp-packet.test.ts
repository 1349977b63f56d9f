import { describe, expect, it } from 'vitest';
import { RtpEncodeError } from '../errors.js';
import { isRtcp } from '../rtp/demux.js';
import { hex } from '../test-support/hex.js';
import {
  buildFir,
  buildNack,
  buildPli,
  buildReceiverReport,
  buildRemb,
  buildSenderReport,
  MAX_REMB_BITRATE,
  type RtcpCompound,
  type RtcpParseReason,
  readRtcpCompound,
  rewriteMediaSsrc,
  rewriteSenderSsrc,
} from './rtcp-packet.js';

function read(bytes: Uint8Array): RtcpCompound {
  const walk = readRtcpCompound(bytes);
  if (!walk.ok) throw new Error(`expected a clean walk, stopped at ${walk.offset}: ${walk.reason}`);
  return walk;
}

// Vectors transcribed from pion/rtcp's tests (MIT), which took them from packet dumps:
// RR (1 block) + SDES (CNAME) + BYE + PLI + RTPFB FMT 5 (RRR) + APP.
const PION_COMPOUND = hex(`
  81 c9 00 07  90 2f 9e 2e  bc 5e 9a 40  00 00 00 00  00 00 46 e1  00 00 01 11  09 f3 64 32  00 02 4a 79
  81 ca 00 0c  90 2f 9e 2e  01 26 7b 39  63 30 30 65  62 39 32 2d  31 61 66 62  2d 39 64 34  39 2d 61 34
               37 64 2d 39  31 66 36 34  65 65 65 36  39 66 35 7d  00 00 00 00
  81 cb 00 01  90 2f 9e 2e
  81 ce 00 02  90 2f 9e 2e  90 2f 9e 2e
  85 cd 00 02  90 2f 9e 2e  90 2f 9e 2e
  80 cc 00 03  4b aa e1 ab  4e 41 4d 45  41 42 43 44`);

// An SR without report blocks followed by an SDES (pion/rtcp issue #447, from a real session).
const PION_SR_SDES = hex(`
  80 c8 00 06  2b 7e c0 c5  e0 20 a2 a9  52 a5 3f c0  2e 48 a5 52  00 00 00 46  00 00 12 1d
  81 ca 00 06  2b 7e c0 c5  01 10 4c 63  49 66 7a 58  6f 6e 44 6f  72 64 53 65  57 36 00 00`);

// A REMB Chrome sent while receiving a 6 Mb/s stream (quoted in pion/rtcp's tests): exponent
// 0x1a >> 2 = 6, mantissa 0x0220df = 139487, so 139487 × 2^6 = 8927168 b/s, for SSRC 0x4874ed16.
const CHROME_REMB = hex('8f ce 00 05  00 00 00 01  00 00 00 00  52 45 4d 42  01 1a 20 df  48 74 ed 16');

// A generic NACK (pion/rtcp's tests): PID 0xaaaa, BLP 0x5555 = bits 0, 2, ..., 14.
const PION_NACK = hex('81 cd 00 03  90 2f 9e 2e  90 2f 9e 2e  aa aa 55 55');

// Hand-computed from RFC 5104 §4.3.1: V=2 FMT=4 (0x84), PSFB (0xce), length 6 (7 words, minus one); sender
// 0x11111111; media SSRC 0; entries (0x22222222, seq 42) and (0x33333333, seq 255), 3 reserved bytes each.
const FIR = hex('84 ce 00 06  11 11 11 11  00 00 00 00  22 22 22 22  2a 00 00 00  33 33 33 33  ff 00 00 00');

// Hand-computed transport-cc (RTPFB FMT 15), FCI: base seq 1, status count 1, reference time 1,
// feedback count 0, a run-length chunk (1 packet, small delta), its delta 4 (1 ms), a zero byte.
const TRANSPORT_CC = hex('8f cd 00 05  00 00 00 01  12 34 56 78  00 01 00 01  00 00 01 00  20 01 04 00');

/** The report block of PION_COMPOUND's RR. */
const PION_REPORT = {
  ssrc: 0xbc5e9a40,
  fractionLost: 0,
  cumulativeLost: 0,
  highestSequenceNumber: 0x46e1,
  jitter: 273,
  lastSenderReport: 0x9f36432,
  delaySinceLastSenderReport: 150137,
};

describe('readRtcpCompound on real and RFC-shaped packets', () => {
  it('walks a real compound, reading the RR and the PLI and skipping the rest', () => {
    expect(isRtcp(PION_COMPOUND)).toBe(true);
    const walk = read(PION_COMPOUND);
    expect(walk.packets).toBe(6);
    expect(walk.skipped).toBe(4); // SDES, BYE, RRR, APP
    expect(walk.items).toEqual([
      {
        type: 'rr',
        offset: 0,
        length: 32,
        ssrc: 0x902f9e2e,
        reports: [PION_REPORT],
      },
      { type: 'pli', offset: 92, length: 12, senderSsrc: 0x902f9e2e, mediaSsrc: 0x902f9e2e },
    ]);
  });

  it('reads a sender report', () => {
    const walk = read(PION_SR_SDES);
    expect(walk).toMatchObject({ packets: 2, skipped: 1 });
    expect(walk.items).toEqual([
      {
        type: 'sr',
        offset: 0,
        length: 28,
        ssrc: 0x2b7ec0c5,
        ntpSeconds: 0xe020a2a9,
        ntpFraction: 0x52a53fc0,
        rtpTimestamp: 0x2e48a552,
        packetCount: 70,
        octetCount: 4637,
        reports: [],
      },
    ]);
  });

  it('reads Chrome’s REMB', () => {
    expect(read(CHROME_REMB).items).toEqual([
      { type: 'remb', offset: 0, length: 24, senderSsrc: 1, bitrate: 8927168, ssrcs: [1215622422] },
    ]);
  });

  it('expands a NACK’s PID and bitmask into sequence numbers', () => {
    const lost = [0xaaaa, ...[1, 3, 5, 7, 9, 11, 13, 15].map((d) => 0xaaaa + d)];
    expect(read(PION_NACK).items).toEqual([
      { type: 'nack', offset: 0, length: 16, senderSsrc: 0x902f9e2e, mediaSsrc: 0x902f9e2e, lost },
    ]);
  });

  it('wraps NACKed sequence numbers past 65535', () => {
    const walk = read(hex('81 cd 00 03  00 00 00 01  00 00 00 02  ff fe 00 07'));
    expect(walk.items[0]).toMatchObject({ type: 'nack', lost: [65534, 65535, 0, 1] });
  });

  it('reads FIR entries', () => {
    expect(read(FIR).items).toEqual([
      {
        type: 'fir',
        offset: 0,
        length: 28,
        senderSsrc: 0x11111111,
        entries: [
          { ssrc: 0x22222222, sequenceNumber: 42 },
          { ssrc: 0x33333333, sequenceNumber: 255 },
        ],
      },
    ]);
  });

  it('recognizes transport-cc and hands its FCI over undecoded, as a view', () => {
    const walk = read(TRANSPORT_CC);
    const item = walk.items[0];
    expect(item).toMatchObject({ type: 'transport-cc', senderSsrc: 1, mediaSsrc: 0x12345678 });
    if (item?.type !== 'transport-cc') throw new Error('not transport-cc');
    expect(item.fci).toEqual(TRANSPORT_CC.subarray(12));
    expect(item.fci.buffer).toBe(TRANSPORT_CC.buffer);
  });

  it('reads signed cumulative loss', () => {
    const rr = buildReceiverReport(1, [
      {
        ssrc: 2,
        fractionLost: 255,
        cumulativeLost: -3,
        highestSequenceNumber: 0x0001ffff,
        jitter: 1,
        lastSenderReport: 0,
        delaySinceLastSenderReport: 0,
      },
    ]);
    expect(rr.subarray(13, 16)).toEqual(hex('ff ff fd'));
    expect(read(rr).items[0]).toMatchObject({ reports: [{ fractionLost: 255, cumulativeLost: -3 }] });
  });

  it('skips application-layer feedback that is not REMB, and unknown feedback formats', () => {
    const afb = hex('8f ce 00 03  00 00 00 01  00 00 00 02  41 42 43 44');
    const sli = hex('82 ce 00 03  00 00 00 01  00 00 00 02  00 00 00 00');
    const tmmbr = hex('83 cd 00 04  00 00 00 01  00 00 00 00  00 00 00 02  00 00 00 00');
    const xr = hex('80 cf 00 01  00 00 00 01');
    expect(read(new Uint8Array([...afb, ...sli, ...tmmbr, ...xr]))).toMatchObject({
      items: [],
      packets: 4,
      skipped: 4,
    });
  });

  it('removes padding before reading the body', () => {
    // A PLI with P=1 and 4 padding bytes (count 4): 16 bytes, length field 3.
    const walk = read(hex('a1 ce 00 03  00 00 00 01  00 00 00 02  00 00 00 04'));
    expect(walk.items).toEqual([{ type: 'pli', offset: 0, length: 16, senderSsrc: 1, mediaSsrc: 2 }]);
    // A NACK whose padding leaves a partial FCI is malformed.
    expect(readRtcpCompound(hex('a1 cd 00 03  00 00 00 01  00 00 00 02  00 01 00 02'))).toMatchObject({
      ok: false,
      reason: 'bad-feedback',
    });
  });
});

describe('readRtcpCompound on malformed input', () => {
  const RR = hex('80 c9 00 01  00 00 00 01');

  it('names each way a packet can be malformed, keeping what came before', () => {
    const cases: [string, RtcpParseReason][] = [
      ['', 'too-short'],
      ['80 c9 00', 'too-short'],
      ['40 c9 00 01  00 00 00 01', 'bad-version'],
      ['80 c9 00 02  00 00 00 01', 'bad-length'],
      ['a0 c9 00 01  00 00 00 00', 'bad-padding'], // count 0
      ['a0 c9 00 01  00 00 00 05', 'bad-padding'], // more than the body
      ['81 c9 00 01  00 00 00 01', 'bad-report'], // RC=1, no block
      ['80 c8 00 01  00 00 00 01', 'bad-report'], // SR without sender info
      ['81 ce 00 01  00 00 00 01', 'bad-feedback'], // PLI without media SSRC
      ['81 cd 00 02  00 00 00 01  00 00 00 02', 'bad-feedback'], // NACK without FCI
      ['84 ce 00 03  00 00 00 01  00 00 00 00  00 00 00 02', 'bad-feedback'], // half a FIR entry
      ['8f ce 00 04  00 00 00 01  00 00 00 00  52 45 4d 42  01 00 00 01', 'bad-feedback'], // 1 SSRC announced, none there
    ];
    for (const [bytes, reason] of cases) {
      const walk = readRtcpCompound(hex(bytes));
      expect([bytes, walk.ok ? 'ok' : walk.reason]).toEqual([bytes, reason]);
      const after = readRtcpCompound(new Uint8Array([...RR, ...hex(bytes)]));
      if (bytes === '') {
        expect(after.ok).toBe(true);
        continue;
      }
      expect(after).toMatchObject({ ok: false, reason, offset: 8, packets: 1, skipped: 0 });
      expect(after.items).toEqual([{ type: 'rr', offset: 0, length: 8, ssrc: 1, reports: [] }]);
    }
  });

  it('stops at the first malformed packet and reads nothing after it', () => {
    const bytes = new Uint8Array([...RR, ...hex('00 00 00 00'), ...buildPli(1, 2)]);
    expect(readRtcpCompound(bytes)).toMatchObject({ ok: false, reason: 'bad-version', offset: 8, items: [{}] });
  });
});

describe('RTCP builders', () => {
  it('write the vectors byte for byte', () => {
    expect(buildPli(0x902f9e2e, 0x902f9e2e)).toEqual(PION_COMPOUND.subarray(92, 104));
    expect(buildRemb(1, 8927168, [1215622422])).toEqual(CHROME_REMB);
    const lost = [0xaaaa, ...[1, 3, 5, 7, 9, 11, 13, 15].map((d) => 0xaaaa + d)];
    expect(buildNack(0x902f9e2e, 0x902f9e2e, lost)).toEqual(PION_NACK);
    expect(
      buildFir(0x11111111, [
        { ssrc: 0x22222222, sequenceNumber: 42 },
        { ssrc: 0x33333333, sequenceNumber: 255 },
      ]),
    ).toEqual(FIR);
    expect(buildReceiverReport(0x902f9e2e, [PION_REPORT])).toEqual(PION_COMPOUND.subarray(0, 32));
    expect(
      buildSenderReport({
        ssrc: 0x2b7ec0c5,
        ntpSeconds: 0xe020a2a9,
        ntpFraction: 0x52a53fc0,
        rtpTimestamp: 0x2e48a552,
        packetCount: 70,
        octetCount: 4637,
      }),
    ).toEqual(PION_SR_SDES.subarray(0, 28));
  });

  it('pack NACKs into PID + BLP entries, in any input order and across the wrap', () => {
    const fci = (bytes: Uint8Array) => [...bytes.subarray(12)].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(fci(buildNack(1, 2, [100, 101, 105, 115]))).toBe('00644011');
    expect(fci(buildNack(1, 2, [502, 100, 117, 500, 501, 100]))).toBe('0064000000750000' + '01f40003');
    expect(fci(buildNack(1, 2, [1, 65535, 0]))).toBe('ffff0003');
    expect(fci(buildNack(1, 2, [0, 16, 17]))).toBe('00008000' + '00110000');
  });

  it('round REMB bitrates down to what 18 bits and an exponent say', () => {
    const rembBitrate = (bitrate: number) => {
      const item = read(buildRemb(1, bitrate, [])).items[0];
      return item?.type === 'remb' ? item.bitrate : Number.NaN;
    };
    expect(rembBitrate(0)).toBe(0);
    expect(rembBitrate(0x3ffff)).toBe(0x3ffff);
    expect(rembBitrate(8927167)).toBe(8927104); // mantissa 139486 × 64
    expect(rembBitrate(1_500_000.9)).toBe(1_500_000 - (1_500_000 % 8));
    expect(rembBitrate(MAX_REMB_BITRATE)).toBe(MAX_REMB_BITRATE);
  });

  it('refuse what does not fit', () => {
    const refusals: [() => unknown, string][] = [
      [() => buildPli(-1, 0), 'bad-value'],
      [() => buildPli(0, 2 ** 32), 'bad-value'],
      [() => buildFir(1, []), 'bad-value'],
      [() => buildFir(1, [{ ssrc: 1, sequenceNumber: 256 }]), 'bad-value'],
      [() => buildNack(1, 2, []), 'bad-value'],
      [() => buildNack(1, 2, [65536]), 'bad-value'],
      [() => buildReceiverReport(1, new Array(32).fill(PION_REPORT)), 'too-many'],
      [
        () =>
          buildSenderReport({
            ssrc: 1,
            ntpSeconds: 2 ** 32,
            ntpFraction: 0,
            rtpTimestamp: 0,
            packetCount: 0,
            octetCount: 0,
          }),
        'bad-value',
      ],
      [() => buildReceiverReport(1, [{ ...PION_REPORT, cumulativeLost: 0x800000 }]), 'bad-value'],
      [() => buildReceiverReport(1, [{ ...PION_REPORT, cumulativeLost: -0x800001 }]), 'bad-value'],
      [() => buildReceiverReport(1, [{ ...PION_REPORT, fractionLost: 256 }]), 'bad-value'],
      [() => buildReceiverReport(1, [{ ...PION_REPORT, jitter: -1 }]), 'bad-value'],
      [() => buildRemb(1, -1, []), 'bad-value'],
      [() => buildRemb(1, Number.POSITIVE_INFINITY, []), 'bad-value'],
      [() => buildRemb(1, Number.NaN, []), 'bad-value'],
      [() => buildRemb(1, 1, new Array(256).fill(1)), 'too-many'],
    ];
    for (const [build, reason] of refusals) {
      let error: unknown;
      try {
        build();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RtpEncodeError);
      expect((error as RtpEncodeError).reason).toBe(reason);
    }
  });
});

describe('rewriting forwarded feedback', () => {
  it('points a PLI inside a compound at another stream, by the item’s offset', () => {
    const bytes = PION_COMPOUND.slice();
    const pli = read(bytes).items.find((item) => item.type === 'pli');
    expect(pli && rewriteMediaSsrc(bytes, 0xcafebabe, pli.offset)).toBe(true);
    expect(pli && rewriteSenderSsrc(bytes, 0x5f0, pli.offset)).toBe(true);
    expect(read(bytes).items[1]).toMatchObject({ type: 'pli', senderSsrc: 0x5f0, mediaSsrc: 0xcafebabe });
    expect(bytes.subarray(0, 92)).toEqual(PION_COMPOUND.subarray(0, 92));
    expect(bytes.subarray(104)).toEqual(PION_COMPOUND.subarray(104));
  });

  it('rewrites a NACK’s media SSRC and leaves its sequence numbers', () => {
    const bytes = PION_NACK.slice();
    expect(rewriteMediaSsrc(bytes, 7)).toBe(true);
    expect(read(bytes).items[0]).toMatchObject({ mediaSsrc: 7, senderSsrc: 0x902f9e2e });
    expect(bytes.subarray(12)).toEqual(PION_NACK.subarray(12));
  });

  it('rewrites every FIR entry and leaves the header’s media SSRC at 0', () => {
    const bytes = FIR.slice();
    expect(rewriteMediaSsrc(bytes, 9)).toBe(true);
    expect(read(bytes).items[0]).toMatchObject({
      entries: [
        { ssrc: 9, sequenceNumber: 42 },
        { ssrc: 9, sequenceNumber: 255 },
      ],
    });
    expect(bytes.subarray(8, 12)).toEqual(hex('00 00 00 00'));
  });

  it('refuses other packets and leaves them untouched', () => {
    for (const [bytes, offset] of [
      [PION_COMPOUND, 0], // RR
      [PION_COMPOUND, 104], // RRR
      [PION_COMPOUND, 5], // not at a header
      [CHROME_REMB, 0],
      [TRANSPORT_CC, 0],
      [buildPli(1, 2).subarray(0, 11), 0],
      [buildPli(1, 2), -1],
      [hex('a1 ce 00 02  00 00 00 01  00 00 00 08'), 0], // padding covers the media SSRC
    ] as const) {
      const copy = bytes.slice();
      expect(rewriteMediaSsrc(copy, 1, offset)).toBe(false);
      expect(rewriteSenderSsrc(copy, 1, offset)).toBe(false);
      expect(copy).toEqual(bytes);
    }
  });
});
