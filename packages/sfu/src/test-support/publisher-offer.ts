/*
 * Publisher offers shaped like libwebrtc's (Chrome's unified-plan createOffer with a camera and a
 * microphone), for tests that feed the real offer parser: a VP8 video m-line that also offers RTX,
 * RED and ULPFEC, an Opus audio m-line that also offers RED and the usual fallbacks, the audio-level
 * extension, optionally `a=ssrc` lines and simulcast RIDs. Built as text, line by line, like the
 * browser's; nothing here is parsed.
 */

/** Chrome's payload types, the defaults of publisherOffer(). */
export const OFFER_PAYLOAD_TYPES = {
  vp8: 96,
  vp8Rtx: 97,
  red: 116,
  redRtx: 117,
  ulpfec: 118,
  opus: 111,
  audioRed: 63,
} as const;

/** Chrome's header-extension IDs (one ID space across the BUNDLE group). */
export const OFFER_EXTENSION_IDS = {
  audioLevel: 1,
  absSendTime: 2,
  transportWideCc: 3,
  mid: 4,
  rtpStreamId: 10,
  repairedRtpStreamId: 11,
} as const;

export interface OfferedVideo {
  mid?: string;
  /** VP8's payload type (default 96); RTX is the next one. */
  payloadType?: number;
  /** The media SSRC (`a=ssrc` + an RTX SSRC in an FID group); none without (like simulcast offers). */
  ssrc?: number;
  rtxSsrc?: number;
  /** Simulcast RIDs, smallest first (`a=rid:<rid> send` + `a=simulcast:send`). */
  rids?: string[];
}

export interface OfferedAudio {
  mid?: string;
  /** Opus's payload type (default 111). */
  payloadType?: number;
  ssrc?: number;
  /** The ID of the RFC 6464 audio-level extension (default 1); null leaves the extension out. */
  audioLevelId?: number | null;
}

export interface PublisherOfferOptions {
  /** The video m-line; false for none. Default: VP8 at mid 0, no a=ssrc. */
  video?: OfferedVideo | false;
  /** The audio m-line; false for none. Default: Opus at mid 1, no a=ssrc. */
  audio?: OfferedAudio | false;
  /** The stream id of `a=msid` (default "stream"). */
  streamId?: string;
}

const CNAME = 'Jm8mTNqUA1PFcZl5';

