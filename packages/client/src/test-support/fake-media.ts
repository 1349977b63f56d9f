// Fakes of the browser's capture APIs (STYLE #13), so LocalMedia runs in Node.
import type { MediaDevicesLike } from '../environment.js';

type Kind = 'audio' | 'video';
let nextId = 1;

export class FakeMediaStreamTrack extends EventTarget {
  readonly id = `track-${nextId++}`;
  enabled = true;
  readyState: MediaStreamTrackState = 'live';
  constructor(
    readonly kind: Kind,
    readonly deviceId: string,
  ) {
    super();
  }
  get label(): string {
    return `fake ${this.kind} ${this.deviceId}`;
  }
  stop(): void {
    this.readyState = 'ended'; // like browsers: stop() fires no 'ended'
  }
  getSettings(): MediaTrackSettings {
    return { deviceId: this.deviceId };
  }
  /** The device went away (unplugged, permission revoked). */
  simulateEnded(): void {
    this.readyState = 'ended';
    this.dispatchEvent(new Event('ended'));
  }
}

export class FakeMediaStream {
  readonly id = `stream-${nextId++}`;
  private readonly tracks: MediaStreamTrack[];
  constructor(tracks: MediaStreamTrack[] = []) {
    this.tracks = [...tracks];
  }
  addTrack(track: MediaStreamTrack): void {
    if (!this.tracks.includes(track)) this.tracks.push(track);
  }
  removeTrack(track: MediaStreamTrack): void {
    const index = this.tracks.indexOf(track);
    if (index >= 0) this.tracks.splice(index, 1);
  }
  getTracks(): MediaStreamTrack[] {
    return [...this.tracks];
  }
  getAudioTracks(): MediaStreamTrack[] {
    return this.tracks.filter((track) => track.kind === 'audio');
  }
  getVideoTracks(): MediaStreamTrack[] {
    return this.tracks.filter((track) => track.kind === 'video');
  }
}

/** What a device kind does when asked for: give a track from one of these devices, or fail with a DOMException name. */
export type DeviceBehaviour = { devices: string[] } | { error: string };

export interface FakeMediaDevicesOptions {
  audio?: DeviceBehaviour;
  video?: DeviceBehaviour;
  /** Makes tracks (default: FakeMediaStreamTrack); the wrtc tests return real libwebrtc tracks. */
  createTrack?: (kind: Kind, deviceId: string) => MediaStreamTrack;
  MediaStream?: new (tracks?: MediaStreamTrack[]) => MediaStream;
}

/** navigator.mediaDevices with scripted devices. Every getUserMedia call is recorded in `calls`. */
export class FakeMediaDevices implements MediaDevicesLike {
  readonly calls: MediaStreamConstraints[] = [];
  readonly issued: MediaStreamTrack[] = [];
  behaviour: Record<Kind, DeviceBehaviour>;

  constructor(private readonly options: FakeMediaDevicesOptions = {}) {
    this.behaviour = {
      audio: options.audio ?? { devices: ['mic-1'] },
      video: options.video ?? { devices: ['cam-1'] },
    };
  }

  /** Tracks handed out and not stopped: a camera whose light is on. */
  get liveTracks(): MediaStreamTrack[] {
    return this.issued.filter((track) => track.readyState === 'live');
  }

  async getUserMedia(constraints: MediaStreamConstraints = {}): Promise<MediaStream> {
    this.calls.push(constraints);
    const picked: { kind: Kind; deviceId: string }[] = [];
    for (const kind of ['audio', 'video'] as const) {
      const request = constraints[kind];
      if (!request) continue;
      const behaviour = this.behaviour[kind];
      // Like browsers: one failing kind fails the whole request.
      if ('error' in behaviour) throw new DOMException(`fake ${kind} failure`, behaviour.error);
      const wanted = typeof request === 'object' ? request.deviceId : undefined;
      const exact = typeof wanted === 'object' && !Array.isArray(wanted) ? wanted.exact : undefined;
      const ideal = typeof wanted === 'object' && !Array.isArray(wanted) ? wanted.ideal : wanted;
      let deviceId = behaviour.devices[0];
      if (typeof exact === 'string') {
        if (!behaviour.devices.includes(exact)) throw new DOMException('no such device', 'OverconstrainedError');
        deviceId = exact;
      } else if (typeof ideal === 'string' && behaviour.devices.includes(ideal)) {
        deviceId = ideal;
      }
      if (deviceId === undefined) throw new DOMException(`no ${kind} device`, 'NotFoundError');
      picked.push({ kind, deviceId });
    }
    if (picked.length === 0) throw new TypeError('getUserMedia needs audio or video');
    const create =
      this.options.createTrack ??
      ((kind, deviceId) => new FakeMediaStreamTrack(kind, deviceId) as unknown as MediaStreamTrack);
    const tracks = picked.map(({ kind, deviceId }) => create(kind, deviceId));
    this.issued.push(...tracks);
    const StreamClass =
      this.options.MediaStream ?? (FakeMediaStream as unknown as new (tracks?: MediaStreamTrack[]) => MediaStream);
    return new StreamClass(tracks);
  }

  async enumerateDevices(): Promise<MediaDeviceInfo[]> {
    const infos: MediaDeviceInfo[] = [];
    for (const [kind, deviceKind] of [
      ['audio', 'audioinput'],
      ['video', 'videoinput'],
    ] as const) {
      const behaviour = this.behaviour[kind];
      if ('error' in behaviour) continue;
      for (const deviceId of behaviour.devices) {
        infos.push({ deviceId, groupId: 'g', kind: deviceKind, label: deviceId, toJSON: () => ({}) });
      }
    }
    infos.push({ deviceId: 'spk', groupId: 'g', kind: 'audiooutput', label: 'speaker', toJSON: () => ({}) });
    return infos;
  }
}

export const FakeMediaStreamClass = FakeMediaStream as unknown as new (tracks?: MediaStreamTrack[]) => MediaStream;
