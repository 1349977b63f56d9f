import type { SignalData } from '@convene/protocol';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPolite, MeshPeer } from './mesh-peer.js';
import { FakeMediaStreamTrack } from './test-support/fake-media.js';
import { FakePeerConnection, FakePeerConnectionWithoutRestartIce } from './test-support/fake-peer-connection.js';
import { captureLogs } from './test-support/logs.js';
import { sleep, until } from './test-support/wait.js';
import { MediaProbe, SyntheticDevices, wrtc } from './test-support/wrtc.js';

const fakeTrack = (kind: 'audio' | 'video') =>
  new FakeMediaStreamTrack(kind, `${kind}-dev`) as unknown as MediaStreamTrack;
const offer = (sdp = 'remote-offer'): SignalData => ({ description: { type: 'offer', sdp } });
const answer = (sdp = 'remote-answer'): SignalData => ({ description: { type: 'answer', sdp } });

let logs = captureLogs();
const peers: MeshPeer[] = [];
beforeEach(() => {
  FakePeerConnection.instances = [];
});
afterEach(() => {
  for (const peer of peers.splice(0)) peer.close();
  logs.restore();
  logs = captureLogs();
});

/** A MeshPeer on a FakePeerConnection; `sent` collects what it signals. */
function fakePeer(options: { polite: boolean; video?: boolean; withoutRestartIce?: boolean; initiator?: boolean }) {
  const sent: SignalData[] = [];
  const PeerConnection = options.withoutRestartIce ? FakePeerConnectionWithoutRestartIce : FakePeerConnection;
  const peer = new MeshPeer({
    localId: options.polite ? 'b' : 'a',
    remoteId: options.polite ? 'a' : 'b',
    configuration: {},
    PeerConnection: PeerConnection as unknown as typeof RTCPeerConnection,
    sendSignal: (data) => sent.push(data),
    localTracks: { audio: null, video: options.video === false ? null : fakeTrack('video') },
    initiator: options.initiator ?? true,
  });
  peers.push(peer);
  const pc = FakePeerConnection.instances.at(-1) as FakePeerConnection;
  const sentDescriptions = () => sent.flatMap((data) => ('description' in data ? [data.description.type] : []));
  return { peer, pc, sent, sentDescriptions };
}

describe('politeness', () => {
  it('of any two distinct participants exactly one is polite, and both agree which', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        fc.pre(a !== b);
        expect(isPolite(a, b)).toBe(!isPolite(b, a));
      }),
    );
  });
});

