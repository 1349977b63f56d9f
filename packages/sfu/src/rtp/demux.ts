/*
 * Telling RTP from RTCP when both share one transport (rtcp-mux, which WebRTC always uses), as
 * node-datachannel's `track.onMessage` delivers them. RFC 7983 §7: a first byte of 128-191 (the two
 * top bits 10, RTP version 2) is RTP or RTCP. RFC 5761 §4: the second byte of RTCP is its packet
 * type, 192-223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206, XR 207, ...); for
 * RTP that byte is marker + payload type, and payload types 64-95 are not used with rtcp-mux, so a
 * second byte of 192-223 can only be RTCP.
 */

/** RTP's fixed header: version, flags, payload type, sequence number, timestamp, SSRC. */
export const RTP_FIXED_HEADER_LENGTH = 12;
/** RTCP's common header: version, count/format, packet type, length. */
export const RTCP_HEADER_LENGTH = 4;

/** True for an RTCP packet (or compound) by RFC 5761/7983: version 2, second byte 192-223. */
export function isRtcp(bytes: Uint8Array): boolean {
  const second = bytes[1] ?? 0;
  return bytes.length >= RTCP_HEADER_LENGTH && ((bytes[0] ?? 0) & 0xc0) === 0x80 && second >= 192 && second <= 223;
}

/** True for an RTP packet by RFC 5761/7983: version 2, at least a fixed header, not RTCP's 192-223. */
export function isRtp(bytes: Uint8Array): boolean {
  const second = bytes[1] ?? 0;
  return bytes.length >= RTP_FIXED_HEADER_LENGTH && ((bytes[0] ?? 0) & 0xc0) === 0x80 && (second < 192 || second > 223);
}
