import type { ParticipantInfo } from '@convene/protocol';
import { TypedEmitter } from './emitter.js';
import type { Logger } from './logger.js';

export interface RemoteParticipantEvents {
  /** A remote track was added to or removed from `stream`. */
  'stream-changed': [stream: MediaStream];
  'connection-state-changed': [state: RTCPeerConnectionState];
  /** Name or mute flags changed. */
  updated: [];
}

/**
 * Someone else in the room. The Room owns it and drives it through the methods marked
 * internal; applications only read it and listen to it.
 */
export class RemoteParticipant extends TypedEmitter<RemoteParticipantEvents> {
  readonly id: string;
  readonly joinedAt: number;
  /** Stable object; remote tracks are added to and removed from it, so a <video> can keep it. */
  readonly stream: MediaStream;
  private info: ParticipantInfo;
  private currentConnectionState: RTCPeerConnectionState = 'new';

  /** @internal */
  constructor(
    info: ParticipantInfo,
    stream: MediaStream,
    private readonly log: Logger,
  ) {
    super();
    this.id = info.id;
    this.joinedAt = info.joinedAt;
    this.info = info;
    this.stream = stream;
  }

  get name(): string {
    return this.info.name;
  }
  get audioMuted(): boolean {
    return this.info.audioMuted;
  }
  get videoMuted(): boolean {
    return this.info.videoMuted;
  }
  get connectionState(): RTCPeerConnectionState {
    return this.currentConnectionState;
  }

  /** @internal Applies the server's view; emits `updated` only if something a person sees changed. */
  applyInfo(info: ParticipantInfo): boolean {
    const previous = this.info;
    this.info = info;
    const changed =
      previous.name !== info.name || previous.audioMuted !== info.audioMuted || previous.videoMuted !== info.videoMuted;
    if (changed) this.safeEmit('updated');
    return changed;
  }

  /** @internal */
  addRemoteTrack(track: MediaStreamTrack): void {
    if (this.stream.getTracks().includes(track)) return;
    this.stream.addTrack(track);
    this.safeEmit('stream-changed', this.stream);
  }

  /** @internal */
  removeRemoteTrack(track: MediaStreamTrack): void {
    if (!this.stream.getTracks().includes(track)) return;
    this.stream.removeTrack(track);
    this.safeEmit('stream-changed', this.stream);
  }

  /** @internal The one setter of connectionState: ignores no-op changes, logs, emits. */
  setConnectionState(state: RTCPeerConnectionState): void {
    if (state === this.currentConnectionState) return;
    this.log.debug(`connection ${this.currentConnectionState} -> ${state}`);
    this.currentConnectionState = state;
    this.safeEmit('connection-state-changed', state);
  }

  /** @internal The participant left or the room closed: empty the stream, report 'closed', drop listeners. */
  detach(): void {
    for (const track of this.stream.getTracks()) this.stream.removeTrack(track);
    this.setConnectionState('closed');
    this.removeAllListeners();
  }
}
