import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { readRtpHeader } from '../rtp/rtp-packet.js';
import { PublishConnection, type PublishedTrack } from './publish-connection.js';

// A real libwebrtc publisher (@roamhq/wrtc, the engine inside Chromium) sends VP8 and Opus to our
// node-datachannel publish connection, on loopback (npm test runs this in a loopback-only namespace).

interface WrtcPeer {
  addTrack(track: unknown): unknown;
  createOffer(): Promise<{ type: 'offer'; sdp: string }>;
  setLocalDescription(description: { type: 'offer'; sdp: string }): Promise<void>;
  setRemoteDescription(description: { type: 'answer'; sdp: string }): Promise<void>;
  readonly localDescription: { sdp: string } | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  addEventListener(type: string, listener: () => void): void;
  close(): void;
}
interface Wrtc {
  RTCPeerConnection: new (config: object) => WrtcPeer;
  nonstandard: {
    RTCVideoSource: new () => {
      createTrack(): unknown;
      onFrame(frame: { width: number; height: number; data: Uint8ClampedArray }): void;
    };
    RTCAudioSource: new () => {
      createTrack(): unknown;
      onData(data: {
        samples: Int16Array;
        sampleRate: number;
        bitsPerSample: number;
        channelCount: number;
        numberOfFrames: number;
      }): void;
    };
  };
}
const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      if (predicate()) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setTimeout(check, 20);
    };
    check();
  });
}

describe('PublishConnection with a libwebrtc publisher', () => {
  it('answers with VP8 and Opus only, connects, and receives the publisher’s VP8 and Opus RTP', async () => {
    const publisher = new wrtc.RTCPeerConnection({ iceServers: [] });
    cleanups.push(() => publisher.close());
    const video = new wrtc.nonstandard.RTCVideoSource();
    const audio = new wrtc.nonstandard.RTCAudioSource();
    publisher.addTrack(video.createTrack());
    publisher.addTrack(audio.createTrack());
    await publisher.setLocalDescription(await publisher.createOffer());
    await until(() => publisher.iceGatheringState === 'complete', 5000);
    const offer = publisher.localDescription?.sdp ?? '';
    expect(offer).toMatch(/a=rtpmap:\d+ red\/90000/i); // libwebrtc offers RED, RTX, FEC...

    const connection = await PublishConnection.accept(offer, { bindAddress: '127.0.0.1' });
    cleanups.push(() => connection.close());
    expect(connection.tracks.map((t) => t.kind)).toEqual(['video', 'audio']);
    // ...and our answer accepts only what we can forward.
    expect(connection.answerSdp).toMatch(/a=rtpmap:\d+ VP8\/90000/);
    expect(connection.answerSdp).not.toMatch(/red\/90000|rtx\/90000|ulpfec/i);

    const received: { track: PublishedTrack; payloadType: number; ssrc: number }[] = [];
    connection.onRtp((track, packet) => {
      const header = readRtpHeader(packet);
      if (header.ok) received.push({ track, payloadType: header.payloadType, ssrc: header.ssrc });
    });
    await publisher.setRemoteDescription({ type: 'answer', sdp: connection.answerSdp });

    const frame = new Uint8ClampedArray(160 * 120 * 1.5);
    const samples = new Int16Array(480).map((_, i) => Math.round(Math.sin(i / 8) * 6000));
    let tick = 0;
    const timer = setInterval(() => {
      frame.fill(++tick % 255, 0, 160 * 120);
      video.onFrame({ width: 160, height: 120, data: frame });
      audio.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
    }, 20);
    cleanups.push(() => clearInterval(timer));

    const both = () =>
      received.filter((r) => r.track.kind === 'video').length >= 20 &&
      received.filter((r) => r.track.kind === 'audio').length >= 20;
    expect(await until(both, 8000)).toBe(true);
    for (const { track, payloadType } of received) expect(payloadType).toBe(track.payloadType);
    expect(connection.requestKeyframe()).toBe(true);
  });
});
