// Room lifecycle against the test relay (real WebSockets), with scripted peer connections: who is in
// the room, in which order, what each side is told, and how the room ends. Media is in room.wrtc.test.ts.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { ClientEnvironment } from './environment.js';
import type { ConveneError } from './errors.js';
import { LocalMedia } from './media.js';
import { type JoinOptions, Room } from './room.js';
import { FakeMediaDevices, type FakeMediaDevicesOptions, FakeMediaStreamClass } from './test-support/fake-media.js';
import { FakePeerConnection } from './test-support/fake-peer-connection.js';
import { captureLogs } from './test-support/logs.js';
import { RelayServer, unusedPort } from './test-support/relay-server.js';
import { until } from './test-support/wait.js';

const WebSocketCtor = WebSocket as unknown as ClientEnvironment['WebSocket']; // boundary: ws implements the browser API

let relay: RelayServer;
const rooms: Room[] = [];
let logs = captureLogs();

afterEach(async () => {
  for (const room of rooms.splice(0)) room.leave();
  await relay?.close();
  // A negotiation step or listener that failed quietly would show up here.
  expect(logs.records.filter((record) => record.level === 'error')).toEqual([]);
  logs.restore();
  logs = captureLogs();
});

function environment(devices: FakeMediaDevices): Partial<ClientEnvironment> {
  return {
    WebSocket: WebSocketCtor,
    RTCPeerConnection: FakePeerConnection as unknown as ClientEnvironment['RTCPeerConnection'],
    MediaStream: FakeMediaStreamClass,
    mediaDevices: devices,
    location: undefined,
  };
}

async function join(name: string, options: Partial<JoinOptions> & { devices?: FakeMediaDevicesOptions } = {}) {
  const devices = new FakeMediaDevices(options.devices);
  const env = environment(devices);
  const localMedia = await LocalMedia.open({ environment: env });
  const room = await Room.join({ url: relay.url, room: 'standup', name, localMedia, environment: env, ...options });
  rooms.push(room);
  return room;
}

