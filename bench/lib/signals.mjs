// Realistic WebRTC signaling payloads, shaped like what Chromium produces for a call with one
// audio and one video track (BUNDLE, trickle ICE). Sizes are what matters to a relay: offers
// 4–6 KB, answers 3–5 KB, candidates ≈ 250 B as a whole signaling message.
//
// Every payload carries a 16-digit send timestamp (monotonic µs) right after a marker the
// receiver finds with one indexOf: SDP in the `o=` line's session id (`o=- <stamp> 2 IN IP4`),
// candidates in the candidate foundation (`candidate:<stamp> 1 udp …`); both spots hold digits
// in real SDP too.

export const STAMP_DIGITS = 16;
export const STAMP_PLACEHOLDER = '0'.repeat(STAMP_DIGITS);
export const SDP_MARKER = Buffer.from('o=- ');
export const CANDIDATE_MARKER = Buffer.from('candidate:');

/** Deterministic pseudo-random numbers, so every run sends the same bytes. */
export function rng(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function token(random, length) {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUM[Math.floor(random() * 64)];
  return out;
}
function hexPairs(random, count) {
  const out = [];
  for (let i = 0; i < count; i++)
    out.push(
      Math.floor(random() * 256)
        .toString(16)
        .toUpperCase()
        .padStart(2, '0'),
    );
  return out.join(':');
}

const AUDIO_CODECS = [
  [111, 'opus/48000/2', ['rtcp-fb:111 transport-cc', 'fmtp:111 minptime=10;useinbandfec=1']],
  [63, 'red/48000/2', ['fmtp:63 111/111']],
  [9, 'G722/8000', []],
  [0, 'PCMU/8000', []],
  [8, 'PCMA/8000', []],
  [13, 'CN/8000', []],
  [110, 'telephone-event/48000', []],
  [126, 'telephone-event/8000', []],
];
const VIDEO_FB = (pt) => [
  `rtcp-fb:${pt} goog-remb`,
  `rtcp-fb:${pt} transport-cc`,
  `rtcp-fb:${pt} ccm fir`,
  `rtcp-fb:${pt} nack`,
  `rtcp-fb:${pt} nack pli`,
];
// [payload type, rtpmap, fmtp, rtx payload type]
const VIDEO_CODECS = [
  [96, 'VP8/90000', null, 97],
  [98, 'VP9/90000', 'profile-id=0', 99],
  [100, 'VP9/90000', 'profile-id=2', 101],
  [102, 'H264/90000', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f', 103],
  [104, 'H264/90000', 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f', 105],
  [106, 'H264/90000', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f', 107],
  [108, 'H264/90000', 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f', 109],
  [127, 'H264/90000', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f', 125],
  [39, 'H264/90000', 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f', 40],
  [45, 'AV1/90000', 'level-idx=5;profile=0;tier=0', 46],
  [112, 'H264/90000', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f', 113],
  [114, 'red/90000', null, 115],
  [116, 'ulpfec/90000', null, null],
];
const AUDIO_EXTMAPS = [
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:sdes:mid',
];
const VIDEO_EXTMAPS = [
  'urn:ietf:params:rtp-hdrext:toffset',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'urn:3gpp:video-orientation',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-content-type',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-timing',
  'http://www.webrtc.org/experiments/rtp-hdrext/color-space',
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
];

/**
 * A Chromium-like SDP of about `targetBytes` characters (audio + video, BUNDLE), with the stamp
 * placeholder as the o= session id. The size is reached by the number of video codecs offered,
 * as it varies between browsers, then topped up with whole ssrc lines (within ~45 B).
 */
export function makeSdp(kind, targetBytes, seed) {
  const random = rng(seed);
  const ufrag = token(random, 4);
  const pwd = token(random, 24);
  const fingerprint = hexPairs(random, 32);
  const setup = kind === 'offer' ? 'actpass' : 'active';
  const streamId = `${token(random, 8)}-${token(random, 4)}-${token(random, 4)}-${token(random, 12)}`;
  const cname = token(random, 16);
  const head = [
    'v=0',
    `o=- ${STAMP_PLACEHOLDER} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=extmap-allow-mixed',
    `a=msid-semantic: WMS ${streamId}`,
  ];
  const media = (type, payloadTypes) => [
    `m=${type} 9 UDP/TLS/RTP/SAVPF ${payloadTypes.join(' ')}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fingerprint}`,
    `a=setup:${setup}`,
  ];
  const audioSsrc = Math.floor(random() * 4e9);
  const audio = [
    ...media(
      'audio',
      AUDIO_CODECS.map(([pt]) => pt),
    ),
    'a=mid:0',
    ...AUDIO_EXTMAPS.map((uri, i) => `a=extmap:${i + 1} ${uri}`),
    'a=sendrecv',
    `a=msid:${streamId} ${token(random, 8)}-${token(random, 4)}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    ...AUDIO_CODECS.flatMap(([pt, map, extra]) => [`a=rtpmap:${pt} ${map}`, ...extra.map((line) => `a=${line}`)]),
    `a=ssrc:${audioSsrc} cname:${cname}`,
    `a=ssrc:${audioSsrc} msid:${streamId} ${token(random, 8)}`,
  ];
  const videoLines = (codecCount) => {
    const codecs = VIDEO_CODECS.slice(0, codecCount);
    const payloadTypes = codecs.flatMap(([pt, , , rtx]) => (rtx === null ? [pt] : [pt, rtx]));
    const ssrc = Math.floor(random() * 4e9);
    const rtxSsrc = Math.floor(random() * 4e9);
    return [
      ...media('video', payloadTypes),
      'a=mid:1',
      ...VIDEO_EXTMAPS.map((uri, i) => `a=extmap:${i + 2} ${uri}`),
      'a=sendrecv',
      `a=msid:${streamId} ${token(random, 8)}-${token(random, 4)}`,
      'a=rtcp-mux',
      'a=rtcp-rsize',
      ...codecs.flatMap(([pt, map, fmtp, rtx]) => [
        `a=rtpmap:${pt} ${map}`,
        ...(map.startsWith('red') || map.startsWith('ulpfec') ? [] : VIDEO_FB(pt).map((line) => `a=${line}`)),
        ...(fmtp ? [`a=fmtp:${pt} ${fmtp}`] : []),
        ...(rtx === null ? [] : [`a=rtpmap:${rtx} rtx/90000`, `a=fmtp:${rtx} apt=${pt}`]),
      ]),
      `a=ssrc-group:FID ${ssrc} ${rtxSsrc}`,
      `a=ssrc:${ssrc} cname:${cname}`,
      `a=ssrc:${ssrc} msid:${streamId} ${token(random, 8)}`,
      `a=ssrc:${rtxSsrc} cname:${cname}`,
      `a=ssrc:${rtxSsrc} msid:${streamId} ${token(random, 8)}`,
    ];
  };
  const render = (codecCount) => `${[...head, ...audio, ...videoLines(codecCount)].join('\r\n')}\r\n`;
  let codecCount = 1;
  while (codecCount < VIDEO_CODECS.length && render(codecCount + 1).length <= targetBytes) codecCount++;
  let sdp = render(codecCount);
  // Top up with the kind of lines a second stream adds, until the target size.
  for (;;) {
    const line = `a=ssrc:${Math.floor(random() * 4e9)} cname:${cname}\r\n`;
    if (sdp.length + line.length > targetBytes) break;
    sdp += line;
  }
  return sdp;
}

/** An RTCIceCandidateInit like Chromium trickles, with the stamp placeholder as the foundation. */
export function makeCandidate(index, seed) {
  const random = rng(seed);
  const port = 40000 + Math.floor(random() * 20000);
  const ufrag = token(random, 4);
  const types = ['host', 'host', 'srflx', 'relay'];
  const type = types[index % types.length];
  const priority = { host: 2122260223, srflx: 1686052607, relay: 41885439 }[type];
  const protocol = index % 2 === 0 ? 'udp' : 'tcp';
  const related = type === 'host' ? '' : ` raddr 127.0.0.1 rport ${port - 1}`;
  const tcpType = protocol === 'tcp' ? ' tcptype passive' : '';
  return {
    candidate: `candidate:${STAMP_PLACEHOLDER} 1 ${protocol} ${priority} 127.0.0.1 ${port} typ ${type}${related}${tcpType} generation 0 ufrag ${ufrag} network-id 1`,
    sdpMid: index % 3 === 0 ? '1' : '0',
    sdpMLineIndex: index % 3 === 0 ? 1 : 0,
    usernameFragment: ufrag,
  };
}

/**
 * One negotiation between the two ends of a pair, as it trickles in a real call:
 * [sender ('a' | 'b'), kind ('offer' | 'answer' | 'candidate'), candidate index].
 * 1 offer, 1 answer, 8 candidates each way = 18 messages.
 */
export const NEGOTIATION = [
  ['a', 'offer', 0],
  ['a', 'candidate', 0],
  ['a', 'candidate', 1],
  ['b', 'answer', 0],
  ['b', 'candidate', 0],
  ['a', 'candidate', 2],
  ['b', 'candidate', 1],
  ['a', 'candidate', 3],
  ['b', 'candidate', 2],
  ['a', 'candidate', 4],
  ['b', 'candidate', 3],
  ['a', 'candidate', 5],
  ['b', 'candidate', 4],
  ['a', 'candidate', 6],
  ['b', 'candidate', 5],
  ['a', 'candidate', 7],
  ['b', 'candidate', 6],
  ['b', 'candidate', 7],
];

/** Offer and answer sizes of pair `index`: spread evenly over 4–6 KB and 3–5 KB. */
export function pairSizes(index) {
  const random = rng(index * 7919 + 17);
  return { offerBytes: 4096 + Math.floor(random() * 2048), answerBytes: 3072 + Math.floor(random() * 2048) };
}

/**
 * Finds the stamp in a relayed payload (a Buffer of JSON). Returns the µs stamp, or -1 for
 * messages that carry none (control messages).
 */
export function readStamp(payload) {
  let at = payload.indexOf(SDP_MARKER);
  if (at >= 0) {
    at += SDP_MARKER.length;
  } else {
    at = payload.indexOf(CANDIDATE_MARKER);
    if (at < 0) return -1;
    at += CANDIDATE_MARKER.length;
  }
  let value = 0;
  for (let i = 0; i < STAMP_DIGITS; i++) {
    const digit = payload[at + i] - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Writes `value` as STAMP_DIGITS ASCII digits into `buffer` at `offset`. */
export function writeStamp(buffer, offset, value) {
  let rest = value;
  for (let i = STAMP_DIGITS - 1; i >= 0; i--) {
    const next = Math.floor(rest / 10);
    buffer[offset + i] = 48 + (rest - next * 10);
    rest = next;
  }
}
