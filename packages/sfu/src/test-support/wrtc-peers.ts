// Real libwebrtc peers in Node (@roamhq/wrtc: the engine inside Chromium) for the SFU's tests: a
// publisher fed with synthetic camera frames and microphone samples, and subscribers that decode.
import { createRequire } from 'node:module';
import type { LocalCandidate } from '../engine/engine.js';

interface WrtcTrack {
  readonly kind: string;
  readonly id: string;
  stop(): void;
}
interface WrtcStats {
  values(): IterableIterator<Record<string, unknown>>;
}
interface WrtcPeer {
  addTrack(track: WrtcTrack, stream?: unknown): unknown;
  addTransceiver(track: WrtcTrack, init: object): unknown;
  createOffer(): Promise<{ type: 'offer'; sdp: string }>;
  createAnswer(): Promise<{ type: 'answer'; sdp: string }>;
  setLocalDescription(description: { type: string; sdp: string }): Promise<void>;
  setRemoteDescription(description: { type: string; sdp: string }): Promise<void>;
  addIceCandidate(candidate: { candidate: string; sdpMid: string }): Promise<void>;
  getStats(): Promise<WrtcStats>;
  readonly localDescription: { sdp: string } | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  ontrack: ((event: { track: WrtcTrack; streams: { id: string }[] }) => void) | null;
  close(): void;
}
interface Frame {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}
interface Wrtc {
  RTCPeerConnection: new (config: object) => WrtcPeer;
  MediaStream: new () => unknown;
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): WrtcTrack; onFrame(frame: Frame): void };
    RTCAudioSource: new () => {
      createTrack(): WrtcTrack;
      onData(data: {
        samples: Int16Array;
        sampleRate: number;
        bitsPerSample: number;
        channelCount: number;
        numberOfFrames: number;
      }): void;
    };
    RTCVideoSink: new (
      track: WrtcTrack,
    ) => { stop(): void; onframe: ((event: { frame: { width: number; height: number } }) => void) | null };
    RTCAudioSink: new (track: WrtcTrack) => { stop(): void; ondata: ((data: { samples: Int16Array }) => void) | null };
  };
}

// Boundary: the addon's typings describe browser globals; these few members are all we use.
const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;

export function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      if (predicate()) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setTimeout(check, 10);
    };
    check();
  });
}

async function gathered(pc: WrtcPeer): Promise<void> {
  await until(() => pc.iceGatheringState === 'complete', 5000);
}

export interface PublisherOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Simulcast encodings (RIDs), largest last, each scaled down by the factor given. */
  simulcast?: { rid: string; scaleResolutionDownBy: number }[];
  /**
   * The microphone: `talk` (a tone in 250 ms "syllables" with short pauses, what a speaker's
   * levels look like), `silence`, or false for no audio track. Default `talk`.
   */
  audio?: 'talk' | 'silence' | false;
}

/** A camera + microphone publisher: synthetic frames with moving content and a 440 Hz-ish tone. */
export class WrtcPublisher {
  readonly pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly tracks: WrtcTrack[] = [];

  constructor(options: PublisherOptions = {}) {
    const { width = 320, height = 240, fps = 30, simulcast, audio = 'talk' } = options;
    const video = new wrtc.nonstandard.RTCVideoSource();
    const videoTrack = video.createTrack();
    this.tracks.push(videoTrack);
    const stream = new wrtc.MediaStream();
    if (simulcast) {
      this.pc.addTransceiver(videoTrack, { direction: 'sendonly', streams: [stream], sendEncodings: simulcast });
    } else {
      this.pc.addTrack(videoTrack, stream);
    }
    const frame = new Uint8ClampedArray(width * height * 1.5);
    let tick = 0;
    this.timers.push(
      setInterval(() => {
        tick++;
        // A moving gradient: enough detail that every simulcast layer has real work.
        for (let y = 0; y < height; y++) frame.fill((y + tick * 4) & 0xff, y * width, (y + 1) * width);
        video.onFrame({ width, height, data: frame });
      }, 1000 / fps),
    );
    if (audio) {
      const source = new wrtc.nonstandard.RTCAudioSource();
      const audioTrack = source.createTrack();
      this.tracks.push(audioTrack);
      this.pc.addTrack(audioTrack, stream);
      const tone = new Int16Array(480).map((_, i) => Math.round(Math.sin(i / 8) * 8000));
      const quiet = new Int16Array(480);
      let chunk = 0;
      this.timers.push(
        setInterval(() => {
          // 10 ms chunks: 25 of tone, 8 of silence.
          const samples = audio === 'talk' && chunk++ % 33 < 25 ? tone : quiet;
          source.onData({ samples, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
        }, 10),
      );
    }
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    return this.pc.localDescription?.sdp ?? '';
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const track of this.tracks) track.stop();
    this.pc.close();
  }
}

/** A subscriber that decodes: counts decoded frames (and their sizes) per remote video track. */
export class WrtcSubscriber {
  readonly pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  videoFrames = 0;
  /** 10 ms chunks of decoded audio, and those carrying sound (not silence or concealment noise). */
  audioChunks = 0;
  audibleChunks = 0;
  lastFrameSize = { width: 0, height: 0 };
  firstFrameAtMs: number | undefined;
  /** Stream ids of the remote tracks, in arrival order. */
  readonly streams: string[] = [];
  private readonly sinks: { stop(): void }[] = [];

  constructor() {
    this.pc.ontrack = ({ track, streams }) => {
      this.streams.push(streams[0]?.id ?? '');
      if (track.kind === 'audio') {
        const sink = new wrtc.nonstandard.RTCAudioSink(track);
        sink.ondata = ({ samples }) => {
          this.audioChunks++;
          let peak = 0;
          for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
          if (peak > 1000) this.audibleChunks++;
        };
        this.sinks.push(sink);
        return;
      }
      if (track.kind !== 'video') return;
      const sink = new wrtc.nonstandard.RTCVideoSink(track);
      sink.onframe = ({ frame }) => {
        this.videoFrames++;
        this.firstFrameAtMs ??= performance.now();
        this.lastFrameSize = { width: frame.width, height: frame.height };
      };
      this.sinks.push(sink);
    };
  }

  /** Answers one of the SFU's offers (first or renegotiation). */
  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await gathered(this.pc);
    return this.pc.localDescription?.sdp ?? '';
  }

  /** The SFU's candidates, trickled after our first answer (its offers carry none). */
  async addCandidates(candidates: readonly LocalCandidate[]): Promise<void> {
    for (const { candidate, sdpMid } of candidates) await this.pc.addIceCandidate({ candidate, sdpMid });
  }

  /** inbound-rtp counters by kind: packets received and lost, frames decoded. */
  async inbound(): Promise<Record<'audio' | 'video', { packets: number; lost: number; framesDecoded: number }>> {
    const totals = {
      audio: { packets: 0, lost: 0, framesDecoded: 0 },
      video: { packets: 0, lost: 0, framesDecoded: 0 },
    };
    for (const report of (await this.pc.getStats()).values()) {
      if (report.type !== 'inbound-rtp') continue;
      const kind = report.kind === 'audio' ? 'audio' : 'video';
      totals[kind].packets += Number(report.packetsReceived ?? 0);
      totals[kind].lost += Number(report.packetsLost ?? 0);
      totals[kind].framesDecoded += Number(report.framesDecoded ?? 0);
    }
    return totals;
  }

  close(): void {
    for (const sink of this.sinks.splice(0)) sink.stop();
    this.pc.close();
  }
}
