import { TypedEmitter } from './emitter.js';
import { type ClientEnvironment, type MediaDevicesLike, resolveEnvironment } from './environment.js';
import { ConveneError, MediaAccessError, type MediaErrorReason, mediaErrorReason } from './errors.js';
import { getLogger } from './logger.js';
import { SerialQueue } from './serial-queue.js';

const log = getLogger('media');

export type MediaKind = 'audio' | 'video';
const KINDS: readonly MediaKind[] = ['audio', 'video'];

export interface DeviceList {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
}

/** Cameras and microphones. Labels stay empty until the user granted access once (browser rule). */
export async function listDevices(environment?: Partial<ClientEnvironment>): Promise<DeviceList> {
  const { mediaDevices } = resolveEnvironment(environment);
  if (!mediaDevices) return { cameras: [], microphones: [] };
  const devices = await mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((device) => device.kind === 'videoinput'),
    microphones: devices.filter((device) => device.kind === 'audioinput'),
  };
}

export interface LocalMediaEvents {
  /** A track was replaced, added or removed, or a muted flag changed. */
  'tracks-changed': [];
}

export interface LocalMediaOptions {
  /** false: do not ask; a deviceId is a preference (another device is used if it is gone). Default true. */
  audio?: boolean | { deviceId: string };
  video?: boolean | { deviceId: string };
  /** Injected browser APIs (tests, non-browser runtimes); defaults from globalThis. */
  environment?: Partial<ClientEnvironment>;
}

type PerKind<T> = Record<MediaKind, T>;

/**
 * The local camera and microphone. Opening never fails because a device is denied or missing:
 * the reason is recorded and the person joins with what they have (or receive-only).
 * Mute keeps the microphone open (track.enabled = false); turning the camera off stops it so its
 * light goes off, and turning it on acquires it again. Async operations run one at a time.
 */
export class LocalMedia extends TypedEmitter<LocalMediaEvents> {
  /** A stable MediaStream holding the current local tracks (for the preview / self view). */
  readonly previewStream: MediaStream;

  private readonly tracks: PerKind<MediaStreamTrack | null> = { audio: null, video: null };
  private readonly errors: PerKind<MediaErrorReason | null> = { audio: null, video: null };
  /** What the user asked for; a missing device also counts as muted (see audioMuted/videoMuted). */
  private readonly userMuted: PerKind<boolean> = { audio: false, video: false };
  private readonly deviceIds: PerKind<string | null> = { audio: null, video: null };
  private readonly endedListeners = new Map<MediaStreamTrack, () => void>();
  private readonly operations = new SerialQueue();
  private closed = false;

  private constructor(private readonly environment: ClientEnvironment) {
    super();
    this.previewStream = new environment.MediaStream();
  }

  static async open(options: LocalMediaOptions = {}): Promise<LocalMedia> {
    const media = new LocalMedia(resolveEnvironment(options.environment));
    const wanted: Partial<PerKind<MediaTrackConstraints | true>> = {};
    for (const kind of KINDS) {
      const option = options[kind] ?? true;
      if (option === false) continue;
      if (typeof option === 'object') media.deviceIds[kind] = option.deviceId;
      // `ideal`: a remembered device that is gone should not cost the person their camera.
      wanted[kind] = typeof option === 'object' ? { deviceId: { ideal: option.deviceId } } : true;
    }
    await media.acquireWithFallback(wanted);
    media.safeEmit('tracks-changed');
    return media;
  }

  get audioTrack(): MediaStreamTrack | null {
    return this.tracks.audio;
  }
  get videoTrack(): MediaStreamTrack | null {
    return this.tracks.video;
  }
  get audioError(): MediaErrorReason | null {
    return this.errors.audio;
  }
  get videoError(): MediaErrorReason | null {
    return this.errors.video;
  }
  /** The user muted, or there is no microphone. */
  get audioMuted(): boolean {
    return this.userMuted.audio || this.tracks.audio === null;
  }
  /** The user turned the camera off, or there is no camera. */
  get videoMuted(): boolean {
    return this.userMuted.video || this.tracks.video === null;
  }
  get audioDeviceId(): string | null {
    return this.deviceIds.audio;
  }
  get videoDeviceId(): string | null {
    return this.deviceIds.video;
  }

  setAudioMuted(muted: boolean): void {
    if (this.closed) return;
    this.userMuted.audio = muted;
    if (this.tracks.audio) this.tracks.audio.enabled = !muted;
    this.safeEmit('tracks-changed');
  }

  /** Off: stops the camera (its light goes off). On: acquires it again; rejects with MediaAccessError if that fails. */
  setVideoMuted(muted: boolean): Promise<void> {
    return this.operations.push(async () => {
      this.assertOpen();
      this.userMuted.video = muted;
      if (muted) {
        this.setTrack('video', null);
      } else if (!this.tracks.video) {
        const deviceId = this.deviceIds.video;
        await this.acquireOrThrow('video', deviceId ? { deviceId: { ideal: deviceId } } : true);
      }
      this.safeEmit('tracks-changed');
    });
  }

  /** Uses another camera. With the camera off, only remembers the choice (the light stays off). */
  switchCamera(deviceId: string): Promise<void> {
    return this.operations.push(() => this.switchDevice('video', deviceId));
  }

