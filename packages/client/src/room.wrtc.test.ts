// Rooms in Node on real libwebrtc (@roamhq/wrtc) through the test relay: what a person in the call
// would notice: connections come up, the other's video frames and audio arrive, and stay up
// through glare, camera off/on, device switches, and people leaving.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ClientEnvironment } from './environment.js';
import { LocalMedia } from './media.js';
import type { RemoteParticipant } from './participant.js';
import { Room } from './room.js';
import type { FakeMediaDevices, FakeMediaDevicesOptions } from './test-support/fake-media.js';
import { captureLogs } from './test-support/logs.js';
import { RelayServer } from './test-support/relay-server.js';
import { sleep, until } from './test-support/wait.js';
import { MediaProbe, SyntheticDevices, wrtc } from './test-support/wrtc.js';

const WebSocketCtor = WebSocket as unknown as ClientEnvironment['WebSocket']; // boundary: ws implements the browser API

/** Records every RTCPeerConnection the SDK creates, to check they are closed afterwards. */
const createdPeerConnections: RTCPeerConnection[] = [];
class RecordingPeerConnection extends wrtc.RTCPeerConnection {
  constructor(configuration?: RTCConfiguration) {
    super(configuration);
    createdPeerConnections.push(this);
  }
}

interface Person {
  room: Room;
  devices: FakeMediaDevices;
  /** What this person receives from each other participant (by id). */
  probes: Map<string, MediaProbe>;
}

let relay: RelayServer;
let synthetic: SyntheticDevices;
const people: Person[] = [];
let logs = captureLogs();

beforeAll(() => {
  synthetic = new SyntheticDevices();
});
afterAll(() => synthetic.stop());
afterEach(async () => {
  for (const person of people.splice(0)) {
    person.room.leave();
    person.room.localMedia.close();
    for (const probe of person.probes.values()) probe.stop();
  }
  await relay?.close();
  for (const pc of createdPeerConnections.splice(0)) expect(pc.connectionState).toBe('closed');
  // No failed negotiation step, rejected candidate or bad frame (device warnings are expected).
  const problems = logs.records.filter(
    (record) => record.level === 'error' || (record.level === 'warn' && record.logger !== 'media'),
  );
  expect(problems).toEqual([]);
  logs.restore();
  logs = captureLogs();
});

async function join(name: string, devices: FakeMediaDevicesOptions = {}): Promise<Person> {
  const mediaDevices = synthetic.mediaDevices(devices);
  const environment: Partial<ClientEnvironment> = {
    WebSocket: WebSocketCtor,
    RTCPeerConnection: RecordingPeerConnection,
    MediaStream: wrtc.MediaStream,
    mediaDevices,
    location: undefined,
  };
  const localMedia = await LocalMedia.open({ environment });
  const room = await Room.join({ url: relay.url, room: 'standup', name, localMedia, environment });
  const person: Person = { room, devices: mediaDevices, probes: new Map() };
  const watch = (participant: RemoteParticipant): void => {
    const probe = new MediaProbe();
    person.probes.set(participant.id, probe);
    for (const track of participant.stream.getTracks()) probe.watch(track);
    participant.on('stream-changed', (stream) => {
      for (const track of stream.getTracks()) if (!probe.watched.has(track)) probe.watch(track);
    });
  };
  for (const participant of room.participants.values()) watch(participant);
  room.on('participant-joined', watch);
  people.push(person);
  return person;
}

const remote = (viewer: Person, of: Person): RemoteParticipant => {
  const participant = viewer.room.participants.get(of.room.participantId);
  if (!participant) throw new Error(`${viewer.room.localName} does not see ${of.room.localName}`);
  return participant;
};
const probe = (viewer: Person, of: Person): MediaProbe => {
  const found = viewer.probes.get(of.room.participantId);
  if (!found) throw new Error('no probe');
  return found;
};

/** Waits until `viewer` decodes fresh video frames and audio from `sender`. */
async function receivesMediaFrom(viewer: Person, sender: Person, what = 'media'): Promise<void> {
  const seen = probe(viewer, sender);
  const frames = seen.videoFrames;
  const chunks = seen.audioChunks;
  const label = `${viewer.room.localName} receiving ${what} from ${sender.room.localName}`;
  await until(() => seen.videoFrames >= frames + 5 && seen.audioChunks >= chunks + 5, label);
}

const descriptionsRelayed = (): number =>
  relay.signals.filter((signal) => signal.kind === 'offer' || signal.kind === 'answer').length;

