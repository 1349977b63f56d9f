/*
 * The media engine over node-datachannel (libdatachannel: ICE, DTLS, SRTP on native threads; see
 * shared/spikes/sfu-engine/REPORT.md for why). What this file works around, each verified there or
 * in ndc-engine.test.ts and router.wrtc.test.ts:
 *
 * - Every Track keeps a JS reference: an unreferenced Track is garbage-collected, and collecting it
 *   closes its native track, so media stops. That includes every object of a reused m-line.
 * - Answers are built by us (disableAutoNegotiation) with only VP8 / Opus: libdatachannel's own
 *   answer mirrors every offered codec, and libwebrtc then sends RED or RTX we cannot forward.
 * - A subscriber connection never removes an m-line. Closing a Track rejects its m-line (port 0);
 *   when that m-line is the BUNDLE tag the whole transport goes, and a rejected MID is never usable
 *   again. So a slot that stops forwarding becomes `inactive` and is reused for the next stream of
 *   its kind (addTrack with an existing MID updates that m-line in place).
 * - The first offer to a subscriber has at least one media m-line: libdatachannel sets up SRTP only
 *   when the first negotiation has media, and tracks added later to a data-only transport never open.
 * - RTCP arrives raw and compound, mixed with RTP, on `onMessage`; we split and walk it ourselves.
 * - No announced-address option: candidates in our SDP are rewritten to the announced address.
 * - Our offers to subscribers carry no candidates; the subscriber gets them by trickle after its
 *   first answer is applied. libdatachannel 0.24.5 hands an answer's ICE credentials to the agent
 *   before it keeps the answer's fingerprint: if the subscriber has been checking our candidates
 *   meanwhile, ICE connects at once, and a DTLS handshake that finishes inside that window finds no
 *   fingerprint to check and fails ("certificate verify failed", "unknown CA"; upstream PR #1612).
 *   Seen with 300 subscribers under a profiler: about 1 connection in 300 failed. A subscriber that
 *   does not know our address yet cannot have been checking it, so ICE starts after the fingerprint
 *   is kept. The publisher direction is not exposed: there the offer is theirs and our answer goes
 *   out after it is applied.
 */
import nodeDataChannel from 'node-datachannel';
import { parse as parseSdp } from 'sdp-transform';
import { isRtcp } from '../rtp/demux.js';
import {
  type ConnectionState,
  EngineError,
  type EnginePublisher,
  type EngineSubscriber,
  type LocalCandidate,
  type MediaEngine,
  type MediaKind,
  type PublishedTrack,
  SUBSCRIBER_PAYLOAD_TYPES,
  SUBSCRIBER_RED_PAYLOAD_TYPE,
  type SubscriberSlotMedia,
} from './engine.js';
import { readPublishedTracks } from './offer.js';

export interface NdcEngineOptions {
  /** Address to gather candidates on (one interface); all interfaces when unset. */
  bindAddress?: string;
  /** Address written into our candidates instead of the bound one (public IP behind 1:1 NAT). */
  announcedAddress?: string;
  /** One UDP port for every connection (ICE UDP mux). Exclusive with `portRange`. */
  udpPort?: number;
  /** A UDP port range, one port per connection. Neither set: an ephemeral port per connection. */
  portRange?: { min: number; max: number };
  /**
   * Audio RED (RFC 2198 redundancy for Opus) end to end (default true): publishers that offer it
   * are asked to send it, subscribers are offered it; those that decline get plain Opus.
   */
  audioRed?: boolean;
}

type NdcTrack = nodeDataChannel.Track;

// libdatachannel sets up its global state (threads, TLS) with the first connection and tears it
// down when the last one closes; set up once, it is not rebuilt whenever a room empties. (This was
// once taken for the fix of "Got a remote candidate without ICE transport" on a first answer; that
// was the fingerprint race above, seen again with preloading.)
nodeDataChannel.preload();

export class NdcEngine implements MediaEngine {
  readonly audioRed: boolean;
  private readonly connections = new Set<{ close(): void }>();
  private closed = false;

