/*
 * Reading a publisher's offer: which m-lines we accept (VP8 video, Opus audio), with the payload
 * types, SSRCs, simulcast RIDs and header-extension IDs the router needs. Pure; no engine.
 */
import { parse as parseSdp } from 'sdp-transform';
import { RtpExtensionUri } from '../rtp/header-extensions.js';
import type { MediaKind, PublishedTrack } from './engine.js';

const FORWARDED_CODEC: Record<MediaKind, string> = { video: 'vp8', audio: 'opus' };

/**
 * The audio/video m-lines of an offer the router can forward, in offer order. An m-line without a
 * MID, or without VP8/Opus, is left out (our answer rejects it). Throws only on SDP sdp-transform
 * cannot read at all (the caller maps that to a bad-description error).
 */
export function readPublishedTracks(offerSdp: string): PublishedTrack[] {
  const tracks: PublishedTrack[] = [];
  for (const media of parseSdp(offerSdp).media) {
    if (media.type !== 'audio' && media.type !== 'video') continue;
    if (media.mid === undefined || media.port === 0) continue;
    const codec = media.rtp.find((r) => r.codec.toLowerCase() === FORWARDED_CODEC[media.type as MediaKind]);
    if (!codec) continue;
    const layers = (media.rids ?? []).filter((rid) => rid.direction === 'send').map((rid) => ({ rid: String(rid.id) }));
    // Without simulcast the first SSRC is the media stream (a second one would be its RTX).
    const ssrc = layers.length === 0 ? media.ssrcs?.[0]?.id : undefined;
    // The extensions we answer: audio level for speakers; MID + RID so simulcast layers are named.
    const wanted: string[] =
      media.type === 'audio'
        ? [RtpExtensionUri.audioLevel]
        : layers.length > 0
          ? [RtpExtensionUri.mid, RtpExtensionUri.rtpStreamId]
          : [];
    const extensions = (media.ext ?? [])
      .filter(
        (e) =>
          wanted.includes(e.uri) &&
          (e.direction === undefined || e.direction === 'sendrecv' || e.direction === 'sendonly'),
      )
      .map((e) => ({ id: e.value, uri: e.uri }));
    const extensionId = (uri: string) => extensions.find((e) => e.uri === uri)?.id;
    // RED of Opus only (fmtp "<opus>/<opus>"): a RED of anything else is not ours to forward.
    const red =
      media.type === 'audio'
        ? media.rtp.find(
            (r) =>
              r.codec.toLowerCase() === 'red' &&
              media.fmtp?.some((f) => f.payload === r.payload && f.config === `${codec.payload}/${codec.payload}`),
          )
        : undefined;
    tracks.push({
      kind: media.type,
      mid: String(media.mid),
      payloadType: codec.payload,
      ssrc: ssrc === undefined ? undefined : Number(ssrc),
      layers,
      redPayloadType: red?.payload,
      audioLevelId: media.type === 'audio' ? extensionId(RtpExtensionUri.audioLevel) : undefined,
      ridId: layers.length > 0 ? extensionId(RtpExtensionUri.rtpStreamId) : undefined,
      extensions,
      msid: media.msid?.[0] ? `${media.msid[0].id} ${media.msid[0].appdata ?? ''}`.trim() : undefined,
    });
  }
  return tracks;
}
