/*
 * A MediaEngine without sockets (STYLE #13, like mediasoup-client's FakeHandler): the router's
 * logic is unit-tested through it. Publishers read their tracks with the real offer parser, so tests
 * hand in real-looking SDP (test-support/publisher-offer.ts); everything else is test hooks:
 *
 * - FakePublisher: deliverRtp / deliverRtcp play the publisher's packets (copied into a fresh
 *   Buffer, as node-datachannel hands them out), setState moves the connection, sentRtcp records
 *   what the router sent it (PLI, NACK).
 * - FakeSubscriber: slots shows what the last createOffer() carried per MID, sent records copies of
 *   every packet per MID (the router rewrites one buffer per subscriber in place, so references
 *   would all end up showing the last subscriber's header), canSend makes send() refuse like a track
 *   that is not open yet, deliver plays the subscriber's RTCP (or stray RTP); unexpected lists RTP
 *   (and SRs) sent on an m-line whose last answer did not carry their SSRC.
 *
 * Like ndc-engine.ts: close() moves the state to 'closed' (reported to the state handler) and
 * drops the packet handlers; a state change to the current state is not reported.
 */

import { readUint32 } from '../bytes.js';
import {
  type ConnectionState,
  EngineError,
  type EnginePublisher,
  type EngineSubscriber,
  type LocalCandidate,
  type MediaEngine,
  type MediaKind,
  type PublishedTrack,
  type SubscriberSlotMedia,
} from '../engine/engine.js';
import { readPublishedTracks } from '../engine/offer.js';
import { RtcpPacketType } from '../rtcp/rtcp-packet.js';
import { isRtcp } from '../rtp/demux.js';

/** State, close and candidates, shared by both directions. */
abstract class FakeConnection {
  state: ConnectionState = 'new';
  /** How many times close() was called (the router should call it once). */
  closeCalls = 0;
  readonly candidates: { candidate: string; mid: string }[] = [];
  private stateHandler: ((state: ConnectionState) => void) | undefined;

  get closed(): boolean {
    return this.closeCalls > 0;
  }

  onStateChange(handler: (state: ConnectionState) => void): void {
    this.stateHandler = handler;
  }

  addRemoteCandidate(candidate: string, mid: string): void {
    if (!this.closed) this.candidates.push({ candidate, mid });
  }

  /** Test hook: the connection moves to `state` (ICE/DTLS progress, failure). */
  setState(state: ConnectionState): void {
    if (state === this.state || this.state === 'closed') return;
    this.state = state;
    this.stateHandler?.(state);
  }

  close(): void {
    this.closeCalls++;
    if (this.closeCalls > 1) return;
    this.dropHandlers();
    this.setState('closed');
  }

  protected abstract dropHandlers(): void;
}

export class FakePublisher extends FakeConnection implements EnginePublisher {
  readonly tracks: readonly PublishedTrack[];
  readonly answerSdp: string;
  /** RTCP the router sent to the publisher, copied, in order. */
  readonly sentRtcp: { track: PublishedTrack; packet: Uint8Array }[] = [];
  readonly requestedBitrates: number[] = [];
  /** Test hook: sendRtcp() returns false while this is off (a track not open yet). */
  canSend = true;
  private rtpHandler: ((track: PublishedTrack, packet: Buffer) => void) | undefined;
  private rtcpHandler: ((track: PublishedTrack, packet: Buffer) => void) | undefined;

  constructor(readonly offerSdp: string) {
    super();
    this.tracks = readPublishedTracks(offerSdp);
    this.answerSdp = `v=0\r\ns=fake answer\r\n${this.tracks.map((t) => `m=${t.kind} 9 UDP/TLS/RTP/SAVPF ${t.payloadType}\r\na=mid:${t.mid}\r\na=recvonly\r\n`).join('')}`;
  }

  /** The track of `kind` (the first one), or of MID `mid`; throws when there is none. */
  track(kindOrMid: MediaKind | string): PublishedTrack {
    const track = this.tracks.find((t) => t.kind === kindOrMid) ?? this.tracks.find((t) => t.mid === kindOrMid);
    if (!track) throw new Error(`no ${kindOrMid} track in the offer`);
    return track;
  }

