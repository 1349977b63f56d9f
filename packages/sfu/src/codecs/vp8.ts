/*
 * The VP8 RTP payload descriptor (RFC 7741 §4.2) and the first byte of the VP8 payload header
 * (§4.3), read only as far as routing needs: is this packet the start of a keyframe (where a
 * subscriber can start decoding or a simulcast layer switch can happen), and which temporal layer
 * is it. Reading never throws: truncated descriptors are typed failures.
 *
 *      0 1 2 3 4 5 6 7
 *     +-+-+-+-+-+-+-+-+
 *     |X|R|N|S|R| PID | (required)
 *     +-+-+-+-+-+-+-+-+
 *  X: |I|L|T|K| RSV   | (optional)
 *     +-+-+-+-+-+-+-+-+
 *  I: |M| PictureID   | (optional, M = 15-bit picture ID)
 *     +-+-+-+-+-+-+-+-+
 *  L: |   TL0PICIDX   | (optional)
 *     +-+-+-+-+-+-+-+-+
 *  T/K: |TID|Y| KEYIDX| (optional)
 *     +-+-+-+-+-+-+-+-+
 *  then the VP8 payload; in the first packet of a frame its first byte's bit 0 (P) is 0 for a
 *  keyframe (RFC 6386 §9.1, "inverse key frame flag").
 */

export type Vp8ParseReason = 'too-short';

export interface Vp8Descriptor {
  readonly ok: true;
  /** S bit with partition index 0: this packet starts a frame. */
  readonly startOfFrame: boolean;
  /** The packet starts a keyframe (only ever true on a frame's first packet). */
  readonly keyframe: boolean;
  /** 7- or 15-bit picture ID, undefined when absent. */
  readonly pictureId: number | undefined;
  readonly tl0PicIdx: number | undefined;
  /** Temporal layer (TID), undefined when absent. */
  readonly temporalId: number | undefined;
  /** Length of the descriptor in bytes (the VP8 payload starts there). */
  readonly descriptorLength: number;
}

export interface Vp8ParseFailure {
  readonly ok: false;
  readonly reason: Vp8ParseReason;
}

const TOO_SHORT: Vp8ParseFailure = Object.freeze({ ok: false, reason: 'too-short' });

export function readVp8Descriptor(payload: Uint8Array): Vp8Descriptor | Vp8ParseFailure {
  const first = payload[0];
  if (first === undefined) return TOO_SHORT;
  let offset = 1;
  let pictureId: number | undefined;
  let tl0PicIdx: number | undefined;
  let temporalId: number | undefined;
  if (first & 0x80) {
    const extension = payload[offset++];
    if (extension === undefined) return TOO_SHORT;
    if (extension & 0x80) {
      const high = payload[offset++];
      if (high === undefined) return TOO_SHORT;
      if (high & 0x80) {
        const low = payload[offset++];
        if (low === undefined) return TOO_SHORT;
        pictureId = ((high & 0x7f) << 8) | low;
      } else {
        pictureId = high;
      }
    }
    if (extension & 0x40) {
      tl0PicIdx = payload[offset++];
      if (tl0PicIdx === undefined) return TOO_SHORT;
    }
    if (extension & 0x30) {
      const tidKey = payload[offset++];
      if (tidKey === undefined) return TOO_SHORT;
      if (extension & 0x20) temporalId = tidKey >> 6;
    }
  }
  const startOfFrame = (first & 0x10) !== 0 && (first & 0x07) === 0;
  const header = payload[offset];
  // An empty payload after the descriptor can be no frame's start.
  if (header === undefined) return TOO_SHORT;
  return {
    ok: true,
    startOfFrame,
    keyframe: startOfFrame && (header & 0x01) === 0,
    pictureId,
    tl0PicIdx,
    temporalId,
    descriptorLength: offset,
  };
}

/** True when a VP8 RTP payload starts a keyframe; false for anything else, malformed included. */
export function isVp8Keyframe(payload: Uint8Array): boolean {
  const descriptor = readVp8Descriptor(payload);
  return descriptor.ok && descriptor.keyframe;
}