describe('mesh rooms on real libwebrtc', () => {
  it('two people: the newcomer offers (no glare), media flows both ways, camera off/on needs no renegotiation, leaving tears down', async () => {
    logs.restore();
    logs = captureLogs('debug');
    relay = await RelayServer.start();
    // Hold every signal: Bo (the newcomer) offers; Ada, already there, must wait for that offer
    // rather than make one of her own (two crossing offers are what broke ICE in Chromium).
    relay.holdSignals();
    const ada = await join('Ada');
    const bo = await join('Bo');
    await until(() => relay.descriptions('offer').length === 1, 'the newcomer’s offer');
    await sleep(300);
    expect(relay.descriptions('offer').map((signal) => signal.from)).toEqual([bo.room.participantId]);
    relay.releaseSignals();

    await until(
      () => remote(ada, bo).connectionState === 'connected' && remote(bo, ada).connectionState === 'connected',
      'connected',
    );
    for (const [viewer, sender] of [
      [ada, bo],
      [bo, ada],
    ] as const) {
      const stream = remote(viewer, sender).stream;
      expect(stream.getAudioTracks()).toHaveLength(1);
      expect(stream.getVideoTracks()).toHaveLength(1);
      await receivesMediaFrom(viewer, sender);
      expect(probe(viewer, sender).lastFrameSize).toBe('160x120');
    }
    // One offer, one answer, nothing colliding.
    expect(relay.descriptions('answer').map((signal) => signal.from)).toEqual([ada.room.participantId]);
    expect(logs.records.filter((record) => record.message.startsWith('offer collision'))).toEqual([]);

    // getStats reports what the person sees: decoded frames rising, audio packets, a host/host path.
    const [first] = await ada.room.getStats();
    await sleep(700);
    const [second] = await ada.room.getStats();
    expect(second).toMatchObject({
      participantId: bo.room.participantId,
      connectionState: 'connected',
      localCandidateType: 'host',
      remoteCandidateType: 'host',
    });
    expect(second?.video?.framesDecoded).toBeGreaterThan(first?.video?.framesDecoded ?? Number.POSITIVE_INFINITY);
    expect(second?.video).toMatchObject({ frameWidth: 160, frameHeight: 120 });
    expect(second?.audio?.packetsReceived).toBeGreaterThan(first?.audio?.packetsReceived ?? Number.POSITIVE_INFINITY);

    // Camera off: light off, Bo sees the flag and no more frames; on again: frames resume on the same track.
    const descriptionsBefore = descriptionsRelayed();
    const adaAtBo = remote(bo, ada);
    const remoteVideoTrack = adaAtBo.stream.getVideoTracks()[0];
    const states: string[] = [];
    adaAtBo.on('connection-state-changed', (state) => states.push(state));
    await ada.room.setVideoMuted(true);
    expect(ada.devices.liveTracks.map((track) => track.kind)).toEqual(['audio']);
    await until(() => adaAtBo.videoMuted, 'Bo sees the camera off');
    await sleep(300); // frames already in flight
    const framesWhenOff = probe(bo, ada).videoFrames;
    await sleep(700);
    expect(probe(bo, ada).videoFrames - framesWhenOff).toBeLessThanOrEqual(1);
    await ada.room.setVideoMuted(false);
    await until(() => !adaAtBo.videoMuted, 'Bo sees the camera on');
    await receivesMediaFrom(bo, ada, 'video after camera on');
    expect(adaAtBo.stream.getVideoTracks()).toEqual([remoteVideoTrack]);
    expect(descriptionsRelayed()).toBe(descriptionsBefore);
    expect(states).toEqual([]);

    // Bo leaves: Ada's connection to Bo is closed and Bo is gone from her room.
    const left = new Promise<string>((resolve) =>
      ada.room.once('participant-left', (_participant, reason) => resolve(reason)),
    );
    bo.room.leave();
    expect(await left).toBe('left');
    expect(ada.room.participants.size).toBe(0);
    expect(adaAtBo.connectionState).toBe('closed');
    for (const pc of createdPeerConnections) expect(pc.connectionState).toBe('closed');
  });

  it('three people, one receive-only: they receive everyone, start a camera later, and a camera switch keeps calls up', async () => {
    relay = await RelayServer.start();
    const ada = await join('Ada', { video: { devices: ['cam-1', 'cam-2'] } });
    const bo = await join('Bo');
    // Cy's camera is denied and there is no microphone: joins receive-only.
    const cy = await join('Cy', { video: { error: 'NotAllowedError' }, audio: { error: 'NotFoundError' } });
    expect([cy.room.localMedia.videoError, cy.room.localMedia.audioError]).toEqual(['denied', 'not-found']);
    await until(() => remote(ada, cy).videoMuted && remote(ada, cy).audioMuted, 'Ada sees Cy muted');

    await receivesMediaFrom(cy, ada);
    await receivesMediaFrom(cy, bo);
    await receivesMediaFrom(ada, bo);
    expect(remote(ada, cy).stream.getTracks()).toEqual([]); // Cy sends nothing
    expect(remote(ada, cy).connectionState).toBe('connected');

    // Cy's camera becomes available and Cy turns it on: a renegotiation adds it to both connections.
    cy.devices.behaviour.video = { devices: ['usb-cam'] };
    const offersBefore = relay.descriptions('offer', cy.room.participantId).length;
    await cy.room.setVideoMuted(false);
    await until(() => !remote(ada, cy).videoMuted, 'Ada sees Cy camera on');
    await until(() => probe(ada, cy).videoFrames >= 5 && probe(bo, cy).videoFrames >= 5, 'Cy video at Ada and Bo');
    expect(remote(ada, cy).stream.getVideoTracks()).toHaveLength(1);
    expect(relay.descriptions('offer', cy.room.participantId).length).toBeGreaterThan(offersBefore);

    // Ada switches camera: replaceTrack on both connections, no renegotiation, both still see her.
    const descriptionsBefore = descriptionsRelayed();
    const oldCamera = ada.room.localMedia.videoTrack;
    await ada.room.switchCamera('cam-2');
    expect(oldCamera?.readyState).toBe('ended');
    expect(ada.devices.liveTracks.filter((track) => track.kind === 'video')).toEqual([ada.room.localMedia.videoTrack]);
    await receivesMediaFrom(bo, ada, 'video from the new camera');
    await receivesMediaFrom(cy, ada, 'video from the new camera');
    expect(descriptionsRelayed()).toBe(descriptionsBefore);
    for (const viewer of [bo, cy]) expect(remote(viewer, ada).connectionState).toBe('connected');
  });
});
