/*
 * A real engine whose subscriber connections lose chosen RTP packets before they are encrypted and
 * sent, as a network would: the first copy of each chosen packet never leaves, a retransmission
 * does. Only the media path is touched; ICE, DTLS and RTCP are untouched.
 */
import type { EngineSubscriber, MediaEngine } from '../engine/engine.js';
import { isRtcp } from '../rtp/demux.js';

export type LossRule = (packet: { mid: string; ssrc: number; sequenceNumber: number }) => boolean;

export function lossyEngine(engine: MediaEngine, lose: LossRule): MediaEngine & { lost: number } {
  const lossy = {
    lost: 0,
    acceptPublisher: (offerSdp: string) => engine.acceptPublisher(offerSdp),
    close: () => engine.close(),
    createSubscriber(): EngineSubscriber {
      const inner = engine.createSubscriber();
      const sentOnce = new Set<string>();
      return {
        get state() {
          return inner.state;
        },
        setSlot: (mid, kind, media) => inner.setSlot(mid, kind, media),
        createOffer: () => inner.createOffer(),
        setAnswer: (sdp) => inner.setAnswer(sdp),
        localCandidates: () => inner.localCandidates(),
        acceptsRed: (mid) => inner.acceptsRed(mid),
        onPacket: (handler) => inner.onPacket(handler),
        onStateChange: (handler) => inner.onStateChange(handler),
        addRemoteCandidate: (candidate, mid) => inner.addRemoteCandidate(candidate, mid),
        close: () => inner.close(),
        send(mid: string, packet: Uint8Array): boolean {
          if (!isRtcp(packet) && packet.length >= 12) {
            const ssrc =
              ((packet[8] ?? 0) * 2 ** 24 + ((packet[9] ?? 0) << 16) + ((packet[10] ?? 0) << 8) + (packet[11] ?? 0)) >>>
              0;
            const sequenceNumber = ((packet[2] ?? 0) << 8) | (packet[3] ?? 0);
            const key = `${ssrc}:${sequenceNumber}`;
            if (!sentOnce.has(key) && lose({ mid, ssrc, sequenceNumber })) {
              sentOnce.add(key);
              lossy.lost++;
              return true; // "sent", as far as the router can tell
            }
          }
          return inner.send(mid, packet);
        },
      };
    },
  };
  return lossy;
}