function sessionLines(mids: string[], streamId: string): string[] {
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mids.join(' ')}`,
    'a=extmap-allow-mixed',
    `a=msid-semantic: WMS ${streamId}`,
  ];
}

function transportLines(mid: string): string[] {
  return [
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:Fh7k',
    'a=ice-pwd:6oVqf2B4Ve3cN7fQvK0Yp1Rz',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 4F:1C:D8:3A:09:7B:E2:55:10:6D:A3:C4:9E:21:B7:60:5F:88:0A:D1:3C:47:E9:72:06:BB:14:5E:C0:93:2D:F8',
    'a=setup:actpass',
    `a=mid:${mid}`,
  ];
}

function ssrcLines(ssrc: number, streamId: string, trackId: string): string[] {
  return [`a=ssrc:${ssrc} cname:${CNAME}`, `a=ssrc:${ssrc} msid:${streamId} ${trackId}`];
}

function videoLines(video: OfferedVideo, streamId: string): string[] {
  const mid = video.mid ?? '0';
  const vp8 = video.payloadType ?? OFFER_PAYLOAD_TYPES.vp8;
  const rtx = vp8 + 1;
  const { red, redRtx, ulpfec } = OFFER_PAYLOAD_TYPES;
  const others: number[] = [red, redRtx, ulpfec];
  if (others.includes(vp8) || others.includes(rtx)) {
    throw new RangeError(`VP8 payload type ${vp8} collides with RED/RTX/ULPFEC`);
  }
  const ids = OFFER_EXTENSION_IDS;
  const lines = [
    `m=video 9 UDP/TLS/RTP/SAVPF ${vp8} ${rtx} ${red} ${redRtx} ${ulpfec}`,
    ...transportLines(mid),
    'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
    `a=extmap:${ids.absSendTime} http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`,
    'a=extmap:13 urn:3gpp:video-orientation',
    `a=extmap:${ids.transportWideCc} http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01`,
    `a=extmap:${ids.mid} urn:ietf:params:rtp-hdrext:sdes:mid`,
    `a=extmap:${ids.rtpStreamId} urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id`,
    `a=extmap:${ids.repairedRtpStreamId} urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id`,
    'a=sendonly',
    `a=msid:${streamId} camera`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    `a=rtpmap:${vp8} VP8/90000`,
    `a=rtcp-fb:${vp8} goog-remb`,
    `a=rtcp-fb:${vp8} transport-cc`,
    `a=rtcp-fb:${vp8} ccm fir`,
    `a=rtcp-fb:${vp8} nack`,
    `a=rtcp-fb:${vp8} nack pli`,
    `a=rtpmap:${rtx} rtx/90000`,
    `a=fmtp:${rtx} apt=${vp8}`,
    `a=rtpmap:${red} red/90000`,
    `a=rtpmap:${redRtx} rtx/90000`,
    `a=fmtp:${redRtx} apt=${red}`,
    `a=rtpmap:${ulpfec} ulpfec/90000`,
  ];
  if (video.rids && video.rids.length > 0) {
    for (const rid of video.rids) lines.push(`a=rid:${rid} send`);
    lines.push(`a=simulcast:send ${video.rids.join(';')}`);
  } else if (video.ssrc !== undefined) {
    const rtxSsrc = video.rtxSsrc ?? (video.ssrc + 1) >>> 0;
    lines.push(
      `a=ssrc-group:FID ${video.ssrc} ${rtxSsrc}`,
      ...ssrcLines(video.ssrc, streamId, 'camera'),
      ...ssrcLines(rtxSsrc, streamId, 'camera'),
    );
  }
  return lines;
}

function audioLines(audio: OfferedAudio, streamId: string): string[] {
  const mid = audio.mid ?? '1';
  const opus = audio.payloadType ?? OFFER_PAYLOAD_TYPES.opus;
  const red = OFFER_PAYLOAD_TYPES.audioRed;
  const others = [9, 0, 8, 13, 110, 126];
  if (opus === red || others.includes(opus)) throw new RangeError(`Opus payload type ${opus} collides`);
  const levelId = audio.audioLevelId === undefined ? OFFER_EXTENSION_IDS.audioLevel : audio.audioLevelId;
  const ids = OFFER_EXTENSION_IDS;
  const lines = [
    `m=audio 9 UDP/TLS/RTP/SAVPF ${opus} ${red} ${others.join(' ')}`,
    ...transportLines(mid),
    ...(levelId === null ? [] : [`a=extmap:${levelId} urn:ietf:params:rtp-hdrext:ssrc-audio-level`]),
    `a=extmap:${ids.absSendTime} http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`,
    `a=extmap:${ids.transportWideCc} http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01`,
    `a=extmap:${ids.mid} urn:ietf:params:rtp-hdrext:sdes:mid`,
    'a=sendonly',
    `a=msid:${streamId} microphone`,
    'a=rtcp-mux',
    `a=rtpmap:${opus} opus/48000/2`,
    `a=rtcp-fb:${opus} transport-cc`,
    `a=fmtp:${opus} minptime=10;useinbandfec=1`,
    `a=rtpmap:${red} red/48000/2`,
    `a=fmtp:${red} ${opus}/${opus}`,
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:126 telephone-event/8000',
  ];
  if (audio.ssrc !== undefined) lines.push(...ssrcLines(audio.ssrc, streamId, 'microphone'));
  return lines;
}

/** A libwebrtc-like publisher offer (CRLF line ends, trailing CRLF). */
export function publisherOffer(options: PublisherOfferOptions = {}): string {
  const streamId = options.streamId ?? 'stream';
  const video = options.video === false ? undefined : (options.video ?? {});
  const audio = options.audio === false ? undefined : (options.audio ?? {});
  const mids = [...(video ? [video.mid ?? '0'] : []), ...(audio ? [audio.mid ?? '1'] : [])];
  const lines = [
    ...sessionLines(mids, streamId),
    ...(video ? videoLines(video, streamId) : []),
    ...(audio ? audioLines(audio, streamId) : []),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