  onRtp(handler: (track: PublishedTrack, packet: Buffer) => void): void {
    this.rtpHandler = handler;
  }

  onRtcp(handler: (track: PublishedTrack, packet: Buffer) => void): void {
    this.rtcpHandler = handler;
  }

  sendRtcp(track: PublishedTrack, packet: Uint8Array): boolean {
    if (this.closed || !this.canSend) return false;
    this.sentRtcp.push({ track, packet: Uint8Array.from(packet) });
    return true;
  }

  requestBitrate(bitsPerSecond: number): void {
    this.requestedBitrates.push(bitsPerSecond);
  }

  /** Test hook: an RTP packet of `track` (a track, its kind or its MID) arrives. */
  deliverRtp(track: PublishedTrack | string, bytes: Uint8Array): void {
    this.rtpHandler?.(this.resolve(track), Buffer.from(bytes));
  }

  /** Test hook: a compound RTCP packet arrives on `track`. */
  deliverRtcp(track: PublishedTrack | string, bytes: Uint8Array): void {
    this.rtcpHandler?.(this.resolve(track), Buffer.from(bytes));
  }

  protected dropHandlers(): void {
    this.rtpHandler = undefined;
    this.rtcpHandler = undefined;
  }

  private resolve(track: PublishedTrack | string): PublishedTrack {
    return typeof track === 'string' ? this.track(track) : track;
  }
}

/** What one m-line carries in the last offer. */
export interface FakeSlot {
  readonly kind: MediaKind;
  readonly media: SubscriberSlotMedia | undefined;
}

export class FakeSubscriber extends FakeConnection implements EngineSubscriber {
  /** MID → kind and media, as of the last createOffer() (setSlot() changes show up from the next). */
  slots = new Map<string, FakeSlot>();
  /** Offers created, answers applied. */
  offers = 0;
  answers = 0;
  /** The slots of the last applied answer's offer. */
  answeredSlots = new Map<string, FakeSlot>();
  /** Copies of every packet sent, per MID, in order (RTP and RTCP). */
  readonly sent = new Map<string, Uint8Array[]>();
  /** Test hook: send() returns false while this is off, like a track that is not open yet. */
  canSend = true;
  /**
   * Test hook: the connection goes down while the next answer is applied (as libdatachannel's can,
   * see ndc-engine.ts): the state moves to failed and setAnswer() throws EngineError('closed').
   */
  failWhileAnswering = false;
  /** Test hook: whether this subscriber's answers accept audio RED (a browser without it: false). */
  red = true;
  /**
   * Packets sent on an m-line whose last answered offer did not carry their SSRC (RTP, or our SR):
   * the subscriber's browser would drop them, so the router must never send them.
   */
  readonly unexpected: { mid: string; ssrc: number }[] = [];
  private readonly pendingSlots = new Map<string, FakeSlot>();
  private packetHandler: ((mid: string, packet: Buffer) => void) | undefined;
  private offerOutstanding = false;

  acceptsRed(mid: string): boolean {
    return this.red && this.answers > 0 && this.answeredSlots.get(mid)?.kind === 'audio';
  }

  setSlot(mid: string, kind: MediaKind, media: SubscriberSlotMedia | undefined): void {
    const existing = this.pendingSlots.get(mid);
    if (existing && existing.kind !== kind) throw new Error(`m-line ${mid} is ${existing.kind}, not ${kind}`);
    this.pendingSlots.set(mid, { kind, media });
  }

