/*
 * The media engine seam: ICE, DTLS and SRTP on one side, raw RTP/RTCP bytes on the other. The
 * router (Producer, Consumer, forwarding, feedback) talks only to these interfaces, so its logic is
 * unit-tested with a fake engine (test-support/fake-engine.ts) and runs over node-datachannel in
 * production (ndc-engine.ts). Like mediasoup-client's HandlerInterface: quirks of the engine stay
 * behind it.
 */

import { SfuError } from '../errors.js';

/**
 * Why the engine refused. Never reused or renamed:
 * - `bad-description`: an offer or answer the engine could not apply (malformed, or not matching
 *   our last offer).
 * - `closed`: the connection was already closed, or went down while the call ran.
 */
export type EngineErrorReason = 'bad-description' | 'closed';

export class EngineError extends SfuError {
  readonly code = 'SFU_ENGINE_ERROR';

  constructor(
    readonly reason: EngineErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export type MediaKind = 'audio' | 'video';

export type ConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** Payload types the router uses towards subscribers; publishers' own payload types are rewritten. */
export const SUBSCRIBER_PAYLOAD_TYPES = { video: 96, audio: 111 } as const satisfies Record<MediaKind, number>;

/** Payload type of RFC 2198 RED (of Opus) towards subscribers that accept it (Chrome's choice). */
export const SUBSCRIBER_RED_PAYLOAD_TYPE = 63;

/** One simulcast encoding a publisher announced in its offer (`a=rid:<id> send`). */
export interface OfferedLayer {
  readonly rid: string;
}

/** A track of a publisher's offer that the router accepted (VP8 video or Opus audio). */
export interface PublishedTrack {
  readonly kind: MediaKind;
  readonly mid: string;
  /** The publisher's payload type for VP8 (video) or Opus (audio). */
  readonly payloadType: number;
  /** The SSRC announced in the offer (`a=ssrc`); simulcast layers are announced by RID instead. */
  readonly ssrc: number | undefined;
  /** Simulcast encodings in the publisher's order (empty without simulcast). */
  readonly layers: readonly OfferedLayer[];
  /**
   * The publisher's payload type for RED of Opus (`red/48000/2`, `a=fmtp:<pt> <opus>/<opus>`), when
   * offered and accepted: the publisher then sends its audio RED-wrapped (redundancy against loss).
   */
  readonly redPayloadType: number | undefined;
  /** Extension ID the publisher uses for the RFC 6464 audio level, if negotiated. */
  readonly audioLevelId: number | undefined;
  /** Extension IDs for the RID / repaired RID (RFC 8852), if negotiated (simulcast). */
  readonly ridId: number | undefined;
  /** The header extensions our answer accepts (`a=extmap` id and URI), the publisher's IDs. */
  readonly extensions: readonly { readonly id: number; readonly uri: string }[];
  /** The publisher's `a=msid` stream and track ids, if any (kept for diagnostics). */
  readonly msid: string | undefined;
}

/** A publisher's upload: their offer, our answer; their RTP and RTCP arrive per track. */
export interface EnginePublisher {
  readonly tracks: readonly PublishedTrack[];
  readonly answerSdp: string;
  readonly state: ConnectionState;
  /** Every RTP packet of a track, as received; the handler may rewrite it in place. */
  onRtp(handler: (track: PublishedTrack, packet: Buffer) => void): void;
  /** Compound RTCP the publisher sent on a track (sender reports, mostly). */
  onRtcp(handler: (track: PublishedTrack, packet: Buffer) => void): void;
  onStateChange(handler: (state: ConnectionState) => void): void;
  /** RTCP towards the publisher (PLI, FIR, NACK). False when it cannot be sent now. */
  sendRtcp(track: PublishedTrack, packet: Uint8Array): boolean;
  /** The total bitrate the publisher may send (REMB), in bits/s. */
  requestBitrate(bitsPerSecond: number): void;
  addRemoteCandidate(candidate: string, mid: string): void;
  close(): void;
}

/** What one m-line of a subscriber's connection carries: a forwarded stream, or nothing (inactive). */
export interface SubscriberSlotMedia {
  readonly ssrc: number;
  /** `a=msid` stream id: the subscriber groups tracks of one publisher into one MediaStream by it. */
  readonly streamId: string;
  readonly trackId: string;
}

/** One of our ICE candidates, as RTCIceCandidateInit wants it (`candidate` without the `a=`). */
export interface LocalCandidate {
  readonly candidate: string;
  readonly sdpMid: string;
}

/** A subscriber's download: our offer (renegotiated as slots change), their answer, our RTP out. */
export interface EngineSubscriber {
  readonly state: ConnectionState;
  /**
   * Sets what the m-line `mid` sends from the next offer on: `media` to forward a stream,
   * `undefined` to leave it inactive (kept for reuse; m-lines are never removed, see ndc-engine.ts).
   */
  setSlot(mid: string, kind: MediaKind, media: SubscriberSlotMedia | undefined): void;
  /**
   * An offer with every slot and no candidates (the first one waits until ours are gathered): the
   * subscriber gets them from localCandidates() once its first answer is applied (ndc-engine.ts).
   */
  createOffer(): Promise<string>;
  /**
   * Applies the subscriber's answer to the last offer. Throws EngineError: `bad-description` for an
   * answer it refuses, `closed` when the connection is (or went) down meanwhile.
   */
  setAnswer(sdp: string): void;
  /** Our candidates, gathered by the first createOffer() (empty before). */
  localCandidates(): readonly LocalCandidate[];
  /** Whether the subscriber's last answer accepted RED on the audio m-line `mid`. */
  acceptsRed(mid: string): boolean;
  /** Sends an RTP or RTCP packet on the m-line `mid`. False when it cannot be sent now. */
  send(mid: string, packet: Uint8Array): boolean;
  /**
   * What the subscriber sent on the m-line `mid`: compound RTCP (NACK, PLI, FIR, RR, REMB), or RTP
   * it should not send (our m-lines are send-only; the router counts and drops it).
   */
  onPacket(handler: (mid: string, packet: Buffer) => void): void;
  onStateChange(handler: (state: ConnectionState) => void): void;
  addRemoteCandidate(candidate: string, mid: string): void;
  close(): void;
}

export interface MediaEngine {
  /** Accepts a publisher's offer; resolves once our answer (with candidates) is ready. */
  acceptPublisher(offerSdp: string): Promise<EnginePublisher>;
  createSubscriber(): EngineSubscriber;
  close(): void;
}