  constructor(private readonly options: NdcEngineOptions = {}) {
    if (options.udpPort !== undefined && options.portRange !== undefined) {
      throw new RangeError('udpPort and portRange are exclusive');
    }
    this.audioRed = options.audioRed ?? true;
  }

  async acceptPublisher(offerSdp: string): Promise<EnginePublisher> {
    if (this.closed) throw new EngineError('closed', 'the engine is closed');
    const publisher = new NdcPublisher(
      this.peerConnection('publish'),
      offerSdp,
      this.options.announcedAddress,
      this.audioRed,
    );
    this.register(publisher);
    await publisher.gathered();
    if (publisher.state === 'closed')
      throw new EngineError('closed', 'the engine closed while the answer was prepared');
    return publisher;
  }

  createSubscriber(): EngineSubscriber {
    if (this.closed) throw new EngineError('closed', 'the engine is closed');
    return this.register(
      new NdcSubscriber(this.peerConnection('subscribe'), this.options.announcedAddress, this.audioRed),
    );
  }

  close(): void {
    this.closed = true;
    for (const connection of [...this.connections]) connection.close();
  }

  private register<T extends { close(): void; onClosed(handler: () => void): void }>(connection: T): T {
    this.connections.add(connection);
    connection.onClosed(() => this.connections.delete(connection));
    return connection;
  }

  private peerConnection(name: string): nodeDataChannel.PeerConnection {
    const { bindAddress, udpPort, portRange } = this.options;
    return new nodeDataChannel.PeerConnection(name, {
      iceServers: [],
      disableAutoNegotiation: true,
      ...(bindAddress ? { bindAddress } : {}),
      ...(udpPort !== undefined ? { enableIceUdpMux: true, portRangeBegin: udpPort, portRangeEnd: udpPort } : {}),
      ...(portRange ? { portRangeBegin: portRange.min, portRangeEnd: portRange.max } : {}),
    });
  }
}

/** Shared by both directions: state, close, candidates, the announced address. */
abstract class NdcConnection {
  state: ConnectionState = 'new';
  protected isClosed = false;
  private stateHandler: ((state: ConnectionState) => void) | undefined;
  private closedHandlers: (() => void)[] = [];
  private gathering: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;

  constructor(
    protected readonly pc: nodeDataChannel.PeerConnection,
    private readonly announcedAddress: string | undefined,
  ) {
    pc.onStateChange((state) => this.setState(state as ConnectionState));
  }

  onStateChange(handler: (state: ConnectionState) => void): void {
    this.stateHandler = handler;
  }

  onClosed(handler: () => void): void {
    this.closedHandlers.push(handler);
  }

  addRemoteCandidate(candidate: string, mid: string): void {
    if (this.isClosed) return;
    try {
      this.pc.addRemoteCandidate(candidate, mid);
    } catch {
      // A malformed or late candidate is the remote's problem; ICE goes on with the others.
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    // node-datachannel keeps a closed PeerConnection's callbacks until its native side lets go of
    // them (seen in a churn probe: every closed transport stayed reachable while the peer's
    // connection in the same process was also kept). Swap ours for no-ops first (after close() it
    // refuses), so they never hold the transport, its consumers and their buffers.
    this.pc.onStateChange(noop);
    this.pc.onGatheringStateChange(noop);
    this.endGathering(); // whoever waits for candidates goes on and finds the connection closed
    this.detachTracks();
    this.pc.close();
    this.setState('closed');
    this.stateHandler = undefined;
    for (const handler of this.closedHandlers.splice(0)) handler();
  }

  protected abstract detachTracks(): void;

  /**
   * Resolves once our candidates are gathered, or the connection is closed (callers check). One
   * wait shared by every caller: a second onGatheringStateChange would replace the first.
   */
  gathered(): Promise<void> {
    if (this.pc.gatheringState() === 'complete' || this.isClosed) return Promise.resolve();
    if (!this.gathering) {
      let resolve = noop;
      const promise = new Promise<void>((settle) => {
        resolve = settle;
      });
      this.gathering = { promise, resolve };
      this.pc.onGatheringStateChange((state) => {
        if (state === 'complete') this.endGathering();
      });
    }
    return this.gathering.promise;
  }

  private endGathering(): void {
    this.gathering?.resolve();
    this.gathering = undefined;
  }

  protected localSdp(): string {
    const sdp = this.pc.localDescription()?.sdp ?? '';
    return this.announcedAddress ? announce(sdp, this.announcedAddress) : sdp;
  }

  /** The native connection is down even if its state change has not reached us yet. */
  protected nativeDown(): boolean {
    const state = this.pc.state();
    return state === 'failed' || state === 'closed';
  }

  protected setState(state: ConnectionState): void {
    if (state === this.state || this.state === 'closed') return;
    this.state = state;
    this.stateHandler?.(state);
  }
}

class NdcPublisher extends NdcConnection implements EnginePublisher {
  readonly tracks: readonly PublishedTrack[];
  private readonly ndcTracks = new Map<PublishedTrack, NdcTrack>();
  private rtpHandler: ((track: PublishedTrack, packet: Buffer) => void) | undefined;
  private rtcpHandler: ((track: PublishedTrack, packet: Buffer) => void) | undefined;

