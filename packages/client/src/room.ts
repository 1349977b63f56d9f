import {
  type IceServer,
  type JoinedMessage,
  type ParticipantInfo,
  type ParticipantLeftReason,
  PROTOCOL_VERSION,
  type SignalData,
} from '@convene/protocol';
import { TypedEmitter } from './emitter.js';
import { type ClientEnvironment, resolveEnvironment } from './environment.js';
import { ConveneError } from './errors.js';
import { getLogger, type Logger } from './logger.js';
import type { LocalMedia } from './media.js';
import { MeshPeer } from './mesh-peer.js';
import { RemoteParticipant } from './participant.js';
import { checkRoomTransition, type RoomState } from './room-state.js';
import { type ServerEvent, SignalingClient } from './signaling.js';
import { type ParticipantStats, summarizeStats } from './stats.js';

export type { RoomState } from './room-state.js';
export type LeaveReason = ParticipantLeftReason;

export interface JoinOptions {
  /** ws(s) URL of the signaling endpoint; default `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`. */
  url?: string;
  room: string;
  name: string;
  token?: string;
  localMedia: LocalMedia;
  /** 'relay' forces TURN (the web app's ?relay=1). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Default 10 s: for the socket to open, then for the server's answer. */
  joinTimeoutMs?: number;
  /** Injected browser APIs (tests, non-browser runtimes); defaults from globalThis. */
  environment?: Partial<ClientEnvironment>;
}

export interface RoomEvents {
  'state-changed': [state: RoomState, previous: RoomState];
  'participant-joined': [participant: RemoteParticipant];
  /** After this event the participant emits nothing more (its listeners are dropped). */
  'participant-left': [participant: RemoteParticipant, reason: LeaveReason];
  'participant-updated': [participant: RemoteParticipant];
  /** null: the user left. Otherwise why the room was lost (connection_lost, shutting_down, ...). */
  closed: [reason: ConveneError | null];
}

const DEFAULT_JOIN_TIMEOUT_MS = 10_000;

/**
 * A joined meeting room: the signaling connection, one mesh connection per remote participant,
 * and the local media sent on all of them.
 */
export class Room extends TypedEmitter<RoomEvents> {
  readonly name: string;
  readonly participantId: string;
  readonly localName: string;
  readonly localMedia: LocalMedia;

  private currentState: RoomState = 'connecting';
  private readonly remoteParticipants = new Map<string, RemoteParticipant>();
  private readonly peers = new Map<string, MeshPeer>();
  private readonly log: Logger;
  private rtcConfiguration: RTCConfiguration;
  /** The mute flags the server was last told, so a LocalMedia change is announced once. */
  private announcedMute: { audioMuted: boolean; videoMuted: boolean } | null;
  private announcing: Promise<void> = Promise.resolve();

  /**
   * Connects and joins. Rejects with ConveneError: room_full, invalid_room_name,
   * server_unreachable, unsupported_version, join_timeout, ...
   */
  static async join(options: JoinOptions): Promise<Room> {
    const environment = resolveEnvironment(options.environment);
    const url = options.url ?? defaultSignalingUrl(environment);
    const timeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
    const log = getLogger(`room:${options.room}`);
    const signaling = new SignalingClient({ url, WebSocket: environment.WebSocket, logger: log.child('signaling') });
    // Events the server sends before the room object exists are replayed to it, not lost.
    const early: ServerEvent[] = [];
    const keepEarly = (event: ServerEvent): void => {
      early.push(event);
    };
    signaling.on('message', keepEarly);
    const startedAt = Date.now();
    try {
      await signaling.connect(timeoutMs);
      const remainingMs = Math.max(1, timeoutMs - (Date.now() - startedAt));
      const joined = await signaling.request(
        {
          type: 'join',
          version: PROTOCOL_VERSION,
          room: options.room,
          name: options.name,
          token: options.token,
          audioMuted: options.localMedia.audioMuted,
          videoMuted: options.localMedia.videoMuted,
        },
        { timeoutMs: remainingMs, timeoutError: () => ConveneError.joinTimeout(timeoutMs) },
      );
      signaling.off('message', keepEarly);
      const room = new Room(joined, signaling, options, environment, log);
      for (const event of early) room.handleServerEvent(event);
      return room;
    } catch (error) {
      signaling.off('message', keepEarly);
      signaling.close();
      throw error;
    }
  }

  private constructor(
    joined: JoinedMessage,
    private readonly signaling: SignalingClient,
    options: JoinOptions,
    private readonly environment: ClientEnvironment,
    log: Logger,
  ) {
    super();
    this.name = joined.room.name;
    this.participantId = joined.participantId;
    this.localName = joined.self.name;
    this.localMedia = options.localMedia;
    this.log = log;
    this.announcedMute = { audioMuted: joined.self.audioMuted, videoMuted: joined.self.videoMuted };
    this.rtcConfiguration = {
      iceServers: toRtcIceServers(joined.iceServers),
      ...(options.iceTransportPolicy && { iceTransportPolicy: options.iceTransportPolicy }),
    };
    signaling.on('message', this.onServerEvent);
    signaling.on('closed', this.onSignalingClosed);
    this.localMedia.on('tracks-changed', this.onLocalMediaChanged);
    // The server lists the others in join order; keep it (Map preserves insertion order).
    // We are the newcomer: we make the first offer to everyone already here.
    for (const info of joined.room.participants) this.addParticipant(info, { initiator: true });
    this.setState('connected');
    this.log.info(`joined as ${this.participantId} with ${joined.room.participants.length} others`);
    // Mute flags may have changed between sending join and receiving joined.
    this.onLocalMediaChanged();
  }