describe('Room.join', () => {
  it('joins with the local mute state and sees the others in join order', async () => {
    relay = await RelayServer.start();
    const ada = await join('Ada');
    const bo = await join('Bo', { devices: { video: { error: 'NotAllowedError' } } });
    const seenByAda: string[] = [];
    ada.on('participant-joined', (participant) => seenByAda.push(participant.name));
    const cy = await join('Cy');

    expect(cy.state).toBe('connected');
    expect(cy.localName).toBe('Cy');
    expect(cy.name).toBe('standup');
    expect([...cy.participants.values()].map((participant) => participant.name)).toEqual(['Ada', 'Bo']);
    const boAsSeenByCy = [...cy.participants.values()][1];
    expect(boAsSeenByCy).toMatchObject({ id: bo.participantId, audioMuted: false, videoMuted: true });
    await until(() => seenByAda.length === 1);
    expect(seenByAda).toEqual(['Cy']);
    expect([...ada.participants.keys()]).toEqual([bo.participantId, cy.participantId]);
  });

  it.each([
    ['room_full', { maxParticipants: 1 }, 'standup'],
    ['invalid_room_name', {}, 'Not A Room!'],
  ])('a refused join rejects with %s and leaves nothing open', async (code, relayOptions, roomName) => {
    relay = await RelayServer.start(relayOptions);
    if (code === 'room_full') await join('Ada');
    await expect(join('Bo', { room: roomName })).rejects.toMatchObject({ code, name: 'ConveneError' });
  });

  it('nothing listening: server_unreachable', async () => {
    relay = await RelayServer.start();
    const url = `ws://127.0.0.1:${await unusedPort()}/ws`;
    await expect(join('Ada', { url })).rejects.toMatchObject({ code: 'server_unreachable' });
  });

  it('a server that never answers the join: join_timeout, and the socket is closed', async () => {
    relay = await RelayServer.start();
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
    const closes: number[] = [];
    silent.on('connection', (socket) => socket.on('close', (code) => closes.push(code)));
    try {
      const url = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/ws`;
      const started = Date.now();
      await expect(join('Ada', { url, joinTimeoutMs: 200 })).rejects.toMatchObject({ code: 'join_timeout' });
      expect(Date.now() - started).toBeLessThan(1500);
      await until(() => closes.length === 1);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('Room events', () => {
  it('muting is announced: the others see participant-updated with the new flags', async () => {
    relay = await RelayServer.start();
    const ada = await join('Ada');
    const bo = await join('Bo');
    const adaAsSeenByBo = bo.participants.get(ada.participantId);
    let updates = 0;
    adaAsSeenByBo?.on('updated', () => updates++);
    const roomUpdates: boolean[] = [];
    bo.on('participant-updated', (participant) => roomUpdates.push(participant.audioMuted));

    await ada.setAudioMuted(true);
    expect(ada.localMedia.audioTrack?.enabled).toBe(false);
    await until(() => adaAsSeenByBo?.audioMuted === true);
    await ada.setVideoMuted(true);
    await until(() => adaAsSeenByBo?.videoMuted === true);
    expect(updates).toBe(2);
    expect(roomUpdates).toEqual([true, true]);
  });

  it('leave(): closed(null) once, the others see participant-left "left", nothing stays subscribed', async () => {
    relay = await RelayServer.start();
    const ada = await join('Ada');
    const bo = await join('Bo');
    const left: [string, string][] = [];
    ada.on('participant-left', (participant, reason) => left.push([participant.name, reason]));
    const boAsSeenByAda = ada.participants.get(bo.participantId);
    const closed: (ConveneError | null)[] = [];
    const states: string[] = [];
    bo.on('closed', (reason) => closed.push(reason));
    bo.on('state-changed', (state, previous) => states.push(`${previous}->${state}`));

    bo.leave();
    bo.leave();
    expect(bo.state).toBe('closed');
    expect(closed).toEqual([null]);
    expect(states).toEqual(['connected->closed']);
    expect(bo.participants.size).toBe(0);
    expect(bo.localMedia.listenerCount('tracks-changed')).toBe(0);
    // The caller owns the camera: leaving does not stop it.
    expect(bo.localMedia.videoTrack?.readyState).toBe('live');
    await expect(bo.setAudioMuted(true)).rejects.toMatchObject({ code: 'closed' });

    await until(() => left.length === 1);
    expect(left).toEqual([['Bo', 'left']]);
    expect(ada.participants.size).toBe(0);
    expect(boAsSeenByAda?.connectionState).toBe('closed');
    expect(boAsSeenByAda?.stream.getTracks()).toEqual([]);
    expect(await ada.getStats()).toEqual([]);
  });

  it('someone whose connection drops is reported as disconnected', async () => {
    relay = await RelayServer.start();
    const ada = await join('Ada');
    const bo = await join('Bo');
    const reasons: string[] = [];
    ada.on('participant-left', (_participant, reason) => reasons.push(reason));
    relay.dropConnection(bo.participantId);
    await until(() => reasons.length === 1);
    expect(reasons).toEqual(['disconnected']);
  });

  it('renewed ICE servers (ice-servers) reach every peer connection and the ones made later', async () => {
    relay = await RelayServer.start();
    const ada = await join('Ada');
    const before = FakePeerConnection.instances.length;
    await join('Bo');
    await until(() => FakePeerConnection.instances.length === before + 2); // Ada→Bo and Bo→Ada
    const fresh = [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: '2000000000:ada', credential: 'fresh' }];
    relay.sendTo(ada.participantId, { type: 'ice-servers', iceServers: fresh });
    const updated = () => FakePeerConnection.instances.filter((pc) => pc.calls.includes('setConfiguration'));
    await until(() => updated().length === 1); // Ada's only; Bo got nothing
    expect(updated()[0]?.getConfiguration().iceServers).toEqual(fresh);
    await join('Cy');
    await until(() => FakePeerConnection.instances.length === before + 6);
    // Ada's connection to the newcomer uses the renewed servers from the start.
    const created = FakePeerConnection.instances.slice(before + 2);
    expect(created.filter((pc) => JSON.stringify(pc.configuration?.iceServers) === JSON.stringify(fresh))).toHaveLength(
      1,
    );
  });

  it('server shutdown (bye): closed with shutting_down', async () => {
    relay = await RelayServer.start();
    const ada = await join('Ada');
    await join('Bo');
    const reasons: (ConveneError | null)[] = [];
    ada.on('closed', (reason) => reasons.push(reason));
    relay.shutdown();
    await until(() => reasons.length === 1);
    expect(reasons[0]?.code).toBe('shutting_down');
    expect(ada.state).toBe('closed');
    expect(ada.participants.size).toBe(0);
    for (const pc of FakePeerConnection.instances) expect(pc.signalingState).toBe('closed');
  });

  it('our own socket dropping without a close frame: closed with connection_lost', async () => {
    relay = await RelayServer.start();
    const ada = await join('Ada');
    const reasons: (ConveneError | null)[] = [];
    ada.on('closed', (reason) => reasons.push(reason));
    relay.dropConnection(ada.participantId);
    await until(() => reasons.length === 1);
    expect(reasons[0]?.code).toBe('connection_lost');
  });
});
