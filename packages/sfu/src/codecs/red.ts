/*
 * RFC 2198 redundant audio (RED), as libwebrtc sends Opus with it (`a=fmtp:<red> <opus>/<opus>`):
 * the RTP payload is a list of block headers, then the blocks' data, the primary (newest) last.
 *
 *    0                   1                    2                   3
 *   |F|   block PT  |  timestamp offset         |   block length    |   F = 1: a redundant block
 *   |0|   block PT  |                                                   F = 0: the primary, 1 byte
 *
 * The router forwards RED to subscribers that negotiated it (rewriting the blocks' payload type to
 * theirs) and takes the primary out for those that did not, so nobody gets a packet it cannot
 * decode. Reading never throws.
 */

export interface RedBlocks {
  readonly ok: true;
  /** Offsets (in the payload) of each block header's payload-type byte, primary's included. */
  readonly payloadTypeOffsets: readonly number[];
  /** Where the primary block's data starts in the payload, and its length. */
  readonly primaryOffset: number;
  readonly primaryLength: number;
  readonly primaryPayloadType: number;
}

export interface RedParseFailure {
  readonly ok: false;
  readonly reason: 'too-short' | 'bad-length';
}

const TOO_SHORT: RedParseFailure = Object.freeze({ ok: false, reason: 'too-short' });
const BAD_LENGTH: RedParseFailure = Object.freeze({ ok: false, reason: 'bad-length' });

/** libwebrtc sends at most a few redundant blocks; more is not audio RED we should touch. */
const MAX_BLOCKS = 32;

export function readRedBlocks(payload: Uint8Array): RedBlocks | RedParseFailure {
  const payloadTypeOffsets: number[] = [];
  let offset = 0;
  let redundantBytes = 0;
  for (;;) {
    const first = payload[offset];
    if (first === undefined) return TOO_SHORT;
    payloadTypeOffsets.push(offset);
    if ((first & 0x80) === 0) {
      offset += 1;
      break;
    }
    const third = payload[offset + 2];
    const fourth = payload[offset + 3];
    if (third === undefined || fourth === undefined) return TOO_SHORT;
    redundantBytes += ((third & 0x03) << 8) | fourth;
    offset += 4;
    if (payloadTypeOffsets.length > MAX_BLOCKS) return BAD_LENGTH;
  }
  const primaryOffset = offset + redundantBytes;
  if (primaryOffset > payload.length) return BAD_LENGTH;
  return {
    ok: true,
    payloadTypeOffsets,
    primaryOffset,
    primaryLength: payload.length - primaryOffset,
    primaryPayloadType: (payload[offset - 1] ?? 0) & 0x7f,
  };
}

/** Writes `payloadType` into every block header (in place), keeping each F bit. */
export function rewriteRedPayloadTypes(payload: Uint8Array, blocks: RedBlocks, payloadType: number): void {
  for (const at of blocks.payloadTypeOffsets) payload[at] = ((payload[at] ?? 0) & 0x80) | (payloadType & 0x7f);
}
