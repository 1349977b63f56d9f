import type { SignalData } from '@convene/protocol';
import { TypedEmitter } from './emitter.js';
import type { ClientEnvironment } from './environment.js';
import { isConveneError } from './errors.js';
import { getLogger, type Logger } from './logger.js';
import type { MediaKind } from './media.js';
import { SerialQueue } from './serial-queue.js';

type SessionDescription = Extract<SignalData, { description: unknown }>['description'];
type CandidateInit = Extract<SignalData, { candidate: unknown }>['candidate'];

export interface MeshPeerOptions {
  localId: string;
  remoteId: string;
  configuration: RTCConfiguration;
  PeerConnection: ClientEnvironment['RTCPeerConnection'];
  /** Carries a description or candidate to the remote participant (through the server's relay). */
  sendSignal: (data: SignalData) => void;
  /** The local tracks to send from the start; null kinds get no sender (the remote's offer may still create a receiving one). */
  localTracks: Record<MediaKind, MediaStreamTrack | null>;
  /**
   * True for the participant who joined later: it makes the first offer, and the other side waits
   * for it. Both offering at once is handled by perfect negotiation, but Chromium stops gathering
   * ICE candidates for good when the polite side rolls back an offer while it is still gathering
   * (about 1 join in 30 on loopback: a connection `new` forever, even across ICE restarts).
   */
  initiator: boolean;
  logger?: Logger;
}

export interface MeshPeerEvents {
  'remote-track-added': [track: MediaStreamTrack];
  'remote-track-removed': [track: MediaStreamTrack];
  'connection-state-changed': [state: RTCPeerConnectionState];
}

/**
 * Which side of a pair yields when both send an offer at once. Both participants compute it
 * from the same two ids, so exactly one of them is polite.
 */
export function isPolite(localId: string, remoteId: string): boolean {
  return localId > remoteId;
}

const RECEIVING_DIRECTIONS: ReadonlySet<RTCRtpTransceiverDirection | null> = new Set(['sendrecv', 'recvonly']);
const SENDING_DIRECTIONS: ReadonlySet<RTCRtpTransceiverDirection | null> = new Set(['sendrecv', 'sendonly']);

/**
 * The RTCPeerConnection to one remote participant, negotiated with the W3C "perfect negotiation"
 * pattern. Every negotiation step (local offer, remote description, remote candidate, sender
 * change) runs through one queue, so steps never interleave: a remote offer that arrives while
 * we make ours is looked at once our offer is set, and is then a plain collision.
 */
export class MeshPeer extends TypedEmitter<MeshPeerEvents> {
  readonly remoteId: string;
  readonly polite: boolean;

  private readonly pc: RTCPeerConnection;
  private readonly negotiation = new SerialQueue();
  private readonly log: Logger;
  /** True while we (impolite) ignore a colliding offer; errors of its trickled candidates are expected. */
  private ignoreOffer = false;
  /** Candidates that arrived before any remote description (null = end of candidates). */
  private readonly earlyCandidates: CandidateInit[] = [];
  /** Our sender per kind, kept when the camera goes off (replaceTrack(null)) so turning it on needs no renegotiation. */
  private readonly senders = new Map<MediaKind, { sender: RTCRtpSender; track: MediaStreamTrack | null }>();
  /** Remote tracks currently received, each with the cleanup of its `ended` listener. */
  private readonly remoteTracks = new Map<MediaStreamTrack, () => void>();
  private iceRestartAttempted = false;
  /** Non-initiator before the first remote offer: our own offers wait (see MeshPeerOptions.initiator). */
  private awaitingFirstOffer: boolean;
  /** For browsers without pc.restartIce(): the next offer asks for new ICE credentials. */
  private iceRestartOnNextOffer = false;
  private readonly removeListeners: (() => void)[] = [];
  private closed = false;

  constructor(private readonly options: MeshPeerOptions) {
    super();
    this.remoteId = options.remoteId;
    this.polite = isPolite(options.localId, options.remoteId);
    this.log = options.logger ?? getLogger(`peer:${options.remoteId}`);
    this.awaitingFirstOffer = !options.initiator;
    this.pc = new options.PeerConnection(options.configuration);
    this.listen('negotiationneeded', () => {
      if (this.awaitingFirstOffer) this.log.debug('negotiation needed; waiting for the first remote offer');
      else this.enqueue('offer', () => this.makeOffer());
    });
    this.listen('icecandidate', (event) => this.sendCandidate((event as RTCPeerConnectionIceEvent).candidate));
    this.listen('track', (event) => this.onRemoteTrack(event as RTCTrackEvent));
    this.listen('connectionstatechange', () => this.onConnectionStateChange());
    for (const kind of ['audio', 'video'] as const) {
      const track = options.localTracks[kind];
      if (track) this.senders.set(kind, { sender: this.pc.addTrack(track), track });
      // The first offer must ask to receive both kinds even from someone with no camera or mic;
      // a later addTrack reuses this transceiver (and renegotiates to sendrecv).
      else if (options.initiator) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    }
    this.log.debug(`created (${this.polite ? 'polite' : 'impolite'})`);
  }

