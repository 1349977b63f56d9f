// node-datachannel bots for bench/sfu-forward.mjs: one publisher sending synthetic VP8 + Opus RTP at
// a controlled rate, and subscribers that count what arrives, per SSRC, and find losses by sequence
// number. Everything an SFU adapter calls is async (see lib/sfu-targets.mjs), so the same calls work
// on a bot in this process or on its proxy in a bot host process (lib/sfu-bot-host.mjs).
//
// node-datachannel pitfalls handled here (shared/spikes/sfu-engine/REPORT.md):
// - every Track is referenced from JS (an unreferenced Track is garbage-collected: media stops);
// - disableAutoNegotiation + hand-built media sections: the auto-answer mirrors every offered codec;
// - RTCP arrives raw and compound in onMessage, mixed with RTP: walked here;
// - routing is by SDP-announced SSRC: the remote description must announce the SSRCs sent.
import { randomInt } from 'node:crypto';
import ndc from 'node-datachannel';

export const VP8_CLOCK = 90_000;
export const OPUS_TS_STEP = 960; // 20 ms at 48 kHz

const isRtcp = (buf) => buf.length >= 8 && buf[1] >= 192 && buf[1] <= 223;

/** The m-sections of an SDP: kind, mid, direction, payload type of a codec, announced SSRCs. */
export function sdpSections(sdp) {
  return sdp
    .split(/\r?\nm=/)
    .slice(1)
    .map((body) => {
      const text = `m=${body}`;
      const kind = /^m=(\w+)/.exec(text)[1];
      const port = Number(/^m=\w+ (\d+)/.exec(text)?.[1]);
      const mid = /^a=mid:(\S+)/m.exec(text)?.[1];
      const direction = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(text)?.[1] ?? 'sendrecv';
      const ssrcs = [...new Set([...text.matchAll(/^a=ssrc:(\d+) /gm)].map((m) => Number(m[1])))];
      const pt = (codec) => {
        const m = new RegExp(`^a=rtpmap:(\\d+) ${codec}/`, 'im').exec(text);
        return m ? Number(m[1]) : null;
      };
      return { kind, port, mid, direction, ssrcs, vp8: pt('VP8'), opus: pt('opus'), text };
    });
}

/** A walk over a compound RTCP packet: counts of what an SFU sends a publisher or a subscriber. */
export function walkRtcp(buf, counts) {
  let off = 0;
  while (off + 4 <= buf.length) {
    const fmt = buf[off] & 0x1f;
    const pt = buf[off + 1];
    const len = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > buf.length) break;
    if (pt === 200) counts.sr++;
    else if (pt === 201) counts.rr++;
    else if (pt === 205 && fmt === 1) {
      counts.nack++;
      // Generic NACK FCI: PID (16) + BLP (16) per entry.
      for (let p = off + 12; p + 4 <= off + len; p += 4) {
        let blp = buf.readUInt16BE(p + 2);
        let n = 1;
        while (blp) {
          n += blp & 1;
          blp >>>= 1;
        }
        counts.nackedPackets += n;
      }
    } else if (pt === 205 && fmt === 15) counts.twcc++;
    else if (pt === 206 && fmt === 1) counts.pli++;
    else if (pt === 206 && fmt === 4) counts.fir++;
    else if (pt === 206 && fmt === 15) counts.remb++;
    else counts.otherRtcp++;
    off += len;
  }
}

const rtcpCounts = () => ({ sr: 0, rr: 0, nack: 0, nackedPackets: 0, twcc: 0, pli: 0, fir: 0, remb: 0, otherRtcp: 0 });