  /** Uses another microphone, keeping the mute state. */
  switchMicrophone(deviceId: string): Promise<void> {
    return this.operations.push(() => this.switchDevice('audio', deviceId));
  }

  /** Stops every track. The object cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.operations.close();
    for (const kind of KINDS) this.setTrack(kind, null);
    this.safeEmit('tracks-changed');
  }

  private async switchDevice(kind: MediaKind, deviceId: string): Promise<void> {
    this.assertOpen();
    if (kind === 'video' && this.userMuted.video) {
      this.deviceIds.video = deviceId;
      this.safeEmit('tracks-changed');
      return;
    }
    const constraints = { deviceId: { exact: deviceId } };
    try {
      // Acquire first, then stop the old one: the call keeps its media if the new device fails.
      const track = await this.getTrack(kind, constraints);
      this.adopt(kind, track, deviceId);
    } catch (error) {
      const reason = mediaErrorReason(error);
      if (reason !== 'in-use' || !this.tracks[kind]) throw MediaAccessError.fromDomException(kind, error);
      // Some devices (phones) cannot open two cameras at once: release the old one and retry.
      log.info(`${kind} device busy; releasing the current one and retrying`);
      this.setTrack(kind, null);
      this.safeEmit('tracks-changed');
      await this.acquireOrThrow(kind, constraints, deviceId);
    }
    this.safeEmit('tracks-changed');
  }

  /** Tries all wanted kinds in one prompt; if that fails, each alone, so one bad device does not cost the other. */
  private async acquireWithFallback(wanted: Partial<PerKind<MediaTrackConstraints | true>>): Promise<void> {
    const kinds = KINDS.filter((kind) => wanted[kind] !== undefined);
    if (kinds.length === 0) return;
    const mediaDevices = this.environment.mediaDevices;
    if (!mediaDevices) {
      // Browsers hide navigator.mediaDevices on insecure origins (http other than localhost).
      for (const kind of kinds) this.errors[kind] = 'insecure-context';
      return;
    }
    if (kinds.length > 1) {
      try {
        const stream = await mediaDevices.getUserMedia(wanted);
        for (const kind of kinds) {
          const track = firstTrack(stream, kind);
          if (track) this.adopt(kind, track);
          else this.errors[kind] = 'not-found';
        }
        return;
      } catch (error) {
        log.info(`audio+video request failed (${describe(error)}); trying each device alone`);
      }
    }
    for (const kind of kinds) {
      try {
        this.adopt(kind, await this.getTrack(kind, wanted[kind] ?? true));
      } catch (error) {
        this.errors[kind] = mediaErrorReason(error);
        log.warn(`no ${kind}: ${this.errors[kind]} (${describe(error)})`);
      }
    }
  }

  private async acquireOrThrow(kind: MediaKind, constraints: MediaTrackConstraints | true, deviceId?: string) {
    try {
      this.adopt(kind, await this.getTrack(kind, constraints), deviceId);
    } catch (error) {
      const failure = MediaAccessError.fromDomException(kind, error);
      this.errors[kind] = failure.reason;
      this.safeEmit('tracks-changed');
      throw failure;
    }
  }

  private async getTrack(kind: MediaKind, constraints: MediaTrackConstraints | true): Promise<MediaStreamTrack> {
    const mediaDevices: MediaDevicesLike | undefined = this.environment.mediaDevices;
    if (!mediaDevices) throw new MediaAccessError(kind, 'insecure-context');
    const stream = await mediaDevices.getUserMedia({ [kind]: constraints });
    const track = firstTrack(stream, kind);
    if (!track) throw new MediaAccessError(kind, 'not-found');
    if (this.closed) {
      // close() ran while the prompt was open: do not leave a camera running.
      track.stop();
      throw ConveneError.closed('local media');
    }
    return track;
  }

  /** Makes `track` the current one of its kind (stopping the previous) and clears the kind's error. */
  private adopt(kind: MediaKind, track: MediaStreamTrack, requestedDeviceId?: string): void {
    if (kind === 'audio') track.enabled = !this.userMuted.audio;
    this.setTrack(kind, track);
    this.errors[kind] = null;
    this.deviceIds[kind] = track.getSettings?.().deviceId ?? requestedDeviceId ?? this.deviceIds[kind];
  }

  private setTrack(kind: MediaKind, track: MediaStreamTrack | null): void {
    const previous = this.tracks[kind];
    if (previous === track) return;
    if (previous) {
      this.endedListeners.get(previous)?.();
      this.previewStream.removeTrack(previous);
      previous.stop();
    }
    this.tracks[kind] = track;
    if (track) {
      this.previewStream.addTrack(track);
      // The device went away (unplugged, permission revoked, OS took it): drop it like a missing device.
      const onEnded = (): void => {
        if (this.tracks[kind] !== track) return;
        log.warn(`${kind} track ended unexpectedly`);
        this.setTrack(kind, null);
        this.errors[kind] = 'not-found';
        this.safeEmit('tracks-changed');
      };
      track.addEventListener('ended', onEnded);
      this.endedListeners.set(track, () => {
        track.removeEventListener('ended', onEnded);
        this.endedListeners.delete(track);
      });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw ConveneError.closed('local media');
  }
}

function firstTrack(stream: MediaStream, kind: MediaKind): MediaStreamTrack | undefined {
  const [track, ...extra] = kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
  for (const unused of extra) unused.stop();
  return track;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
