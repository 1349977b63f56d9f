/*
 * node-datachannel peers for the SFU's load and loss tests: a publisher sending synthetic VP8 and
 * Opus RTP (keyframes on PLI, retransmissions on NACK) and a subscriber that counts every packet
 * per stream, can pretend to lose some and NACK them. Real ICE/DTLS/SRTP on loopback; only the
 * media is synthetic.
 */
import nodeDataChannel from 'node-datachannel';
import type { LocalCandidate } from '../engine/engine.js';
import { buildNack, readRtcpCompound } from '../rtcp/rtcp-packet.js';
import { isRtcp } from '../rtp/demux.js';
import { readRtpHeader } from '../rtp/rtp-packet.js';
import { buildRtp } from './rtp-builder.js';

// As ndc-engine.ts does: libdatachannel's global state set up once, not per first connection.
nodeDataChannel.preload();

const VIDEO_PT = 96;
const AUDIO_PT = 111;
const AUDIO_LEVEL_ID = 1;

function waitGathered(pc: nodeDataChannel.PeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.gatheringState() === 'complete') return resolve();
    pc.onGatheringStateChange((state) => {
      if (state === 'complete') resolve();
    });
  });
}

export interface BotPublisherOptions {
  /** Video packets per second (1,200-byte payloads, 15 packets per frame). */
  videoPps: number;
  /** Sequence numbers the publisher "loses" on its upload (never sent first time, only on NACK). */
  dropVideo?: (sequenceNumber: number) => boolean;
}

/** A publisher: one VP8 and one Opus stream, synthetic payloads, answers PLI and NACK. */
export class BotPublisher {
  readonly videoSsrc = 0x10000000 + Math.floor(Math.random() * 0x0fffffff);
  readonly audioSsrc = this.videoSsrc + 1;
  videoSent = 0;
  plisReceived = 0;
  nacksReceived = 0;
  retransmitted = 0;
  private readonly pc: nodeDataChannel.PeerConnection;
  private readonly video: nodeDataChannel.Track;
  private readonly audio: nodeDataChannel.Track;
  private readonly sentVideo = new Map<number, Uint8Array>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private videoSeq = Math.floor(Math.random() * 0xffff);
  private audioSeq = 0;
  private frame = 0;
  private keyframeWanted = true;

  constructor(private readonly options: BotPublisherOptions) {
    this.pc = new nodeDataChannel.PeerConnection('bot-publisher', {
      iceServers: [],
      bindAddress: '127.0.0.1',
      disableAutoNegotiation: true,
    });
    const video = new nodeDataChannel.Video('0', 'SendOnly');
    video.addVP8Codec(VIDEO_PT);
    video.addSSRC(this.videoSsrc, 'bot', 'bot-stream', 'bot-video');
    const audio = new nodeDataChannel.Audio('1', 'SendOnly');
    audio.addOpusCodec(AUDIO_PT);
    audio.addSSRC(this.audioSsrc, 'bot', 'bot-stream', 'bot-audio');
    audio.parseSdpLine(`a=extmap:${AUDIO_LEVEL_ID} urn:ietf:params:rtp-hdrext:ssrc-audio-level`);
    this.video = this.pc.addTrack(video);
    this.audio = this.pc.addTrack(audio);
    this.video.onMessage((packet) => this.onVideoRtcp(packet));
    this.audio.onMessage(() => {});
  }

  async offer(): Promise<string> {
    this.pc.setLocalDescription('offer');
    await waitGathered(this.pc);
    return this.pc.localDescription()?.sdp ?? '';
  }

  /** Applies the SFU's answer and starts sending once connected. */
  accept(answerSdp: string): Promise<void> {
    this.pc.setRemoteDescription(answerSdp, 'answer');
    return new Promise((resolve) => {
      const start = () => {
        this.start();
        resolve();
      };
      if (this.video.isOpen()) start();
      else this.video.onOpen(start);
    });
  }