  get state(): RoomState {
    return this.currentState;
  }

  /** Remote participants only, in join order. */
  get participants(): ReadonlyMap<string, RemoteParticipant> {
    return this.remoteParticipants;
  }

  /** Local mute, then tells the others (update message). */
  async setAudioMuted(muted: boolean): Promise<void> {
    this.assertOpen();
    this.localMedia.setAudioMuted(muted);
    await this.announceMuteState();
  }

  /** Camera off stops the camera and sends nothing on every connection (no renegotiation); on reacquires it. */
  async setVideoMuted(muted: boolean): Promise<void> {
    this.assertOpen();
    await this.localMedia.setVideoMuted(muted);
    await Promise.all([this.sendLocalTracks(), this.announceMuteState()]);
  }

  /** New camera track via replaceTrack on every connection; the call stays up. */
  async switchCamera(deviceId: string): Promise<void> {
    this.assertOpen();
    await this.localMedia.switchCamera(deviceId);
    await this.sendLocalTracks();
  }

  async switchMicrophone(deviceId: string): Promise<void> {
    this.assertOpen();
    await this.localMedia.switchMicrophone(deviceId);
    await this.sendLocalTracks();
  }

  /** One entry per remote participant that has a connection, in join order. */
  async getStats(): Promise<ParticipantStats[]> {
    const entries = [...this.remoteParticipants.values()].flatMap((participant) => {
      const peer = this.peers.get(participant.id);
      return peer ? [{ participant, peer }] : [];
    });
    return Promise.all(
      entries.map(async ({ participant, peer }) =>
        summarizeStats(participant.id, peer.connectionState, await peer.getStats()),
      ),
    );
  }

  /** Idempotent. Sends `leave`, closes every connection, does NOT stop localMedia (caller owns it), emits closed(null). */
  leave(): void {
    if (this.currentState === 'closed') return;
    this.signaling.send({ type: 'leave' });
    this.close(null);
  }

  // ------------------------------------------------------------------ server events

  private readonly onServerEvent = (event: ServerEvent): void => this.handleServerEvent(event);

  private handleServerEvent(event: ServerEvent): void {
    if (this.currentState === 'closed') return;
    switch (event.type) {
      case 'participant-joined':
        this.addParticipant(event.participant, { announce: true, initiator: false });
        return;
      case 'participant-left':
        this.removeParticipant(event.participantId, event.reason);
        return;
      case 'participant-updated':
        this.updateParticipant(event.participant);
        return;
      case 'signal':
        this.routeSignal(event.from, event.data);
        return;
      case 'ice-servers': {
        // Fresh TURN credentials: for peer connections made from now on, and for re-gathering.
        const iceServers = toRtcIceServers(event.iceServers);
        this.rtcConfiguration = { ...this.rtcConfiguration, iceServers };
        for (const peer of this.peers.values()) peer.setIceServers(iceServers);
        this.log.debug('ICE servers renewed');
        return;
      }
      case 'bye':
        this.log.info('server is shutting down');
        this.close(new ConveneError('shutting_down', 'the server is shutting down'));
        return;
      case 'error':
        // Errors without a request id, e.g. a signal to someone who just left: nothing to undo.
        this.log.warn(`server reported ${event.code}: ${event.message}`);
        return;
    }
  }

  private readonly onSignalingClosed = (reason: ConveneError | null): void => {
    // A close we did not ask for; reconnect/resume comes in a later version.
    this.close(reason ?? ConveneError.connectionLost('signaling closed'));
  };

  private addParticipant(
    info: ParticipantInfo,
    { announce = false, initiator }: { announce?: boolean; initiator: boolean },
  ): void {
    if (info.id === this.participantId) return;
    if (this.remoteParticipants.has(info.id)) {
      this.updateParticipant(info);
      return;
    }
    const participant = new RemoteParticipant(info, new this.environment.MediaStream(), this.log.child(info.id));
    this.remoteParticipants.set(info.id, participant);
    this.createPeer(participant, initiator);
    if (announce) this.safeEmit('participant-joined', participant);
  }

  private removeParticipant(id: string, reason: LeaveReason): void {
    const participant = this.remoteParticipants.get(id);
    if (!participant) return;
    this.remoteParticipants.delete(id);
    this.closePeer(id);
    this.log.info(`${id} left (${reason})`);
    participant.setConnectionState('closed');
    this.safeEmit('participant-left', participant, reason);
    participant.detach();
  }