function waitGathered(pc, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    if (pc.gatheringState() === 'complete') return resolve();
    const timer = setTimeout(() => reject(new Error('ICE gathering did not complete')), timeoutMs);
    pc.onGatheringStateChange((state) => {
      if (state === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Common part: one PeerConnection, its tracks (all referenced), connection state, timings. */
class Bot {
  constructor(kind, { id, bindAddress = '127.0.0.1', portRangeBegin, portRangeEnd, dtlsPassive = true }) {
    this.kind = kind;
    this.id = id;
    this.dtlsPassive = dtlsPassive;
    this.rtcConfig = {
      iceServers: [],
      bindAddress,
      disableAutoNegotiation: true,
      ...(portRangeBegin ? { portRangeBegin, portRangeEnd } : {}),
    };
    this.pc = null;
    this.tracks = []; // JS references: an unreferenced Track gets GC'd and media stops silently
    this.state = 'new';
    this.timings = { created: performance.now() };
    this.opened = [];
  }

  newPc() {
    if (this.pc) throw new Error(`${this.kind} ${this.id}: negotiated twice`);
    this.pc = new ndc.PeerConnection(`${this.kind}-${this.id}`, this.rtcConfig);
    this.pc.onStateChange((state) => {
      this.state = state;
      if (state === 'connected') this.timings.connected ??= performance.now();
    });
    return this.pc;
  }

  addTrack(media) {
    const track = this.pc.addTrack(media);
    this.tracks.push(track);
    this.opened.push(
      new Promise((resolve) => {
        if (track.isOpen()) resolve();
        else track.onOpen(resolve);
      }),
    );
    return track;
  }

  /**
   * The offer as given to libdatachannel. With `dtlsPassive` (default), an `actpass` offer is shown
   * to it as `active`, so it answers `a=setup:passive` and is the DTLS server: as DTLS client,
   * libdatachannel's first ClientHello to Janus is lost and its handshake waits for the 1 s
   * retransmission (measured: 1,005–1,012 ms connects; as server 26–31 ms). The SFU sees a valid
   * answer to its actpass offer.
   */
  remoteOffer(sdp) {
    return this.dtlsPassive ? sdp.replace(/^a=setup:actpass/gm, 'a=setup:active') : sdp;
  }

  async localSdp() {
    await waitGathered(this.pc);
    this.timings.localSdp ??= performance.now();
    return this.pc.localDescription().sdp;
  }

  /** Trickled candidate from the SFU (when it does not put them into its SDP). */
  async addRemoteCandidate(candidate, mid) {
    this.pc.addRemoteCandidate(candidate, mid);
  }

  /** Resolves once every track is open (ICE + DTLS done); rejects on failure or after timeoutMs. */
  async connected(timeoutMs = 20_000) {
    if (!this.pc) throw new Error(`${this.kind} ${this.id}: not negotiated`);
    let timer;
    try {
      await Promise.race([
        Promise.all(this.opened),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${this.kind} ${this.id}: tracks not open after ${timeoutMs} ms (${this.state})`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    this.timings.open ??= performance.now();
    return { ms: this.timings.open - this.timings.created };
  }

  async close() {
    try {
      this.pc?.close();
    } catch {}
  }
}

// ------------------------------------------------------------------ publisher

/**
 * Synthetic VP8 (fixed-size payloads, `fps` frames per second, a keyframe every `keyframeIntervalS`
 * and at the next frame start after a PLI/FIR) + Opus (fixed-size payloads, 20 ms), sent by a
 * timer in bursts every `tickMs`.
 */
export class PublisherBot extends Bot {
  constructor(opts) {
    super('publisher', opts);
    this.vssrc = opts.videoSsrc ?? randomInt(1, 2 ** 32 - 1);
    this.assrc = opts.audioSsrc ?? randomInt(1, 2 ** 32 - 1);
    this.vpt = opts.videoPt ?? 96;
    this.apt = opts.audioPt ?? 111;
    this.rtcp = rtcpCounts();
    this.sent = {
      video: 0,
      audio: 0,
      videoBytes: 0,
      audioBytes: 0,
      failed: 0,
      lastFailure: null,
      keyframes: 0,
      keyframesOnRequest: 0,
    };
    this.keyframeRequested = false;
    this.sender = null;
  }

  setupTracks(videoMid, audioMid) {
    const cname = `bot-${this.id}`;
    const v = new ndc.Video(videoMid, 'SendOnly');
    v.addVP8Codec(this.vpt);
    v.addSSRC(this.vssrc, cname, `stream-${this.id}`, `video-${this.id}`);
    this.vtrack = this.addTrack(v);
    const a = new ndc.Audio(audioMid, 'SendOnly');
    a.addOpusCodec(this.apt);
    a.addSSRC(this.assrc, cname, `stream-${this.id}`, `audio-${this.id}`);
    this.atrack = this.addTrack(a);
    for (const track of [this.vtrack, this.atrack]) {
      track.onMessage((buf) => {
        if (!isRtcp(buf)) return;
        const pli = this.rtcp.pli + this.rtcp.fir;
        walkRtcp(buf, this.rtcp);
        if (this.rtcp.pli + this.rtcp.fir > pli) this.keyframeRequested = true;
      });
    }
  }

  /** The bot offers (video mid 0, audio mid 1), all candidates in the SDP. */
  async offer() {
    this.newPc();
    this.setupTracks('0', '1');
    this.pc.setLocalDescription('offer');
    return this.localSdp();
  }

  /** The SFU's answer to offer(): its payload types win. */
  async setAnswer(sdp) {
    for (const s of sdpSections(sdp)) {
      if (s.kind === 'video' && s.vp8 !== null) this.vpt = s.vp8;
      if (s.kind === 'audio' && s.opus !== null) this.apt = s.opus;
    }
    this.pc.setRemoteDescription(sdp, 'answer');
  }

  /** The SFU offers, the bot answers with one VP8 and one Opus track on the offer's mids and PTs. */
  async answer(sdp) {
    const sections = sdpSections(sdp);
    const video = sections.find((s) => s.kind === 'video' && s.vp8 !== null && s.port !== 0);
    const audio = sections.find((s) => s.kind === 'audio' && s.opus !== null && s.port !== 0);
    if (!video || !audio) throw new Error('publisher: the offer has no VP8 video or no Opus audio section');
    this.vpt = video.vp8;
    this.apt = audio.opus;
    this.newPc();
    this.setupTracks(video.mid, audio.mid);
    this.pc.setRemoteDescription(this.remoteOffer(sdp), 'offer');
    this.pc.setLocalDescription('answer');
    return this.localSdp();
  }

  /**
   * Starts sending: `videoPps` packets/s of `videoPayload` bytes (VP8 descriptor included) in
   * `fps` frames/s, `audioPps` Opus packets/s of `audioPayload` bytes, every `tickMs`.
   */
  async startMedia({
    videoPps,
    audioPps = 50,
    videoPayload = 1200,
    audioPayload = 80,
    fps = 30,
    keyframeIntervalS = 10,
    tickMs = 10,
  }) {
    await this.stopMedia();
    const perFrame = Math.max(1, Math.round(videoPps / fps));
    const keyEvery = keyframeIntervalS > 0 ? Math.max(1, Math.round(fps * keyframeIntervalS)) : 0;
    const vbuf = Buffer.alloc(12 + videoPayload);
    const abuf = Buffer.alloc(12 + audioPayload);
    // Payload filler: not zeros (some paths treat runs of zeros specially), not random per packet.
    for (let i = 12; i < vbuf.length; i++) vbuf[i] = (i * 31) & 0xff;
    for (let i = 12; i < abuf.length; i++) abuf[i] = (i * 17) & 0xff;
    abuf[12] = 0x78; // Opus TOC: config 15 (hybrid FB 20 ms), mono, one frame
    // Sequence numbers, timestamps and PictureID carry on across stop/start, as with a real sender
    // pausing: libsrtp refuses to protect a packet whose index goes back (replay_old, status 10),
    // so a sender restarting at a new random sequence number gets its packets dropped. Timestamps
    // advance by the wall-clock time of the pause.
    const startedAt = performance.now();
    const s = this.stream ?? {
      vseq: randomInt(0, 0xffff),
      aseq: randomInt(0, 0xffff),
      vts: randomInt(0, 2 ** 31),
      ats: randomInt(0, 2 ** 31),
      pictureId: randomInt(0, 0x7fff),
      stoppedAt: startedAt,
    };
    const pausedS = (startedAt - s.stoppedAt) / 1000;
    s.vts = (s.vts + Math.round(pausedS * VP8_CLOCK) + VP8_CLOCK / fps) >>> 0;
    s.ats = (s.ats + Math.round(pausedS * 48_000)) >>> 0;
    s.pictureId = (s.pictureId + 1) & 0x7fff;
    s.videoIndex = 0; // packets sent since this start
    s.frame = 0;
    s.audioIndex = 0;
    this.stream = s;
    const sendVideo = () => {
      const pos = s.videoIndex % perFrame;
      if (pos === 0 && s.videoIndex > 0) {
        s.frame++;
        s.vts = (s.vts + VP8_CLOCK / fps) >>> 0;
        s.pictureId = (s.pictureId + 1) & 0x7fff;
      }
      const start = pos === 0;
      let key = false;
      if (start) {
        key = (keyEvery > 0 && s.frame % keyEvery === 0) || this.keyframeRequested;
        if (key) {
          this.sent.keyframes++;
          if (this.keyframeRequested) this.sent.keyframesOnRequest++;
          this.keyframeRequested = false;
        }
      }
      const marker = pos === perFrame - 1;
      writeRtpHeader(vbuf, this.vpt, marker, s.vseq, s.vts, this.vssrc);
      writeVp8Descriptor(vbuf, 12, start, s.pictureId, key);
      s.vseq = (s.vseq + 1) & 0xffff;
      s.videoIndex++;
      return this.vtrack.sendMessageBinary(vbuf);
    };
    const sendAudio = () => {
      writeRtpHeader(abuf, this.apt, false, s.aseq, s.ats, this.assrc);
      s.aseq = (s.aseq + 1) & 0xffff;
      s.ats = (s.ats + OPUS_TS_STEP) >>> 0;
      s.audioIndex++;
      return this.atrack.sendMessageBinary(abuf);
    };
    const tick = () => {
      const elapsedS = (performance.now() - startedAt) / 1000;
      const dueVideo = Math.floor(elapsedS * videoPps);
      const dueAudio = Math.floor(elapsedS * audioPps);
      // After a stall, send what is due but at most 1 s worth at once.
      if (dueVideo - s.videoIndex > videoPps) s.videoIndex = dueVideo - videoPps;
      if (dueAudio - s.audioIndex > audioPps) s.audioIndex = dueAudio - audioPps;
      while (s.videoIndex < dueVideo || s.audioIndex < dueAudio) {
        // Interleave audio by time, as a real sender does.
        const nextVideoAt = s.videoIndex / videoPps;
        const nextAudioAt = audioPps > 0 ? s.audioIndex / audioPps : Number.POSITIVE_INFINITY;
        const isVideo = s.videoIndex < dueVideo && (nextVideoAt <= nextAudioAt || s.audioIndex >= dueAudio);
        let ok = false;
        try {
          ok = isVideo ? sendVideo() : sendAudio();
          if (!ok) this.sent.lastFailure ??= `${isVideo ? 'video' : 'audio'}: sendMessageBinary returned false`;
        } catch (error) {
          ok = false;
          this.sent.lastFailure = `${isVideo ? 'video' : 'audio'}: ${error.message}`;
        }
        if (!ok) this.sent.failed++;
        else if (isVideo) {
          this.sent.video++;
          this.sent.videoBytes += vbuf.length;
        } else {
          this.sent.audio++;
          this.sent.audioBytes += abuf.length;
        }
      }
    };
    this.sender = setInterval(tick, tickMs);
    this.mediaConfig = { videoPps, audioPps, videoPayload, audioPayload, fps, perFrame, keyframeIntervalS, tickMs };
  }

  async stopMedia() {
    if (this.sender) clearInterval(this.sender);
    this.sender = null;
    if (this.stream) this.stream.stoppedAt = performance.now();
  }

  async stats() {
    return {
      kind: this.kind,
      id: this.id,
      state: this.state,
      sent: { ...this.sent },
      rtcp: { ...this.rtcp },
      videoPt: this.vpt,
      audioPt: this.apt,
      connectMs: this.timings.open ? this.timings.open - this.timings.created : null,
    };
  }

  async close() {
    await this.stopMedia();
    await super.close();
  }
}

function writeRtpHeader(buf, pt, marker, seq, ts, ssrc) {
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | pt;
  buf.writeUInt16BE(seq, 2);
  buf.writeUInt32BE(ts, 4);
  buf.writeUInt32BE(ssrc, 8);
}

/**
 * VP8 payload descriptor (RFC 7741 §4.2) as libwebrtc writes it: X=1, S on a frame's first
 * packet, PID 0, I=1 with a 15-bit PictureID. On a frame's first packet, the VP8 payload header
 * follows (RFC 7741 §4.3 / RFC 6386 §9.1): the 3-byte frame tag, P bit (bit 0) = 0 for a keyframe,
 * then for a keyframe the start code 9d 01 2a and 640x480.
 */
function writeVp8Descriptor(buf, off, start, pictureId, key) {
  buf[off] = 0x80 | (start ? 0x10 : 0);
  buf[off + 1] = 0x80;
  buf[off + 2] = 0x80 | (pictureId >> 8);
  buf[off + 3] = pictureId & 0xff;
  if (!start) return;
  const h = off + 4;
  const firstPartSize = 600;
  // frame tag: key_frame (bit 0: 0 = key), version (3 bits) 0, show_frame (bit 4) 1, size (19 bits)
  buf[h] = ((firstPartSize & 0x7) << 5) | 0x10 | (key ? 0 : 1);
  buf[h + 1] = (firstPartSize >> 3) & 0xff;
  buf[h + 2] = (firstPartSize >> 11) & 0xff;
  if (key) {
    buf[h + 3] = 0x9d;
    buf[h + 4] = 0x01;
    buf[h + 5] = 0x2a;
    buf.writeUInt16LE(640, h + 6);
    buf.writeUInt16LE(480, h + 8);
  }
}

/** Is this RTP packet (a Buffer with a 12-byte header, no CSRC/extension assumed unless flagged) a VP8 keyframe start? */
export function isVp8KeyframeStart(buf) {
  let off = 12 + (buf[0] & 0x0f) * 4;
  if (buf[0] & 0x10) {
    if (off + 4 > buf.length) return false;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  if (off >= buf.length) return false;
  const d = buf[off];
  if (!(d & 0x10) || (d & 0x07) !== 0) return false; // S=1, PID=0
  let p = off + 1;
  if (d & 0x80) {
    const x = buf[p++];
    if (x & 0x80) p += buf[p] & 0x80 ? 2 : 1; // I: PictureID, 7 or 15 bits
    if (x & 0x40) p++; // L: TL0PICIDX
    if (x & 0x30) p++; // T/K
  }
  return p < buf.length && (buf[p] & 0x01) === 0;
}

// ------------------------------------------------------------------ subscriber

/**
 * Counts RTP per SSRC: received, bytes, and RFC 3550 A.1-style extended highest sequence number,
 * so expected = highest − first + 1 and lost = expected − received; gaps and reordering.
 */
class SsrcCounter {
  constructor(ssrc, kind, pt, seq) {
    this.ssrc = ssrc;
    this.kind = kind;
    this.pt = pt;
    this.base = seq;
    this.max = seq; // extended
    this.received = 0;
    this.bytes = 0;
    this.gaps = 0;
    this.maxGap = 0;
    this.late = 0;
    this.keyframes = 0;
    this.firstAt = performance.now();
  }

  add(buf) {
    const seq = buf.readUInt16BE(2);
    const delta = (seq - (this.max & 0xffff)) & 0xffff;
    if (this.received > 0) {
      if (delta > 0 && delta < 0x8000) {
        if (delta > 1) {
          this.gaps++;
          if (delta - 1 > this.maxGap) this.maxGap = delta - 1;
        }
        this.max += delta;
      } else if (delta !== 0) this.late++;
    }
    this.received++;
    this.bytes += buf.length;
  }

  get expected() {
    return this.max - this.base + 1;
  }

  snapshot() {
    return {
      ssrc: this.ssrc,
      kind: this.kind,
      pt: this.pt,
      received: this.received,
      expected: this.expected,
      lost: this.expected - this.received,
      bytes: this.bytes,
      gaps: this.gaps,
      maxGap: this.maxGap,
      late: this.late,
      keyframes: this.keyframes,
    };
  }
}

export class SubscriberBot extends Bot {
  /** `rtcpReports`: an RtcpReceivingSession on each track (receiver reports back to the SFU). */
  constructor(opts) {
    super('subscriber', opts);
    this.rtcpReports = opts.rtcpReports ?? true;
    this.rtcp = rtcpCounts();
    this.bySsrc = new Map();
    this.firstPacketAt = null;
  }

  setupTrack(kind, mid, pt) {
    const media = kind === 'video' ? new ndc.Video(mid, 'RecvOnly') : new ndc.Audio(mid, 'RecvOnly');
    if (kind === 'video') media.addVP8Codec(pt);
    else media.addOpusCodec(pt);
    const track = this.addTrack(media);
    if (this.rtcpReports) track.setMediaHandler(new ndc.RtcpReceivingSession());
    track.onMessage((buf) => {
      if (isRtcp(buf)) {
        walkRtcp(buf, this.rtcp);
        return;
      }
      if (buf.length < 12) return;
      const ssrc = buf.readUInt32BE(8);
      let counter = this.bySsrc.get(ssrc);
      if (!counter) {
        counter = new SsrcCounter(ssrc, kind, buf[1] & 0x7f, buf.readUInt16BE(2));
        this.bySsrc.set(ssrc, counter);
        this.firstPacketAt ??= performance.now();
      }
      counter.add(buf);
      if (kind === 'video' && isVp8KeyframeStart(buf)) counter.keyframes++;
    });
    return track;
  }

  /** The SFU offers; the bot answers every audio/video section it can receive (VP8 / Opus), recvonly. */
  async answer(sdp) {
    const sections = sdpSections(sdp);
    this.newPc();
    let n = 0;
    for (const s of sections) {
      if (s.port === 0 || !s.mid) continue;
      if (s.kind === 'video' && s.vp8 !== null) this.setupTrack('video', s.mid, s.vp8);
      else if (s.kind === 'audio' && s.opus !== null) this.setupTrack('audio', s.mid, s.opus);
      else continue;
      n++;
    }
    if (n === 0) throw new Error('subscriber: the offer has no VP8 or Opus section');
    this.pc.setRemoteDescription(this.remoteOffer(sdp), 'offer');
    this.pc.setLocalDescription('answer');
    return this.localSdp();
  }

  /** The bot offers to receive one VP8 video (mid 0) and one Opus audio (mid 1). */
  async offer() {
    this.newPc();
    this.setupTrack('video', '0', 96);
    this.setupTrack('audio', '1', 111);
    this.pc.setLocalDescription('offer');
    return this.localSdp();
  }

  async setAnswer(sdp) {
    this.pc.setRemoteDescription(sdp, 'answer');
  }

  /** Totals by kind (sums over SSRCs) and, with `detail`, per SSRC. */
  async stats({ detail = false } = {}) {
    const byKind = { video: emptyCounts(), audio: emptyCounts() };
    const ssrcs = [];
    for (const counter of this.bySsrc.values()) {
      const snap = counter.snapshot();
      addCounts(byKind[counter.kind], snap);
      if (detail) ssrcs.push(snap);
    }
    return {
      kind: this.kind,
      id: this.id,
      state: this.state,
      ...byKind,
      rtcp: { ...this.rtcp },
      connectMs: this.timings.open ? this.timings.open - this.timings.created : null,
      firstPacketMs: this.firstPacketAt ? this.firstPacketAt - this.timings.created : null,
      ...(detail ? { ssrcs } : {}),
    };
  }
}

export function emptyCounts() {
  return { ssrcs: 0, received: 0, expected: 0, lost: 0, bytes: 0, gaps: 0, maxGap: 0, late: 0, keyframes: 0 };
}

export function addCounts(into, c) {
  into.ssrcs += c.ssrcs ?? 1;
  into.received += c.received;
  into.expected += c.expected;
  into.lost += c.lost;
  into.bytes += c.bytes;
  into.gaps += c.gaps;
  into.maxGap = Math.max(into.maxGap, c.maxGap);
  into.late += c.late;
  into.keyframes += c.keyframes;
  return into;
}