  /** Stops sending (the connection stays up). */
  stopSending(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  close(): void {
    this.stopSending();
    // node-datachannel keeps a closed connection's callbacks: drop ours first (see ndc-engine.ts).
    this.video.onMessage(() => {});
    this.audio.onMessage(() => {});
    this.pc.close();
  }

  private start(): void {
    const packetsPerFrame = 15;
    const burstMs = 10;
    let owed = 0;
    this.timers.push(
      setInterval(() => {
        owed += (this.options.videoPps * burstMs) / 1000;
        while (owed >= 1) {
          owed--;
          this.sendVideoPacket(packetsPerFrame);
        }
      }, burstMs),
      setInterval(() => this.sendAudioPacket(), 20),
    );
  }

  private sendVideoPacket(packetsPerFrame: number): void {
    const index = this.videoSent % packetsPerFrame;
    if (index === 0) this.frame++;
    const first = index === 0;
    const keyframe = first && this.keyframeWanted;
    if (keyframe) this.keyframeWanted = false;
    const payload = new Uint8Array(1200);
    payload[0] = first ? 0x10 : 0x00; // VP8 descriptor: S bit on a frame's first packet, PID 0
    payload[1] = keyframe ? 0x00 : 0x01; // VP8 payload header: P = 0 is a keyframe
    if (keyframe) payload.set([0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00], 2); // 320x240
    const sequenceNumber = this.videoSeq++ & 0xffff;
    const packet = buildRtp({
      marker: index === packetsPerFrame - 1,
      payloadType: VIDEO_PT,
      sequenceNumber,
      timestamp: (this.frame * 3000) >>> 0,
      ssrc: this.videoSsrc,
      csrcs: [],
      payload,
      padding: 0,
    });
    this.sentVideo.set(sequenceNumber, packet);
    this.sentVideo.delete((sequenceNumber - 2000) & 0xffff);
    this.videoSent++;
    if (this.options.dropVideo?.(sequenceNumber)) return;
    this.send(this.video, packet);
  }

  private sendAudioPacket(): void {
    const sequenceNumber = this.audioSeq++ & 0xffff;
    this.send(
      this.audio,
      buildRtp({
        marker: false,
        payloadType: AUDIO_PT,
        sequenceNumber,
        timestamp: (sequenceNumber * 960) >>> 0,
        ssrc: this.audioSsrc,
        csrcs: [],
        extension: { form: 'one-byte', elements: [{ id: AUDIO_LEVEL_ID, data: Uint8Array.of(0x80 | 30) }] },
        payload: new Uint8Array(80).fill(0xaa),
        padding: 0,
      }),
    );
  }

  private onVideoRtcp(packet: Buffer): void {
    if (!isRtcp(packet)) return;
    for (const item of readRtcpCompound(packet).items) {
      if (item.type === 'pli' || item.type === 'fir') {
        this.plisReceived++;
        this.keyframeWanted = true;
      } else if (item.type === 'nack') {
        this.nacksReceived += item.lost.length;
        for (const sequenceNumber of item.lost) {
          const original = this.sentVideo.get(sequenceNumber);
          if (original && this.send(this.video, original)) this.retransmitted++;
        }
      }
    }
  }

  private send(track: nodeDataChannel.Track, packet: Uint8Array): boolean {
    try {
      return track.isOpen() && track.sendMessageBinary(Buffer.from(packet));
    } catch {
      return false;
    }
  }
}

/** Per received stream: what arrived, by extended sequence number (starting one wrap up). */
export class StreamTally {
  readonly received = new Set<number>();
  first: number | undefined;
  highest = -1;

  add(sequenceNumber: number): void {
    let extended = sequenceNumber + 0x10000;
    if (this.highest >= 0) {
      const delta = (sequenceNumber - this.highest) & 0xffff;
      extended = this.highest + (delta >= 0x8000 ? delta - 0x10000 : delta);
    }
    if (this.first === undefined || extended < this.first) this.first = extended;
    this.received.add(extended);
    if (extended > this.highest) this.highest = extended;
  }