  private updateParticipant(info: ParticipantInfo): void {
    const participant = this.remoteParticipants.get(info.id);
    if (!participant) {
      this.log.warn(`update for unknown participant ${info.id}`);
      return;
    }
    if (participant.applyInfo(info)) this.safeEmit('participant-updated', participant);
  }

  private routeSignal(from: string, data: SignalData): void {
    const participant = this.remoteParticipants.get(from);
    if (!participant) {
      this.log.debug(`ignoring a signal from unknown participant ${from}`);
      return;
    }
    // Created on join/participant-joined; this covers a signal that ever arrives before that.
    const peer = this.peers.get(from) ?? this.createPeer(participant, false);
    peer.handleSignal(data);
  }

  // ------------------------------------------------------------------ media

  private createPeer(participant: RemoteParticipant, initiator: boolean): MeshPeer {
    const peer = new MeshPeer({
      initiator,
      localId: this.participantId,
      remoteId: participant.id,
      configuration: this.rtcConfiguration,
      PeerConnection: this.environment.RTCPeerConnection,
      sendSignal: (data) => this.signaling.send({ type: 'signal', to: participant.id, data }),
      localTracks: { audio: this.localMedia.audioTrack, video: this.localMedia.videoTrack },
      logger: this.log.child(`peer:${participant.id}`),
    });
    peer.on('remote-track-added', (track) => participant.addRemoteTrack(track));
    peer.on('remote-track-removed', (track) => participant.removeRemoteTrack(track));
    peer.on('connection-state-changed', (state) => participant.setConnectionState(state));
    this.peers.set(participant.id, peer);
    return peer;
  }

  private closePeer(id: string): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.removeAllListeners();
    peer.close();
  }

  private readonly onLocalMediaChanged = (): void => {
    if (this.currentState === 'closed') return;
    this.sendLocalTracks().catch((error: unknown) => this.log.error('could not update the sent tracks', error));
    this.announceMuteState().catch((error: unknown) => this.log.warn('could not announce the mute state', error));
  };

  /** Puts LocalMedia's current tracks on every connection (replaceTrack where a sender exists). */
  private async sendLocalTracks(): Promise<void> {
    const { audioTrack, videoTrack } = this.localMedia;
    await Promise.all(
      [...this.peers.values()].flatMap((peer) => [
        peer.setLocalTrack('audio', audioTrack),
        peer.setLocalTrack('video', videoTrack),
      ]),
    );
  }

  /** Sends `update` if LocalMedia's mute flags differ from what the server was told; resolves once it is acknowledged. */
  private announceMuteState(): Promise<void> {
    if (this.currentState === 'closed') return Promise.resolve();
    const { audioMuted, videoMuted } = this.localMedia;
    const announced = this.announcedMute;
    if (announced && announced.audioMuted === audioMuted && announced.videoMuted === videoMuted) {
      return this.announcing;
    }
    this.announcedMute = { audioMuted, videoMuted };
    this.announcing = this.signaling.request({ type: 'update', audioMuted, videoMuted }).then(
      () => undefined,
      (error: unknown) => {
        // Unknown what the server believes now: announce again on the next change.
        this.announcedMute = null;
        throw error;
      },
    );
    return this.announcing;
  }

  // ------------------------------------------------------------------ lifecycle

  private close(reason: ConveneError | null): void {
    if (this.currentState === 'closed') return;
    this.localMedia.off('tracks-changed', this.onLocalMediaChanged);
    this.signaling.off('message', this.onServerEvent);
    this.signaling.off('closed', this.onSignalingClosed);
    this.signaling.close();
    for (const id of [...this.peers.keys()]) this.closePeer(id);
    const participants = [...this.remoteParticipants.values()];
    this.remoteParticipants.clear();
    for (const participant of participants) participant.detach();
    this.setState('closed');
    if (reason) this.log.warn(`room closed: ${reason.code}: ${reason.message}`);
    this.safeEmit('closed', reason);
  }

  /** The one setter of `state`: checked transition, no-op changes ignored, logged, emitted. */
  private setState(state: RoomState): void {
    const invalid = checkRoomTransition(this.currentState, state);
    if (invalid) throw invalid;
    if (state === this.currentState) return;
    const previous = this.currentState;
    this.currentState = state;
    this.log.info(`state ${previous} -> ${state}`);
    this.safeEmit('state-changed', state, previous);
  }

  private assertOpen(): void {
    if (this.currentState === 'closed') throw ConveneError.closed('room');
  }
}

function defaultSignalingUrl(environment: ClientEnvironment): string {
  const location = environment.location;
  if (!location) throw new ConveneError('server_unreachable', 'no url given and no page location to derive it from');
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

function toRtcIceServers(servers: readonly IceServer[]): RTCIceServer[] {
  return servers.map((server) => ({
    urls: server.urls,
    // Some browsers reject explicit undefined members.
    ...(server.username !== undefined && { username: server.username }),
    ...(server.credential !== undefined && { credential: server.credential }),
  }));
}