describe('MeshPeer perfect negotiation (scripted peer connection)', () => {
  it('offers when it has something to send', async () => {
    const { pc, sentDescriptions } = fakePeer({ polite: true });
    await until(() => sentDescriptions().length === 1);
    expect(sentDescriptions()).toEqual(['offer']);
    expect(pc.signalingState).toBe('have-local-offer');
  });

  it('impolite side ignores a colliding offer, and the errors of its candidates, then takes the answer', async () => {
    const { peer, pc, sentDescriptions } = fakePeer({ polite: false });
    await until(() => pc.signalingState === 'have-local-offer');
    peer.handleSignal(offer());
    peer.handleSignal({ candidate: { candidate: 'bad', sdpMid: '0' } });
    peer.handleSignal(answer());
    await until(() => pc.signalingState === 'stable');
    expect(pc.calls).not.toContain('setRemoteDescription:offer');
    expect(pc.calls).not.toContain('setLocalDescription:rollback');
    expect(sentDescriptions()).toEqual(['offer']);
    expect(logs.records).toEqual([]);
  });

  it('polite side rolls back its own offer and answers the remote one', async () => {
    const { peer, pc, sentDescriptions } = fakePeer({ polite: true });
    await until(() => pc.signalingState === 'have-local-offer');
    peer.handleSignal(offer());
    await until(() => sentDescriptions().length === 2);
    expect(sentDescriptions()).toEqual(['offer', 'answer']);
    expect(pc.calls.slice(pc.calls.indexOf('setLocalDescription:offer') + 1)).toEqual([
      'setLocalDescription:rollback',
      'setRemoteDescription:offer',
      'createAnswer',
      'setLocalDescription:answer',
    ]);
    expect(pc.signalingState).toBe('stable');
  });

  it('the participant already in the room waits for the newcomer’s offer instead of making its own', async () => {
    const { peer, pc, sentDescriptions } = fakePeer({ polite: false, initiator: false });
    await sleep(30); // addTrack fired negotiationneeded: held back
    expect(sentDescriptions()).toEqual([]);
    peer.handleSignal(offer());
    await until(() => sentDescriptions().length === 1);
    await sleep(30);
    expect(sentDescriptions()).toEqual(['answer']);
    expect(pc.calls).not.toContain('setLocalDescription:rollback');
  });

  it('a newcomer without camera or microphone still offers, to receive both kinds', async () => {
    const { pc, sentDescriptions } = fakePeer({ polite: true, video: false, initiator: true });
    await until(() => sentDescriptions().length === 1);
    expect(pc.calls.slice(0, 2)).toEqual(['addTransceiver:audio:recvonly', 'addTransceiver:video:recvonly']);
  });

  it('a remote offer that arrives while createOffer is still running waits its turn (no interleaving)', async () => {
    const { peer, pc, sentDescriptions } = fakePeer({ polite: true, video: false, initiator: false });
    peer.handleSignal(offer('first')); // the first negotiation, so our own offers are no longer held back
    await until(() => sentDescriptions().length === 1);
    pc.createOfferDelayMs = 40;
    await peer.setLocalTrack('video', fakeTrack('video')); // addTrack → negotiationneeded → slow createOffer
    await until(() => pc.calls.includes('createOffer'));
    peer.handleSignal(offer());
    await until(() => sentDescriptions().length === 3);
    expect(pc.calls.slice(pc.calls.indexOf('addTrack:video'))).toEqual([
      'addTrack:video',
      'createOffer',
      'setLocalDescription:offer',
      'setLocalDescription:rollback',
      'setRemoteDescription:offer',
      'createAnswer',
      'setLocalDescription:answer',
    ]);
    expect(logs.records).toEqual([]);
  });

  it('candidates that arrive before the remote description are kept and added after it, in order', async () => {
    const { peer, pc } = fakePeer({ polite: true, video: false, initiator: false });
    const first = { candidate: 'candidate:1 1 udp 1 127.0.0.1 1000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    const second = { candidate: 'candidate:2 1 udp 1 127.0.0.1 1001 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    peer.handleSignal({ candidate: first });
    peer.handleSignal({ candidate: second });
    peer.handleSignal({ candidate: null });
    peer.handleSignal(offer());
    await until(() => pc.signalingState === 'stable' && pc.localDescription?.type === 'answer');
    expect(pc.addedCandidates).toEqual([first, second, null]);
    expect(logs.records).toEqual([]);
  });

  it('a bad candidate outside a collision is reported', async () => {
    const { peer, pc } = fakePeer({ polite: true, video: false, initiator: false });
    peer.handleSignal(offer());
    peer.handleSignal({ candidate: { candidate: 'bad', sdpMid: '0' } });
    await until(() => pc.calls.includes('addIceCandidate'));
    await sleep(5);
    expect(logs.records.map((record) => record.message)).toEqual(['remote candidate not accepted']);
  });

  it('failed connection: one ICE restart through a new offer; another only after it recovered', async () => {
    const { peer, pc, sent, sentDescriptions } = fakePeer({ polite: false });
    const states: string[] = [];
    peer.on('connection-state-changed', (state) => states.push(state));
    await until(() => sentDescriptions().length === 1);
    peer.handleSignal(answer());
    await until(() => pc.signalingState === 'stable');

    pc.simulateConnectionState('failed');
    await until(() => sentDescriptions().length === 2);
    const restartOffer = sent.filter((data) => 'description' in data).at(-1);
    expect(restartOffer).toMatchObject({ description: { type: 'offer', sdp: expect.stringContaining('ice-1') } });
    peer.handleSignal(answer());
    pc.simulateConnectionState('failed'); // the restart did not help: give up, no loop
    await sleep(20);
    expect(pc.restartIceCalls).toBe(1);

    pc.simulateConnectionState('connected');
    pc.simulateConnectionState('failed'); // a new, separate failure
    await until(() => pc.restartIceCalls === 2);
    expect(states).toEqual(['failed', 'failed', 'connected', 'failed']);
  });

  it('without pc.restartIce() (older Safari) the restart is an offer with iceRestart', async () => {
    const { peer, pc, sent, sentDescriptions } = fakePeer({ polite: false, withoutRestartIce: true });
    expect(pc.restartIce).toBeUndefined();
    await until(() => sentDescriptions().length === 1);
    peer.handleSignal(answer());
    await until(() => pc.signalingState === 'stable');
    pc.simulateConnectionState('failed');
    await until(() => sentDescriptions().length === 2);
    expect(sent.filter((data) => 'description' in data).at(-1)).toMatchObject({
      description: { type: 'offer', sdp: expect.stringContaining('ice-1') },
    });
  });

  it('camera off/on with a sender is replaceTrack, not a renegotiation', async () => {
    const { peer, pc, sentDescriptions } = fakePeer({ polite: false });
    await until(() => sentDescriptions().length === 1);
    peer.handleSignal(answer());
    await peer.setLocalTrack('video', null);
    await peer.setLocalTrack('video', fakeTrack('video'));
    await sleep(10);
    expect(pc.calls.filter((call) => call.startsWith('replaceTrack'))).toEqual([
      'replaceTrack:null',
      'replaceTrack:video',
    ]);
    expect(pc.calls.filter((call) => call === 'addTrack:video')).toHaveLength(1);
    expect(sentDescriptions()).toEqual(['offer']);
  });

  it('after close() it ignores signals and network events, and emits nothing', async () => {
    const { peer, pc } = fakePeer({ polite: true, video: false });
    let events = 0;
    peer.on('connection-state-changed', () => events++);
    peer.close();
    const callsAtClose = pc.calls.length;
    peer.handleSignal(offer());
    pc.simulateConnectionState('failed');
    await sleep(10);
    expect(pc.calls.slice(callsAtClose)).toEqual([]);
    expect(events).toBe(0);
    expect(pc.restartIceCalls).toBe(0);
    expect(pc.signalingState).toBe('closed');
  });
});

describe('MeshPeer on real libwebrtc', () => {
  it('connects and delivers video even when every candidate overtakes its description', async () => {
    const devices = new SyntheticDevices();
    const probe = new MediaProbe();
    try {
      const make = (
        localId: string,
        remoteId: string,
        deliver: (data: SignalData) => void,
        video: MediaStreamTrack | null,
      ) =>
        new MeshPeer({
          localId,
          remoteId,
          configuration: {},
          PeerConnection: wrtc.RTCPeerConnection,
          sendSignal: deliver,
          localTracks: { audio: null, video },
          initiator: localId === 'a',
        });
      // Descriptions are delayed, candidates are not: the receiver sees candidates first. Candidates
      // libwebrtc already put into the SDP are removed, so only the trickled ones can connect.
      const channel = (target: () => MeshPeer) => (data: SignalData) => {
        if (!('description' in data)) return target().handleSignal(data);
        const sdp = data.description.sdp.replace(/a=(candidate:.*|end-of-candidates)\r\n/g, '');
        setTimeout(() => target().handleSignal({ description: { ...data.description, sdp } }), 150);
      };
      const sender: MeshPeer = make(
        'a',
        'b',
        channel(() => receiver),
        devices.createTrack('video'),
      );
      const receiver: MeshPeer = make(
        'b',
        'a',
        channel(() => sender),
        null,
      );
      peers.push(sender, receiver);
      receiver.on('remote-track-added', (track) => probe.watch(track));
      await until(
        () => sender.connectionState === 'connected' && receiver.connectionState === 'connected',
        'connected',
        8000,
      );
      await until(() => probe.videoFrames >= 5, 'video frames', 8000);
      expect(probe.lastFrameSize).toBe('160x120');
      expect(logs.records).toEqual([]);
    } finally {
      probe.stop();
      devices.stop();
    }
  });
});
