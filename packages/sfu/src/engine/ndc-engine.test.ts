import nodeDataChannel from 'node-datachannel';
import { parse as parseSdp } from 'sdp-transform';
import { afterEach, describe, expect, it } from 'vitest';
import { publisherOffer } from '../test-support/publisher-offer.js';
import { EngineError } from './engine.js';
import { NdcEngine } from './ndc-engine.js';

// The node-datachannel engine's SDP, on loopback (npm test runs this in a network namespace).

const engines: NdcEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.close();
});

function engine(options: ConstructorParameters<typeof NdcEngine>[0] = {}): NdcEngine {
  const created = new NdcEngine({ bindAddress: '127.0.0.1', ...options });
  engines.push(created);
  return created;
}

const candidatesOf = (sdp: string) => parseSdp(sdp).media.flatMap((m) => m.candidates ?? []);

/** A later offer of the same connection (the audio m-line turned inactive). */
async function renegotiated(subscriber: ReturnType<NdcEngine['createSubscriber']>): Promise<string> {
  subscriber.setSlot('1', 'audio', undefined);
  return subscriber.createOffer();
}

describe('NdcEngine', () => {
  it('answers a Chrome-like offer with VP8, RED of Opus first then Opus, and the audio-level extension', async () => {
    const publisher = await engine().acceptPublisher(publisherOffer({ video: { ssrc: 1234 } }));
    const answer = parseSdp(publisher.answerSdp);
    expect(answer.media.map((m) => [m.type, String(m.mid), m.direction])).toEqual([
      ['video', '0', 'recvonly'],
      ['audio', '1', 'recvonly'],
    ]);
    expect(answer.media[0]?.rtp.map((r) => `${r.payload} ${r.codec}`)).toEqual(['96 VP8']);
    // RED first: libwebrtc sends with the answer's first codec, so its audio comes with redundancy.
    expect(answer.media[1]?.rtp.map((r) => `${r.payload} ${r.codec}`)).toEqual(['63 red', '111 opus']);
    expect(answer.media[1]?.fmtp?.find((f) => f.payload === 63)?.config).toBe('111/111');
    expect(answer.media[1]?.ext?.map((e) => `${e.value} ${e.uri}`)).toEqual([
      '1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    ]);
    expect(publisher.tracks.map((t) => [t.kind, t.ssrc])).toEqual([
      ['video', 1234],
      ['audio', undefined],
    ]);
    expect(candidatesOf(publisher.answerSdp).map((c) => c.ip)).toContain('127.0.0.1');
  });

  it('answers a simulcast offer with its RIDs as recv, MID and RID extensions included', async () => {
    const publisher = await engine().acceptPublisher(
      publisherOffer({ video: { rids: ['q', 'h', 'f'] }, audio: false }),
    );
    const [video] = parseSdp(publisher.answerSdp).media;
    expect(video?.rids?.map((r) => `${r.id} ${r.direction}`)).toEqual(['q recv', 'h recv', 'f recv']);
    expect(video?.simulcast?.dir1).toBe('recv');
    expect(video?.ext?.map((e) => e.uri).sort()).toEqual([
      'urn:ietf:params:rtp-hdrext:sdes:mid',
      'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
    ]);
  });

  it('refuses simulcast beside another track, and offers it cannot read', async () => {
    const refused = (offer: string) =>
      engine()
        .acceptPublisher(offer)
        .then(
          () => undefined,
          (error: unknown) => error,
        );
    const simulcastWithAudio = await refused(publisherOffer({ video: { rids: ['q', 'h'] } }));
    expect(simulcastWithAudio).toBeInstanceOf(EngineError);
    expect(simulcastWithAudio).toMatchObject({ code: 'SFU_ENGINE_ERROR', reason: 'bad-description' });
    expect(await refused('v=0\r\nnot an offer\r\n')).toMatchObject({ reason: 'bad-description' });
  });

  it('writes the announced address into candidates, and muxes every connection on one UDP port', async () => {
    const mux = engine({ announcedAddress: '203.0.113.7', udpPort: 47_123 });
    const first = await mux.acceptPublisher(publisherOffer());
    const subscriber = mux.createSubscriber();
    subscriber.setSlot('0', 'video', { ssrc: 42, streamId: 's', trackId: 't' });
    const offer = await subscriber.createOffer();
    const trickled = subscriber.localCandidates().map(({ candidate, sdpMid }) => {
      expect(sdpMid).toBe('0');
      return `a=${candidate}`;
    });
    for (const sdp of [first.answerSdp, `m=video 9 UDP/TLS/RTP/SAVPF 96\r\n${trickled.join('\r\n')}\r\n`]) {
      const candidates = candidatesOf(sdp);
      expect(candidates.length).toBeGreaterThan(0);
      for (const candidate of candidates) expect([candidate.ip, candidate.port]).toEqual(['203.0.113.7', 47_123]);
    }
    expect(parseSdp(offer).media[0]?.ssrcs?.[0]?.id).toBe(42);
  });

  it('offers subscribers no address at all: a peer that could check us before our answer is applied can break DTLS', async () => {
    // libdatachannel 0.24.5 gives the answer's ICE credentials to the agent before it keeps the
    // answer's fingerprint (see ndc-engine.ts); a subscriber without our address cannot connect early.
    const subscriber = engine({ udpPort: 47_124 }).createSubscriber();
    expect(subscriber.localCandidates()).toEqual([]);
    subscriber.setSlot('0', 'video', { ssrc: 42, streamId: 's', trackId: 't' });
    subscriber.setSlot('1', 'audio', { ssrc: 43, streamId: 's', trackId: 't' });
    for (const offer of [await subscriber.createOffer(), await renegotiated(subscriber)]) {
      expect(offer).not.toMatch(/a=candidate|a=end-of-candidates|47124/);
      for (const media of parseSdp(offer).media) expect([media.port, media.connection?.ip]).toEqual([9, '0.0.0.0']);
    }
    expect(subscriber.localCandidates().map((c) => c.candidate)).toEqual([expect.stringMatching(/ 47124 typ host/)]);
  });

  it('a slot that changes many times keeps one message callback per m-line', async () => {
    // Every callback is a libuv async handle that the event loop walks on each wakeup; one per
    // slot change, for as long as the connection lives, would slow a long meeting down for good.
    // The native methods cannot be spied on their prototype: each new Track gets its own counter.
    let registrations = 0;
    const RealPeerConnection = nodeDataChannel.PeerConnection;
    nodeDataChannel.PeerConnection = class extends RealPeerConnection {
      override addTrack(media: nodeDataChannel.Video | nodeDataChannel.Audio) {
        const track = super.addTrack(media);
        const onMessage = track.onMessage.bind(track);
        Object.defineProperty(track, 'onMessage', {
          value: (handler: Parameters<typeof onMessage>[0]) => {
            registrations++;
            onMessage(handler);
          },
        });
        return track;
      }
    };
    try {
      const subscriber = engine().createSubscriber();
      for (let change = 0; change <= 20; change++) {
        const media = (ssrc: number, trackId: string) => ({ ssrc, streamId: 's', trackId });
        subscriber.setSlot('0', 'video', change % 2 === 0 ? media(100 + change, 't') : undefined);
        subscriber.setSlot('1', 'audio', change % 2 === 0 ? media(200 + change, 'u') : undefined);
      }
      const offer = parseSdp(await subscriber.createOffer());
      expect(registrations).toBe(2);
      // The m-lines carry the last change.
      expect(offer.media.map((m) => [String(m.mid), m.direction, m.ssrcs?.[0]?.id])).toEqual([
        ['0', 'sendonly', 120],
        ['1', 'sendonly', 220],
      ]);
    } finally {
      nodeDataChannel.PeerConnection = RealPeerConnection;
    }
  });

  it('without audio RED, answers Opus alone and offers subscribers Opus alone', async () => {
    const plain = engine({ audioRed: false });
    const publisher = await plain.acceptPublisher(publisherOffer());
    expect(parseSdp(publisher.answerSdp).media[1]?.rtp.map((r) => r.codec)).toEqual(['opus']);
    expect(publisher.tracks[1]?.redPayloadType).toBeUndefined();
    const subscriber = plain.createSubscriber();
    subscriber.setSlot('0', 'audio', { ssrc: 7, streamId: 's', trackId: 't' });
    expect(parseSdp(await subscriber.createOffer()).media[0]?.rtp.map((r) => r.codec)).toEqual(['opus']);
  });

  it('refuses to create connections once closed', async () => {
    const closed = engine();
    closed.close();
    await expect(closed.acceptPublisher(publisherOffer())).rejects.toMatchObject({ reason: 'closed' });
    expect(() => closed.createSubscriber()).toThrow(EngineError);
  });
});
