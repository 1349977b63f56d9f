import nodeDataChannel from 'node-datachannel';
import { parse as parseSdp } from 'sdp-transform';
import { isRtcp } from '../rtp/demux.js';

/** What we forward; anything else offered (RED, RTX, FEC, other codecs) is left out of our answer. */
export type MediaKind = 'audio' | 'video';

export interface PublishedTrack {
  readonly kind: MediaKind;
  readonly mid: string;
  /** The payload type the publisher uses for VP8 (video) or Opus (audio). */
  readonly payloadType: number;
}

export interface PublishConnectionOptions {
  /** Local address to gather candidates on (one interface; tests use 127.0.0.1). */
  bindAddress?: string;
}

export type PublishConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/**
 * A participant's upload: their offer in, our answer out, their RTP and RTCP in, per track.
 * node-datachannel does ICE, DTLS and SRTP on its own threads; the answer is built by us from the
 * offer's m-lines with only VP8 and Opus, because libdatachannel's own answer mirrors every offered
 * codec and libwebrtc would then send RED-wrapped or RTX packets we cannot forward.
 */
export class PublishConnection {
  readonly tracks: readonly PublishedTrack[];
  private readonly pc: nodeDataChannel.PeerConnection;
  /** Held on purpose: a Track with no JS reference is collected and stops delivering, silently. */
  private readonly ndcTracks: nodeDataChannel.Track[] = [];
  private packetHandler: ((track: PublishedTrack, packet: Buffer) => void) | undefined;
  private stateHandler: ((state: PublishConnectionState) => void) | undefined;
  private closed = false;

  private constructor(offerSdp: string, options: PublishConnectionOptions) {
    this.tracks = tracksOf(offerSdp);
    this.pc = new nodeDataChannel.PeerConnection('publish', {
      iceServers: [],
      disableAutoNegotiation: true,
      ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
    });
    for (const track of this.tracks) {
      const media =
        track.kind === 'video'
          ? new nodeDataChannel.Video(track.mid, 'RecvOnly')
          : new nodeDataChannel.Audio(track.mid, 'RecvOnly');
      if (media instanceof nodeDataChannel.Video) media.addVP8Codec(track.payloadType);
      else media.addOpusCodec(track.payloadType);
      const ndcTrack = this.pc.addTrack(media);
      // Answers the publisher's RTCP (receiver reports) and lets us ask it for keyframes.
      ndcTrack.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
      ndcTrack.onMessage((packet) => this.onPacket(track, packet));
      this.ndcTracks.push(ndcTrack);
    }
    this.pc.onStateChange((state) => this.stateHandler?.(state as PublishConnectionState));
    this.pc.setRemoteDescription(offerSdp, 'offer');
    this.pc.setLocalDescription('answer');
  }

  /**
   * Accepts a publisher's offer. Resolves with the connection once our answer has all its
   * candidates (no trickle towards the publisher in this version).
   */
  static async accept(offerSdp: string, options: PublishConnectionOptions = {}): Promise<PublishConnection> {
    const connection = new PublishConnection(offerSdp, options);
    await connection.gathered();
    return connection;
  }

  get answerSdp(): string {
    return this.pc.localDescription()?.sdp ?? '';
  }

  /** Every RTP packet of a forwarded codec, as received (the caller may rewrite it in place). */
  onRtp(handler: (track: PublishedTrack, packet: Buffer) => void): void {
    this.packetHandler = handler;
  }

  onStateChange(handler: (state: PublishConnectionState) => void): void {
    this.stateHandler = handler;
  }

  /** Asks the publisher for a keyframe on its video track (PLI). False when there is none. */
  requestKeyframe(): boolean {
    const index = this.tracks.findIndex((t) => t.kind === 'video');
    return index >= 0 && (this.ndcTracks[index]?.requestKeyframe() ?? false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.packetHandler = undefined;
    this.pc.close();
  }

  private onPacket(track: PublishedTrack, packet: Buffer): void {
    if (isRtcp(packet)) return; // feedback from the publisher: handled by the RTCP session for now
    // Only the negotiated codec: anything else would reach subscribers undecodable.
    if (((packet[1] ?? 0) & 0x7f) !== track.payloadType) return;
    this.packetHandler?.(track, packet);
  }

  private gathered(): Promise<void> {
    return new Promise((resolve) => {
      if (this.pc.gatheringState() === 'complete') return resolve();
      this.pc.onGatheringStateChange((state) => {
        if (state === 'complete') resolve();
      });
    });
  }
}

/** The audio/video m-lines of an offer with the payload type of Opus / VP8 in each. */
function tracksOf(offerSdp: string): PublishedTrack[] {
  const tracks: PublishedTrack[] = [];
  for (const media of parseSdp(offerSdp).media) {
    if (media.type !== 'audio' && media.type !== 'video') continue;
    const codec = media.type === 'video' ? 'vp8' : 'opus';
    const rtp = media.rtp.find((r) => r.codec.toLowerCase() === codec);
    if (!rtp || media.mid === undefined) continue;
    tracks.push({ kind: media.type, mid: String(media.mid), payloadType: rtp.payload });
  }
  return tracks;
}
