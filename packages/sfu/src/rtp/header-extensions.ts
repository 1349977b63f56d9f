/*
 * Values of the RTP header extensions the router reads, from the view RtpHeader.extension(id)
 * returns. IDs are negotiated per session (SDP `a=extmap:<id> <uri>`), so callers map a URI below
 * to its ID first. Readers return undefined for a value of the wrong size or syntax: the packet
 * itself is fine, only that element is unusable.
 */
import { readUint16, writeUint16 } from '../bytes.js';

/** The `a=extmap` URIs of the extensions read here. */
export const RtpExtensionUri = {
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  rtpStreamId: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  repairedRtpStreamId: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  transportWideSequenceNumber: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
} as const;

/** RFC 6464 client-to-mixer audio level. */
export interface AudioLevel {
  /** The V bit: the sender's voice activity detector thinks this packet holds speech. */
  voiceActivity: boolean;
  /** 0-127 in -dBov: 0 is the loudest a signal can be, 127 is silence. */
  level: number;
}

/** RFC 6464 §3: one byte, V bit then a 7-bit level. */
export function readAudioLevel(extension: Uint8Array): AudioLevel | undefined {
  if (extension.length !== 1) return undefined;
  const byte = extension[0] ?? 0;
  return { voiceActivity: (byte & 0x80) !== 0, level: byte & 0x7f };
}

/**
 * The transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2):
 * 16 bits counting every packet on the transport, which transport-cc feedback refers to.
 */
export function readTransportWideSequenceNumber(extension: Uint8Array): number | undefined {
  return extension.length === 2 ? readUint16(extension, 0) : undefined;
}

/**
 * Overwrites the transport-wide sequence number in place (through the view into the packet):
 * each outgoing transport numbers its own packets. False when the view is not 2 bytes.
 */
export function writeTransportWideSequenceNumber(extension: Uint8Array, sequenceNumber: number): boolean {
  if (extension.length !== 2) return false;
  writeUint16(extension, 0, sequenceNumber & 0xffff);
  return true;
}

// RFC 8851's grammar: rid-id = 1*(alpha-numeric / "-" / "_").
const isRidChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f;

// MID (RFC 8843) is an RFC 5888 identification-tag, that is an RFC 4566 token: any visible ASCII but
// space, '"', '(', ')', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\', ']'.
const isTokenChar = (c: number) =>
  c === 0x21 ||
  (c >= 0x23 && c <= 0x27) ||
  c === 0x2a ||
  c === 0x2b ||
  c === 0x2d ||
  c === 0x2e ||
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x5e && c <= 0x7e);

/** ASCII text from an SDES-item extension, undefined when empty or a byte is outside the grammar. */
function readAsciiItem(extension: Uint8Array, allowed: (c: number) => boolean): string | undefined {
  if (extension.length === 0) return undefined;
  let text = '';
  for (const c of extension) {
    if (!allowed(c)) return undefined;
    text += String.fromCharCode(c);
  }
  return text;
}

/** The MID (RFC 8843's SDES item carried as a header extension): which m= line a packet belongs to. */
export function readMid(extension: Uint8Array): string | undefined {
  return readAsciiItem(extension, isTokenChar);
}

/** The RID of a simulcast layer (RFC 8852 RtpStreamId): letters, digits, '-' and '_'. */
export function readRtpStreamId(extension: Uint8Array): string | undefined {
  return readAsciiItem(extension, isRidChar);
}

/** The RID of the stream an RTX/FEC stream repairs (RFC 8852 RepairedRtpStreamId). */
export function readRepairedRtpStreamId(extension: Uint8Array): string | undefined {
  return readAsciiItem(extension, isRidChar);
}