  get connectionState(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  /** A description or candidate from the remote participant. */
  handleSignal(data: SignalData): void {
    if ('description' in data) {
      const description = data.description;
      this.enqueue(`remote ${description.type}`, () => this.applyRemoteDescription(description));
    } else {
      const candidate = data.candidate;
      this.enqueue('remote candidate', () => this.applyRemoteCandidate(candidate));
    }
  }

  /**
   * Sends `track` (or nothing, for null) as our `kind`. With a sender already there this is a
   * replaceTrack: no renegotiation, the call stays up. Without one (we joined without this device)
   * it adds a sender, which renegotiates.
   */
  setLocalTrack(kind: MediaKind, track: MediaStreamTrack | null): Promise<void> {
    return this.negotiation
      .push(async () => {
        if (this.closed) return;
        const current = this.senders.get(kind);
        if (current) {
          if (current.track === track) return;
          await current.sender.replaceTrack(track);
          current.track = track;
          this.log.debug(`${kind} sender now ${track ? 'sends a new track' : 'sends nothing'}`);
        } else if (track) {
          // JSEP lets addTrack reuse the transceiver the remote's offer created, so the m-line is shared.
          this.senders.set(kind, { sender: this.pc.addTrack(track), track });
          this.log.debug(`${kind} sender added; renegotiating`);
        }
      })
      .catch((error: unknown) => {
        if (!(isConveneError(error) && error.code === 'closed')) throw error;
      });
  }

  /**
   * New ICE servers (fresh TURN credentials) for any gathering from now on, e.g. an ICE restart.
   * What is already allocated keeps working: TURN allocations outlive their credentials.
   */
  setIceServers(iceServers: RTCIceServer[]): void {
    if (this.closed) return;
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
    } catch (error) {
      this.log.warn(`could not update ICE servers: ${String(error)}`);
    }
  }

  getStats(): Promise<RTCStatsReport> {
    return this.pc.getStats();
  }

  /** Closes the connection silently (the remote learns it from the server). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.negotiation.close();
    for (const remove of this.removeListeners.splice(0)) remove();
    for (const cleanup of this.remoteTracks.values()) cleanup();
    this.remoteTracks.clear();
    this.earlyCandidates.length = 0;
    this.senders.clear();
    this.pc.close();
    this.log.debug('closed');
  }

  // ------------------------------------------------------------------ negotiation steps

  private async makeOffer(): Promise<void> {
    // A negotiation is already under way; the browser fires negotiationneeded again once it is back to stable.
    if (this.pc.signalingState !== 'stable') return;
    const offer = await this.pc.createOffer(this.iceRestartOnNextOffer ? { iceRestart: true } : undefined);
    this.iceRestartOnNextOffer = false;
    await this.pc.setLocalDescription(offer);
    this.sendLocalDescription();
  }

  private async applyRemoteDescription(description: SessionDescription): Promise<void> {
    if (description.type === 'rollback') {
      this.log.warn('ignoring a remote rollback description');
      return;
    }
    // Steps are serialized, so "we are making an offer" shows as have-local-offer here.
    const offerCollision = description.type === 'offer' && this.pc.signalingState !== 'stable';
    this.ignoreOffer = !this.polite && offerCollision;
    if (this.ignoreOffer) {
      this.log.debug('offer collision: ignoring the remote offer (impolite)');
      return;
    }
    if (offerCollision) {
      // Explicit rollback: libwebrtc in Node and older Safari lack setRemoteDescription's implicit rollback.
      this.log.debug('offer collision: rolling back our offer (polite)');
      await this.pc.setLocalDescription({ type: 'rollback' });
    }
    await this.pc.setRemoteDescription(description);
    await this.addEarlyCandidates();
    if (description.type === 'offer') {
      // Explicit createAnswer (not the argument-less setLocalDescription) for the same reason as above.
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.sendLocalDescription();
      if (this.awaitingFirstOffer) {
        this.awaitingFirstOffer = false;
        // The negotiationneeded we held back does not fire again: offer now if the answer could not
        // carry one of our tracks (the offer had no m-line for it).
        if (this.hasUnsentTrack()) this.enqueue('offer', () => this.makeOffer());
      }
    }
    this.syncRemoteTracks();
  }

  private hasUnsentTrack(): boolean {
    return this.pc
      .getTransceivers()
      .some((transceiver) => transceiver.sender.track && !SENDING_DIRECTIONS.has(transceiver.currentDirection));
  }

  private async applyRemoteCandidate(candidate: CandidateInit): Promise<void> {
    if (!this.pc.remoteDescription) {
      // Candidates of an offer we ignored are useless; others wait for their description.
      if (!this.ignoreOffer) this.earlyCandidates.push(candidate);
      this.log.debug(`remote candidate ${this.ignoreOffer ? 'dropped (ignored offer)' : 'held until the description'}`);
      return;
    }
    await this.addCandidate(candidate);
  }

  private async addEarlyCandidates(): Promise<void> {
    for (const candidate of this.earlyCandidates.splice(0)) await this.addCandidate(candidate);
  }

  private async addCandidate(candidate: CandidateInit): Promise<void> {
    this.log.debug(
      candidate ? `adding remote candidate ${candidate.usernameFragment ?? ''}` : 'remote end-of-candidates',
    );
    try {
      // No argument means end of candidates.
      await (candidate === null ? this.pc.addIceCandidate() : this.pc.addIceCandidate(candidate));
    } catch (error) {
      if (this.ignoreOffer) return; // belongs to the offer we ignored
      if (candidate === null) this.log.debug('end-of-candidates not accepted', error);
      else this.log.warn('remote candidate not accepted', error);
    }
  }

  private sendLocalDescription(): void {
    const description = this.pc.localDescription;
    if (!description || this.closed) return;
    this.log.debug(`sending ${description.type}`);
    this.options.sendSignal({ description: { type: description.type, sdp: description.sdp } });
  }

  private sendCandidate(candidate: RTCIceCandidate | null): void {
    if (this.closed) return;
    this.log.debug(candidate ? `sending candidate ${candidate.usernameFragment ?? ''}` : 'sending end-of-candidates');
    if (!candidate) {
      this.options.sendSignal({ candidate: null });
      return;
    }
    this.options.sendSignal({
      candidate: {
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
        usernameFragment: candidate.usernameFragment,
      },
    });
  }

  private onConnectionStateChange(): void {
    const state = this.pc.connectionState;
    this.log.info(`connection ${state}`);
    this.safeEmit('connection-state-changed', state);
    if (state === 'connected') {
      this.iceRestartAttempted = false; // a later, separate failure gets its own restart
    } else if (state === 'failed' && !this.iceRestartAttempted) {
      this.iceRestartAttempted = true;
      this.log.info('connection failed');
      this.restartIce();
    }
  }

  /** New ICE credentials through the normal offer path (so glare is handled the same way). */
  private restartIce(): void {
    this.log.info('restarting ICE');
    if (typeof this.pc.restartIce === 'function') {
      this.pc.restartIce(); // fires negotiationneeded
    } else {
      this.iceRestartOnNextOffer = true;
      this.enqueue('ice restart offer', () => this.makeOffer());
    }
  }

