// Real libwebrtc in Node (@roamhq/wrtc, a CommonJS native addon) plus synthetic camera/mic sources.
import { createRequire } from 'node:module';
import type { ClientEnvironment } from '../environment.js';
import { FakeMediaDevices, type FakeMediaDevicesOptions } from './fake-media.js';

interface VideoSource {
  createTrack(): MediaStreamTrack;
  onFrame(frame: { width: number; height: number; data: Uint8ClampedArray }): void;
}
interface AudioSource {
  createTrack(): MediaStreamTrack;
  onData(data: {
    samples: Int16Array;
    sampleRate: number;
    bitsPerSample: number;
    channelCount: number;
    numberOfFrames: number;
  }): void;
}
interface Sink {
  stop(): void;
}
interface Wrtc {
  RTCPeerConnection: ClientEnvironment['RTCPeerConnection'];
  MediaStream: ClientEnvironment['MediaStream'];
  nonstandard: {
    RTCVideoSource: new () => VideoSource;
    RTCAudioSource: new () => AudioSource;
    RTCVideoSink: new (
      track: MediaStreamTrack,
    ) => Sink & { onframe: ((event: { frame: { width: number; height: number } }) => void) | null };
    RTCAudioSink: new (track: MediaStreamTrack) => Sink & { ondata: (() => void) | null };
  };
}

// Boundary: the addon's own typings describe browser globals; these few members are all we use.
export const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;

const WIDTH = 160;
const HEIGHT = 120;

/**
 * Stands in for cameras and microphones: every track it creates is fed with frames (15 fps,
 * small to spare the CPU) and 10 ms audio chunks until the track is stopped.
 */
export class SyntheticDevices {
  private readonly video: { source: VideoSource; track: MediaStreamTrack }[] = [];
  private readonly audio: { source: AudioSource; track: MediaStreamTrack }[] = [];
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly frame = new Uint8ClampedArray(WIDTH * HEIGHT * 1.5);
  private readonly samples = new Int16Array(480);
  private tick = 0;

  constructor() {
    for (let i = 0; i < this.samples.length; i++) this.samples[i] = Math.round(Math.sin(i / 8) * 6000);
    this.timers.push(
      setInterval(() => {
        this.tick++;
        this.frame.fill(this.tick % 255, 0, WIDTH * HEIGHT); // changing luma so the encoder has work
        for (const { source, track } of this.video) {
          if (track.readyState === 'live') source.onFrame({ width: WIDTH, height: HEIGHT, data: this.frame });
        }
      }, 66),
      setInterval(() => {
        for (const { source, track } of this.audio) {
          if (track.readyState === 'live') {
            source.onData({
              samples: this.samples,
              sampleRate: 48_000,
              bitsPerSample: 16,
              channelCount: 1,
              numberOfFrames: 480,
            });
          }
        }
      }, 10),
    );
  }

  createTrack(kind: 'audio' | 'video'): MediaStreamTrack {
    if (kind === 'video') {
      const source = new wrtc.nonstandard.RTCVideoSource();
      const track = source.createTrack();
      this.video.push({ source, track });
      return track;
    }
    const source = new wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    this.audio.push({ source, track });
    return track;
  }

  /** A navigator.mediaDevices whose getUserMedia returns synthetic tracks. */
  mediaDevices(options: Omit<FakeMediaDevicesOptions, 'createTrack' | 'MediaStream'> = {}): FakeMediaDevices {
    return new FakeMediaDevices({
      ...options,
      createTrack: (kind) => this.createTrack(kind),
      MediaStream: wrtc.MediaStream,
    });
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const { track } of [...this.video, ...this.audio]) if (track.readyState === 'live') track.stop();
  }
}

/** Counts decoded frames of a remote video track and audio chunks of a remote audio track. */
export class MediaProbe {
  videoFrames = 0;
  audioChunks = 0;
  lastFrameSize = '';
  readonly watched = new Set<MediaStreamTrack>();
  private readonly sinks: Sink[] = [];

  watch(track: MediaStreamTrack): void {
    this.watched.add(track);
    if (track.kind === 'video') {
      const sink = new wrtc.nonstandard.RTCVideoSink(track);
      sink.onframe = ({ frame }) => {
        this.videoFrames++;
        this.lastFrameSize = `${frame.width}x${frame.height}`;
      };
      this.sinks.push(sink);
    } else {
      const sink = new wrtc.nonstandard.RTCAudioSink(track);
      sink.ondata = () => {
        this.audioChunks++;
      };
      this.sinks.push(sink);
    }
  }

  stop(): void {
    for (const sink of this.sinks.splice(0)) sink.stop();
  }
}

export function wrtcEnvironment(
  mediaDevices: FakeMediaDevices,
  WebSocket: ClientEnvironment['WebSocket'],
): Partial<ClientEnvironment> {
  return {
    RTCPeerConnection: wrtc.RTCPeerConnection,
    MediaStream: wrtc.MediaStream,
    WebSocket,
    mediaDevices,
    location: undefined,
  };
}