  async createOffer(): Promise<string> {
    if (this.closed) throw new EngineError('closed', 'the subscriber connection is closed');
    this.slots = new Map(this.pendingSlots);
    this.offers++;
    this.offerOutstanding = true;
    const lines = ['v=0', 's=fake offer'];
    for (const [mid, { kind, media }] of this.slots) {
      lines.push(`m=${kind} 9 UDP/TLS/RTP/SAVPF ${kind === 'video' ? 96 : 111}`, `a=mid:${mid}`);
      lines.push(media ? 'a=sendonly' : 'a=inactive');
      if (media) lines.push(`a=ssrc:${media.ssrc} msid:${media.streamId} ${media.trackId}`);
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  /** Accepts any SDP starting with "v=0" as the answer to the last offer (no offer: bad-description). */
  setAnswer(sdp: string): void {
    if (this.closed) throw new EngineError('closed', 'the subscriber connection is closed');
    if (!this.offerOutstanding || !sdp.startsWith('v=0')) {
      throw new EngineError('bad-description', 'the answer could not be applied');
    }
    if (this.failWhileAnswering) {
      this.setState('failed');
      throw new EngineError('closed', 'the connection failed while the answer was applied');
    }
    this.offerOutstanding = false;
    this.answers++;
    this.answeredSlots = new Map(this.slots);
  }

  /** One made-up host candidate, once the first offer exists (our offers never carry candidates). */
  localCandidates(): readonly LocalCandidate[] {
    return this.offers > 0 ? [{ candidate: 'candidate:1 1 UDP 2122317823 192.0.2.1 40000 typ host', sdpMid: '0' }] : [];
  }

  send(mid: string, packet: Uint8Array): boolean {
    if (this.closed || !this.canSend) return false;
    const rtcp = isRtcp(packet);
    const ssrc = readUint32(packet, rtcp ? 4 : 8);
    if ((!rtcp || packet[1] === RtcpPacketType.SenderReport) && this.answeredSlots.get(mid)?.media?.ssrc !== ssrc) {
      this.unexpected.push({ mid, ssrc });
    }
    let list = this.sent.get(mid);
    if (!list) {
      list = [];
      this.sent.set(mid, list);
    }
    list.push(Uint8Array.from(packet));
    return true;
  }

  onPacket(handler: (mid: string, packet: Buffer) => void): void {
    this.packetHandler = handler;
  }

  /** Test hook: the subscriber sent `bytes` on m-line `mid` (RTCP feedback, or RTP it should not send). */
  deliver(mid: string, bytes: Uint8Array): void {
    this.packetHandler?.(mid, Buffer.from(bytes));
  }

  /** The RTP packets sent on `mid`, in order. */
  sentRtp(mid: string): Uint8Array[] {
    return (this.sent.get(mid) ?? []).filter((packet) => !isRtcp(packet));
  }

  /** The RTCP packets sent on `mid`, in order. */
  sentRtcp(mid: string): Uint8Array[] {
    return (this.sent.get(mid) ?? []).filter((packet) => isRtcp(packet));
  }

  protected dropHandlers(): void {
    this.packetHandler = undefined;
  }
}

/** A plain answer for a fake subscriber's offer (the fake accepts any "v=0..." text). */
export function fakeAnswer(offerSdp: string): string {
  return offerSdp.replace('s=fake offer', 's=fake answer').replaceAll('a=sendonly', 'a=recvonly');
}

export class FakeEngine implements MediaEngine {
  readonly publishers: FakePublisher[] = [];
  readonly subscribers: FakeSubscriber[] = [];
  closed = false;

  /** Like ndc-engine: an offer that is no SDP at all (no "v=0" line) is a bad description. */
  async acceptPublisher(offerSdp: string): Promise<EnginePublisher> {
    if (this.closed) throw new EngineError('closed', 'the engine is closed');
    if (!offerSdp.startsWith('v=0')) throw new EngineError('bad-description', 'the offer could not be applied');
    const publisher = new FakePublisher(offerSdp);
    this.publishers.push(publisher);
    return publisher;
  }

  createSubscriber(): EngineSubscriber {
    if (this.closed) throw new EngineError('closed', 'the engine is closed');
    const subscriber = new FakeSubscriber();
    this.subscribers.push(subscriber);
    return subscriber;
  }

  close(): void {
    this.closed = true;
    for (const connection of [...this.publishers, ...this.subscribers]) {
      if (!connection.closed) connection.close();
    }
  }

  /** The latest publisher / subscriber connection; throws when there is none. */
  get lastPublisher(): FakePublisher {
    const publisher = this.publishers.at(-1);
    if (!publisher) throw new Error('no publisher yet');
    return publisher;
  }

  get lastSubscriber(): FakeSubscriber {
    const subscriber = this.subscribers.at(-1);
    if (!subscriber) throw new Error('no subscriber yet');
    return subscriber;
  }
}