  // ------------------------------------------------------------------ remote tracks

  private onRemoteTrack(event: RTCTrackEvent): void {
    const transceiver = event.transceiver;
    // Some implementations deliver the event late: once stable, believe the negotiated direction.
    if (this.pc.signalingState === 'stable' && !RECEIVING_DIRECTIONS.has(transceiver.currentDirection)) return;
    this.addRemoteTrack(event.track);
  }

  /**
   * Once a negotiation completes, the remote tracks we receive are exactly those of transceivers
   * whose negotiated direction includes receiving. This catches removals that fire no event
   * (remote removeTrack, transceiver stop).
   */
  private syncRemoteTracks(): void {
    if (this.closed || this.pc.signalingState !== 'stable') return;
    const receiving = new Set<MediaStreamTrack>();
    for (const transceiver of this.pc.getTransceivers()) {
      const track = transceiver.receiver.track;
      if (RECEIVING_DIRECTIONS.has(transceiver.currentDirection) && track.readyState !== 'ended') receiving.add(track);
    }
    for (const track of [...this.remoteTracks.keys()]) {
      if (!receiving.has(track)) this.removeRemoteTrack(track);
    }
    for (const track of receiving) this.addRemoteTrack(track);
  }

  private addRemoteTrack(track: MediaStreamTrack): void {
    if (this.closed || this.remoteTracks.has(track)) return;
    const onEnded = (): void => this.removeRemoteTrack(track);
    track.addEventListener('ended', onEnded);
    this.remoteTracks.set(track, () => track.removeEventListener('ended', onEnded));
    this.log.debug(`receiving ${track.kind}`);
    this.safeEmit('remote-track-added', track);
  }

  private removeRemoteTrack(track: MediaStreamTrack): void {
    const cleanup = this.remoteTracks.get(track);
    if (!cleanup) return;
    cleanup();
    this.remoteTracks.delete(track);
    this.log.debug(`no longer receiving ${track.kind}`);
    this.safeEmit('remote-track-removed', track);
  }

  // ------------------------------------------------------------------ plumbing

  private enqueue(label: string, step: () => Promise<void>): void {
    this.negotiation.push(step).catch((error: unknown) => {
      if (this.closed || (isConveneError(error) && error.code === 'closed')) return; // closed while queued
      this.log.error(`${label} failed`, error);
    });
  }

  private listen(type: keyof RTCPeerConnectionEventMap, handler: (event: Event) => void): void {
    this.pc.addEventListener(type, handler);
    this.removeListeners.push(() => this.pc.removeEventListener(type, handler));
  }
}