  /** Extended numbers between the first and the highest received that never arrived. */
  missing(): number[] {
    const missing: number[] = [];
    if (this.first === undefined) return missing;
    for (let n = this.first; n <= this.highest; n++) if (!this.received.has(n)) missing.push(n);
    return missing;
  }
}

export interface BotSubscriberOptions {
  /** NACK what is missing, like libwebrtc does (default false). */
  nack?: boolean;
}

/**
 * A subscriber: answers the SFU's offers, counts every RTP packet per SSRC, may NACK. Loss must be
 * made before encryption (LossyEngine): SRTP's replay protection rejects a retransmission of a
 * packet that arrived and was merely ignored.
 */
export class BotSubscriber {
  readonly streams = new Map<number, { kind: 'audio' | 'video'; tally: StreamTally }>();
  nacksSent = 0;
  private readonly pc: nodeDataChannel.PeerConnection;
  private readonly tracks: nodeDataChannel.Track[] = [];
  private readonly timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: BotSubscriberOptions = {}) {
    this.pc = new nodeDataChannel.PeerConnection('bot-subscriber', { iceServers: [], bindAddress: '127.0.0.1' });
    this.pc.onTrack((track) => {
      this.tracks.push(track); // referenced, or it is collected and goes silent
      const kind = track.type() === 'audio' ? 'audio' : 'video';
      track.onMessage((packet) => this.onPacket(kind, track, packet));
    });
    if (options.nack) this.timer = setInterval(() => this.sendNacks(), 20);
  }

  async answer(offerSdp: string): Promise<string> {
    this.pc.setRemoteDescription(offerSdp, 'offer');
    await waitGathered(this.pc);
    return this.pc.localDescription()?.sdp ?? '';
  }

  /** The SFU's candidates, trickled after our first answer (its offers carry none). */
  addCandidates(candidates: readonly LocalCandidate[]): void {
    for (const { candidate, sdpMid } of candidates) this.pc.addRemoteCandidate(candidate, sdpMid);
  }

  videoStreams(): StreamTally[] {
    return [...this.streams.values()].filter((s) => s.kind === 'video').map((s) => s.tally);
  }

  audioStreams(): StreamTally[] {
    return [...this.streams.values()].filter((s) => s.kind === 'audio').map((s) => s.tally);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const track of this.tracks) track.onMessage(() => {});
    this.pc.onTrack(() => {});
    this.pc.close();
  }

  private onPacket(kind: 'audio' | 'video', track: nodeDataChannel.Track, packet: Buffer): void {
    if (isRtcp(packet)) return;
    const header = readRtpHeader(packet);
    if (!header.ok) return;
    let stream = this.streams.get(header.ssrc);
    if (!stream) {
      stream = { kind, tally: new StreamTally() };
      this.streams.set(header.ssrc, stream);
      this.trackBySsrc.set(header.ssrc, track);
    }
    stream.tally.add(header.sequenceNumber);
  }

  private readonly trackBySsrc = new Map<number, nodeDataChannel.Track>();

  /** Gaps seen missing on the previous tick: NACKed if still missing (20 ms of reorder tolerance). */
  private readonly suspects = new Set<string>();

  private sendNacks(): void {
    for (const [ssrc, stream] of this.streams) {
      if (stream.kind !== 'video') continue;
      const lost: number[] = [];
      for (const n of stream.tally.missing()) {
        const key = `${ssrc}:${n}`;
        if (this.suspects.has(key)) lost.push(n & 0xffff);
        else this.suspects.add(key);
      }
      const track = this.trackBySsrc.get(ssrc);
      if (lost.length === 0 || !track?.isOpen()) continue;
      try {
        track.sendMessageBinary(Buffer.from(buildNack(1, ssrc, lost.slice(0, 100))));
        this.nacksSent += Math.min(lost.length, 100);
      } catch {
        // closed meanwhile
      }
    }
  }
}
