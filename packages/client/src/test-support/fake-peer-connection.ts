// A scripted RTCPeerConnection (STYLE #13) for what real libwebrtc cannot be made to do on cue in a
// test: go 'failed', or take exactly as long as the test says. It models the signaling state machine
// strictly, without implicit rollback (like libwebrtc in Node), so wrong call order fails loudly.

let offerCounter = 0;

export class FakePeerConnection extends EventTarget {
  static instances: FakePeerConnection[] = [];

  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  readonly calls: string[] = [];
  readonly addedCandidates: (RTCIceCandidateInit | null)[] = [];
  restartIceCalls = 0;
  /** ICE generation: bumped by restartIce; each offer's sdp carries it. */
  private iceGeneration = 0;
  private restartPending = false;
  /** Delay (ms) createOffer takes, to make other steps arrive while it runs. */
  createOfferDelayMs = 0;

  constructor(public configuration?: RTCConfiguration) {
    super();
    FakePeerConnection.instances.push(this);
  }

  getConfiguration(): RTCConfiguration {
    return { ...this.configuration };
  }

  setConfiguration(configuration: RTCConfiguration): void {
    this.calls.push('setConfiguration');
    this.configuration = configuration;
  }

  async createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit> {
    this.calls.push('createOffer');
    if (this.createOfferDelayMs) await new Promise((resolve) => setTimeout(resolve, this.createOfferDelayMs));
    if (this.restartPending || options?.iceRestart) {
      this.iceGeneration++;
      this.restartPending = false;
    }
    return { type: 'offer', sdp: `offer-${++offerCounter} ice-${this.iceGeneration}` };
  }

  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    this.calls.push('createAnswer');
    if (this.signalingState !== 'have-remote-offer') throw new DOMException('no remote offer', 'InvalidStateError');
    return { type: 'answer', sdp: `answer ice-${this.iceGeneration}` };
  }

  async setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.calls.push(`setLocalDescription:${description.type}`);
    const next = transition(this.signalingState, 'local', description.type);
    if (!next) throw new DOMException(`local ${description.type} in ${this.signalingState}`, 'InvalidStateError');
    this.signalingState = next;
    this.localDescription = description.type === 'rollback' ? null : description;
    if (description.type !== 'rollback') this.emitAsync('icecandidate', { candidate: null });
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.calls.push(`setRemoteDescription:${description.type}`);
    const next = transition(this.signalingState, 'remote', description.type);
    if (!next) throw new DOMException(`remote ${description.type} in ${this.signalingState}`, 'InvalidStateError');
    this.signalingState = next;
    this.remoteDescription = description;
  }

  async addIceCandidate(candidate?: RTCIceCandidateInit): Promise<void> {
    this.calls.push('addIceCandidate');
    if (!this.remoteDescription) throw new DOMException('no remote description', 'InvalidStateError');
    if (candidate?.candidate === 'bad') throw new DOMException('bad candidate', 'OperationError');
    this.addedCandidates.push(candidate ?? null);
  }

  restartIce(): void {
    this.restartIceCalls++;
    this.restartPending = true;
    this.emitAsync('negotiationneeded', {});
  }

  addTrack(track: MediaStreamTrack): RTCRtpSender {
    this.calls.push(`addTrack:${track.kind}`);
    this.emitAsync('negotiationneeded', {});
    const sender: { track: MediaStreamTrack | null; replaceTrack(next: MediaStreamTrack | null): Promise<void> } = {
      track,
      replaceTrack: async (next: MediaStreamTrack | null) => {
        this.calls.push(`replaceTrack:${next ? next.kind : 'null'}`);
        sender.track = next;
      },
    };
    return sender as unknown as RTCRtpSender;
  }

  addTransceiver(kind: string, init?: RTCRtpTransceiverInit): RTCRtpTransceiver {
    this.calls.push(`addTransceiver:${kind}:${init?.direction ?? 'sendrecv'}`);
    this.emitAsync('negotiationneeded', {});
    return {} as RTCRtpTransceiver;
  }

  getTransceivers(): RTCRtpTransceiver[] {
    return [];
  }

  async getStats(): Promise<RTCStatsReport> {
    return new Map() as unknown as RTCStatsReport;
  }

  close(): void {
    this.calls.push('close');
    this.signalingState = 'closed';
    this.connectionState = 'closed';
  }

  /** What the network does: move the connection state and fire the event. */
  simulateConnectionState(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.dispatchEvent(new Event('connectionstatechange'));
  }

  private emitAsync(type: string, fields: Record<string, unknown>): void {
    queueMicrotask(() => this.dispatchEvent(Object.assign(new Event(type), fields)));
  }
}

/** A browser without pc.restartIce() (older Safari): ICE restarts need createOffer({ iceRestart: true }). */
export class FakePeerConnectionWithoutRestartIce extends FakePeerConnection {
  declare restartIce: never;
  constructor(configuration?: RTCConfiguration) {
    super(configuration);
    Object.defineProperty(this, 'restartIce', { value: undefined });
  }
}

function transition(
  state: RTCSignalingState,
  side: 'local' | 'remote',
  type: RTCSdpType | undefined,
): RTCSignalingState | null {
  if (type === 'rollback') return state === 'have-local-offer' || state === 'have-remote-offer' ? 'stable' : null;
  if (type === 'offer') {
    if (state !== 'stable') return null;
    return side === 'local' ? 'have-local-offer' : 'have-remote-offer';
  }
  if (type === 'answer') {
    const expected = side === 'local' ? 'have-remote-offer' : 'have-local-offer';
    return state === expected ? 'stable' : null;
  }
  return null;
}