  constructor(
    pc: nodeDataChannel.PeerConnection,
    offerSdp: string,
    announcedAddress: string | undefined,
    audioRed: boolean,
  ) {
    super(pc, announcedAddress);
    try {
      this.tracks = readPublishedTracks(offerSdp).map((track) =>
        audioRed ? track : { ...track, redPayloadType: undefined },
      );
      if (this.tracks.length > 1 && this.tracks.some((track) => track.layers.length > 0)) {
        // libdatachannel hands RTP to a track by announced SSRC only; with one track it takes all.
        throw new Error('a simulcast video track must be the only track of its connection');
      }
      for (const track of this.tracks) this.accept(track);
      pc.setRemoteDescription(offerSdp, 'offer');
      pc.setLocalDescription('answer');
    } catch (error) {
      pc.close();
      throw new EngineError('bad-description', `the offer could not be applied: ${String(error)}`);
    }
  }

  get answerSdp(): string {
    return this.localSdp();
  }

  onRtp(handler: (track: PublishedTrack, packet: Buffer) => void): void {
    this.rtpHandler = handler;
  }

  onRtcp(handler: (track: PublishedTrack, packet: Buffer) => void): void {
    this.rtcpHandler = handler;
  }

  sendRtcp(track: PublishedTrack, packet: Uint8Array): boolean {
    const ndcTrack = this.ndcTracks.get(track);
    if (!ndcTrack || this.isClosed || !ndcTrack.isOpen()) return false;
    try {
      return ndcTrack.sendMessageBinary(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    } catch {
      return false;
    }
  }

  requestBitrate(bitsPerSecond: number): void {
    for (const ndcTrack of this.ndcTracks.values()) {
      if (ndcTrack.isOpen()) ndcTrack.requestBitrate(Math.round(bitsPerSecond));
    }
  }

  override close(): void {
    this.rtpHandler = undefined;
    this.rtcpHandler = undefined;
    super.close();
  }

  protected detachTracks(): void {
    for (const ndcTrack of this.ndcTracks.values()) ndcTrack.onMessage(noop);
    this.ndcTracks.clear();
  }

  private accept(track: PublishedTrack): void {
    const media =
      track.kind === 'video'
        ? new nodeDataChannel.Video(track.mid, 'RecvOnly')
        : new nodeDataChannel.Audio(track.mid, 'RecvOnly');
    if (media instanceof nodeDataChannel.Video) media.addVP8Codec(track.payloadType);
    else {
      // RED listed first: libwebrtc sends with the answer's first codec.
      if (track.redPayloadType !== undefined) {
        media.addAudioCodec(track.redPayloadType, 'red/48000/2', `${track.payloadType}/${track.payloadType}`);
      }
      media.addOpusCodec(track.payloadType);
    }
    for (const { id, uri } of track.extensions) media.parseSdpLine(`a=extmap:${id} ${uri}`);
    if (track.layers.length > 0) {
      for (const { rid } of track.layers) media.parseSdpLine(`a=rid:${rid} recv`);
      media.parseSdpLine(`a=simulcast:recv ${track.layers.map((l) => l.rid).join(';')}`);
    }
    const ndcTrack = this.pc.addTrack(media);
    ndcTrack.onMessage((packet) => {
      if (isRtcp(packet)) this.rtcpHandler?.(track, packet);
      else this.rtpHandler?.(track, packet);
    });
    this.ndcTracks.set(track, ndcTrack);
  }
}

class NdcSubscriber extends NdcConnection implements EngineSubscriber {
  constructor(
    pc: nodeDataChannel.PeerConnection,
    announcedAddress: string | undefined,
    private readonly audioRed: boolean,
  ) {
    super(pc, announcedAddress);
  }

