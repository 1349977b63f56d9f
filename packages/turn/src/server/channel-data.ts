import { readUint16 } from '../stun/bytes.js';
import { HEADER_LENGTH, MAX_CHANNEL_NUMBER, MIN_CHANNEL_NUMBER } from '../stun/constants.js';

/*
 * ChannelData (RFC 8656 §12.4): 2-byte channel number, 2-byte length, application data. The
 * relay's hot path: 4 bytes of overhead instead of a 36-byte Send/Data indication.
 */

export const CHANNEL_DATA_HEADER = 4;

/** RFC 7983: first byte 0x40-0x7F is ChannelData (channels 0x4000-0x7FFF, see MAX_CHANNEL_NUMBER). */
export function isChannelData(bytes: Uint8Array): boolean {
  const first = bytes[0] ?? 0;
  return bytes.length >= CHANNEL_DATA_HEADER && first >= 0x40 && first <= 0x7f;
}

export interface ChannelDataView {
  channel: number;
  /** A view into the input (no copy): hand it on before the input buffer is reused. */
  data: Uint8Array;
}

/**
 * Reads one ChannelData message. Over UDP trailing padding is allowed (§12.5), so the declared
 * length may be shorter than the datagram, never longer. null when it is not valid ChannelData.
 */
export function decodeChannelData(bytes: Uint8Array): ChannelDataView | null {
  if (!isChannelData(bytes)) return null;
  const channel = readUint16(bytes, 0);
  const length = readUint16(bytes, 2);
  if (CHANNEL_DATA_HEADER + length > bytes.length) return null;
  return { channel, data: bytes.subarray(CHANNEL_DATA_HEADER, CHANNEL_DATA_HEADER + length) };
}

/** The 4-byte ChannelData header alone, for sending it and the data as two pieces of one datagram. */
export function channelDataHeader(channel: number, length: number): Uint8Array {
  return Uint8Array.of(channel >> 8, channel & 0xff, length >> 8, length & 0xff);
}

/** ChannelData for `data`; `pad` rounds up to 4 bytes, as TCP and TLS require (§12.5). */
export function encodeChannelData(channel: number, data: Uint8Array, pad: boolean): Uint8Array {
  const total = CHANNEL_DATA_HEADER + (pad ? (data.length + 3) & ~3 : data.length);
  const out = new Uint8Array(total);
  out[0] = channel >> 8;
  out[1] = channel & 0xff;
  out[2] = data.length >> 8;
  out[3] = data.length & 0xff;
  out.set(data, CHANNEL_DATA_HEADER);
  return out;
}

export function isValidChannelNumber(channel: number): boolean {
  return channel >= MIN_CHANNEL_NUMBER && channel <= MAX_CHANNEL_NUMBER;
}

/**
 * Splits a TCP/TLS byte stream into whole STUN and ChannelData messages (RFC 8656 §12.5: over
 * streams ChannelData is padded to 4 bytes; STUN lengths are multiples of 4 already). Anything
 * else in the stream means we lost framing for good: `push` returns false and the caller closes
 * the connection. Buffers at most one message (≤ 65,539 bytes + padding) plus one read.
 */
export class StreamFramer {
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly onMessage: (message: Uint8Array) => void) {}

  /** Feed bytes as they arrive; calls onMessage for every complete message (an independent copy). */
  push(chunk: Uint8Array): boolean {
    let buffer = chunk;
    if (this.pending.length > 0) {
      buffer = new Uint8Array(this.pending.length + chunk.length);
      buffer.set(this.pending);
      buffer.set(chunk, this.pending.length);
    }
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const first = buffer[offset] ?? 0;
      const declared = readUint16(buffer, offset + 2);
      let size: number;
      if (first < 0x40) {
        if (declared % 4 !== 0) return this.fail();
        size = HEADER_LENGTH + declared;
      } else if (first <= 0x7f) {
        size = CHANNEL_DATA_HEADER + ((declared + 3) & ~3);
      } else {
        return this.fail();
      }
      if (buffer.length - offset < size) break;
      // Copy: the chunk belongs to the socket and the message may outlive this call.
      this.onMessage(buffer.slice(offset, offset + size));
      offset += size;
    }
    this.pending = offset === buffer.length ? new Uint8Array(0) : buffer.slice(offset);
    return true;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }

  private fail(): false {
    this.pending = new Uint8Array(0);
    return false;
  }
}