  /** Audio m-lines whose last answer kept RED. */
  private readonly redMids = new Set<string>();

  /**
   * Per MID, the first Track object (it carries our message callback and sends; addTrack on a
   * known MID, a changed slot, returns another object for the same native track, see setSlot) and
   * whether it is known open. Asking the native track costs a call per packet, so it is asked only
   * until it says yes. Not from its open/closed events: each callback is a thread-safe function
   * with a libuv async handle of its own, and libuv walks every async handle of the loop on each
   * wakeup (one per packet from libdatachannel), so handles cost CPU per subscriber per packet
   * (uv__async_io: 3.8% of the SFU's samples at 300 subscribers).
   */
  private readonly ndcTracks = new Map<string, { readonly track: NdcTrack; open: boolean }>();
  /** What each m-line was last set to, so an unchanged slot is not re-added. */
  private readonly slotContents = new Map<string, string>();
  /** The later Track objects of changed slots, kept alive on purpose (see setSlot). */
  private readonly laterTracks: NdcTrack[] = [];
  private packetHandler: ((mid: string, packet: Buffer) => void) | undefined;
  private offered = false;
  private candidates: LocalCandidate[] = [];

  setSlot(mid: string, kind: MediaKind, media: SubscriberSlotMedia | undefined): void {
    if (this.isClosed) return;
    const content = media ? `${kind} ${media.ssrc} ${media.streamId} ${media.trackId}` : `${kind} inactive`;
    if (this.slotContents.get(mid) === content) return; // unchanged: no new Track object
    this.slotContents.set(mid, content);
    const description =
      kind === 'video'
        ? new nodeDataChannel.Video(mid, media ? 'SendOnly' : 'Inactive')
        : new nodeDataChannel.Audio(mid, media ? 'SendOnly' : 'Inactive');
    if (description instanceof nodeDataChannel.Video) description.addVP8Codec(SUBSCRIBER_PAYLOAD_TYPES.video);
    else {
      const opus = SUBSCRIBER_PAYLOAD_TYPES.audio;
      if (this.audioRed) description.addAudioCodec(SUBSCRIBER_RED_PAYLOAD_TYPE, 'red/48000/2', `${opus}/${opus}`);
      description.addOpusCodec(opus);
    }
    if (media) description.addSSRC(media.ssrc, 'convene', media.streamId, media.trackId);
    const ndcTrack = this.pc.addTrack(description);
    if (this.ndcTracks.has(mid)) {
      // addTrack on a known MID updates that m-line and returns a new object for the same native
      // track. A collected object closes its native track: the m-line would die (and with the
      // BUNDLE tag, the whole transport), so it stays referenced as long as the connection. It is
      // given no callbacks: the first object's still get the track's packets, and every callback
      // is a libuv async handle walked on each wakeup, so a long meeting's slot changes would
      // otherwise add two per change for good (one, the object's own, cannot be avoided).
      this.laterTracks.push(ndcTrack);
      return;
    }
    ndcTrack.onMessage((packet) => this.packetHandler?.(mid, packet));
    this.ndcTracks.set(mid, { track: ndcTrack, open: ndcTrack.isOpen() });
  }

  async createOffer(): Promise<string> {
    if (this.isClosed) throw new EngineError('closed', 'the subscriber connection is closed');
    this.pc.setLocalDescription('offer');
    if (!this.offered) {
      this.offered = true;
      await this.gathered();
      if (this.isClosed) throw new EngineError('closed', 'the subscriber connection closed while gathering');
    }
    const sdp = this.localSdp();
    if (this.candidates.length === 0) this.candidates = candidatesIn(sdp);
    return withoutCandidates(sdp);
  }

  setAnswer(sdp: string): void {
    if (this.isClosed) throw new EngineError('closed', 'the subscriber connection is closed');
    try {
      this.pc.setRemoteDescription(sdp, 'answer');
    } catch (error) {
      if (this.nativeDown()) {
        // Not the answer's fault: the connection died first (its state event is still on its way).
        this.setState('failed');
        throw new EngineError('closed', `the connection failed while the answer was applied: ${String(error)}`);
      }
      throw new EngineError('bad-description', `the answer could not be applied: ${String(error)}`);
    }
    this.redMids.clear();
    for (const media of parseSdp(sdp).media) {
      const red = media.rtp.some((r) => r.payload === SUBSCRIBER_RED_PAYLOAD_TYPE && r.codec.toLowerCase() === 'red');
      if (media.type === 'audio' && media.mid !== undefined && red) this.redMids.add(String(media.mid));
    }
  }

  acceptsRed(mid: string): boolean {
    return this.redMids.has(mid);
  }

  localCandidates(): readonly LocalCandidate[] {
    return this.candidates;
  }

  send(mid: string, packet: Uint8Array): boolean {
    const slot = this.ndcTracks.get(mid);
    if (!slot) return false;
    if (!slot.open) {
      if (this.isClosed || !slot.track.isOpen()) return false;
      slot.open = true;
    }
    try {
      return slot.track.sendMessageBinary(
        Buffer.isBuffer(packet) ? packet : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength),
      );
    } catch {
      slot.open = false; // closed meanwhile: ask again next time
      return false;
    }
  }

  onPacket(handler: (mid: string, packet: Buffer) => void): void {
    this.packetHandler = handler;
  }

  override close(): void {
    this.packetHandler = undefined;
    super.close();
  }

  protected detachTracks(): void {
    for (const { track } of this.ndcTracks.values()) track.onMessage(noop);
    this.ndcTracks.clear();
    // The connection closes right after this: now the objects may go.
    this.laterTracks.length = 0;
  }
}

const noop = () => {};

/** The candidates of an SDP, with the MID of the m-section each is in (BUNDLE: the first). */
function candidatesIn(sdp: string): LocalCandidate[] {
  const candidates: LocalCandidate[] = [];
  let mid = '';
  for (const line of sdp.split('\r\n')) {
    if (line.startsWith('m=')) mid = '';
    else if (line.startsWith('a=mid:')) mid = line.slice('a=mid:'.length);
    else if (line.startsWith('a=candidate:')) candidates.push({ candidate: line.slice(2), sdpMid: mid });
  }
  return candidates;
}

/** An SDP with no candidates in it, not even as the default address (JSEP: port 9, 0.0.0.0). */
function withoutCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates')
    .map((line) => {
      if (line.startsWith('m=')) return line.replace(/^(m=\S+) \d+ /, '$1 9 ');
      if (line.startsWith('c=IN IP6 ')) return 'c=IN IP6 ::';
      if (line.startsWith('c=IN ')) return 'c=IN IP4 0.0.0.0';
      return line;
    })
    .join('\r\n');
}

/** Our SDP with every host candidate's address (and c= line) replaced by the announced address. */
function announce(sdp: string, address: string): string {
  return sdp
    .split('\r\n')
    .map((line) => {
      if (line.startsWith('a=candidate:')) {
        const fields = line.split(' ');
        if (fields.length > 5) fields[4] = address;
        return fields.join(' ');
      }
      if (line.startsWith('c=IN ')) return `c=IN ${address.includes(':') ? 'IP6' : 'IP4'} ${address}`;
      return line;
    })
    .join('\r\n');
}
