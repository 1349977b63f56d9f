import { afterEach, describe, expect, it } from 'vitest';
import { MediaAccessError } from './errors.js';
import { LocalMedia, listDevices } from './media.js';
import {
  FakeMediaDevices,
  type FakeMediaDevicesOptions,
  FakeMediaStreamClass,
  type FakeMediaStreamTrack,
} from './test-support/fake-media.js';

const opened: LocalMedia[] = [];
async function open(
  devices: FakeMediaDevices,
  options: Parameters<typeof LocalMedia.open>[0] = {},
): Promise<LocalMedia> {
  const media = await LocalMedia.open({
    ...options,
    environment: { mediaDevices: devices, MediaStream: FakeMediaStreamClass },
  });
  opened.push(media);
  return media;
}
const devicesWith = (options: FakeMediaDevicesOptions) => new FakeMediaDevices(options);

afterEach(() => {
  for (const media of opened.splice(0)) media.close();
});

describe('LocalMedia.open', () => {
  it('gets camera and microphone in one request when both work', async () => {
    const devices = devicesWith({});
    const media = await open(devices);
    expect(devices.calls).toHaveLength(1);
    expect(media.audioTrack?.kind).toBe('audio');
    expect(media.videoTrack?.kind).toBe('video');
    expect([media.audioError, media.videoError]).toEqual([null, null]);
    expect([media.audioMuted, media.videoMuted]).toEqual([false, false]);
    expect([media.audioDeviceId, media.videoDeviceId]).toEqual(['mic-1', 'cam-1']);
    expect(media.previewStream.getTracks()).toEqual([media.audioTrack, media.videoTrack]);
  });

  const fallbackTable: [camera: string, microphone: string, videoError: string | null, audioError: string | null][] = [
    ['NotAllowedError', 'ok', 'denied', null],
    ['NotFoundError', 'ok', 'not-found', null],
    ['NotReadableError', 'ok', 'in-use', null],
    ['ok', 'NotAllowedError', null, 'denied'],
    ['OverconstrainedError', 'AbortError', 'not-found', 'in-use'],
    ['SecurityError', 'NotFoundError', 'denied', 'not-found'],
  ];
  it.each(fallbackTable)(
    'camera %s + microphone %s: joins with what works (video %s, audio %s)',
    async (camera, microphone, videoError, audioError) => {
      const behaviour = (name: string, device: string) => (name === 'ok' ? { devices: [device] } : { error: name });
      const devices = devicesWith({ video: behaviour(camera, 'cam-1'), audio: behaviour(microphone, 'mic-1') });
      const media = await open(devices);
      expect(media.videoError).toBe(videoError);
      expect(media.audioError).toBe(audioError);
      expect(media.videoTrack === null).toBe(videoError !== null);
      expect(media.audioTrack === null).toBe(audioError !== null);
      // A missing device counts as muted, so the others see it that way.
      expect(media.videoMuted).toBe(videoError !== null);
      expect(media.audioMuted).toBe(audioError !== null);
      // One combined request, then one per kind.
      expect(devices.calls).toHaveLength(3);
    },
  );

  it('without navigator.mediaDevices (insecure origin) it still opens, receive-only', async () => {
    const media = await LocalMedia.open({
      environment: { mediaDevices: undefined, MediaStream: FakeMediaStreamClass },
    });
    opened.push(media);
    expect([media.audioError, media.videoError]).toEqual(['insecure-context', 'insecure-context']);
    expect([media.audioTrack, media.videoTrack]).toEqual([null, null]);
    expect([media.audioMuted, media.videoMuted]).toEqual([true, true]);
  });

  it('asks only for what is wanted, and treats a remembered device id as a preference', async () => {
    const devices = devicesWith({ video: { devices: ['cam-1', 'cam-2'] } });
    const media = await open(devices, { audio: false, video: { deviceId: 'cam-gone' } });
    expect(devices.calls).toEqual([{ video: { deviceId: { ideal: 'cam-gone' } } }]);
    expect(media.audioTrack).toBeNull();
    expect(media.audioError).toBeNull(); // not asked, not failed
    expect(media.videoDeviceId).toBe('cam-1'); // the remembered camera is gone: another one is used
  });
});

describe('LocalMedia controls', () => {
  it('mute disables the microphone track without stopping it, and emits tracks-changed', async () => {
    const media = await open(devicesWith({}));
    let changes = 0;
    media.on('tracks-changed', () => changes++);
    const track = media.audioTrack;
    media.setAudioMuted(true);
    expect(media.audioTrack).toBe(track);
    expect(track?.enabled).toBe(false);
    expect(track?.readyState).toBe('live');
    expect(media.audioMuted).toBe(true);
    media.setAudioMuted(false);
    expect(track?.enabled).toBe(true);
    expect(changes).toBe(2);
  });

  it('camera off stops the track (light off); camera on acquires a new one', async () => {
    const devices = devicesWith({});
    const media = await open(devices);
    const first = media.videoTrack;
    await media.setVideoMuted(true);
    expect(first?.readyState).toBe('ended');
    expect(media.videoTrack).toBeNull();
    expect(media.videoMuted).toBe(true);
    expect(devices.liveTracks.map((track) => track.kind)).toEqual(['audio']);
    expect(media.previewStream.getVideoTracks()).toEqual([]);
    await media.setVideoMuted(false);
    expect(media.videoTrack).not.toBeNull();
    expect(media.videoTrack).not.toBe(first);
    expect(media.videoMuted).toBe(false);
    expect(media.previewStream.getVideoTracks()).toEqual([media.videoTrack]);
  });

  it('turning the camera on when it is now denied rejects with the reason and stays off', async () => {
    const devices = devicesWith({});
    const media = await open(devices);
    await media.setVideoMuted(true);
    devices.behaviour.video = { error: 'NotAllowedError' };
    const failure = media.setVideoMuted(false);
    await expect(failure).rejects.toBeInstanceOf(MediaAccessError);
    await expect(failure).rejects.toMatchObject({ kind: 'video', reason: 'denied' });
    expect(media.videoMuted).toBe(true);
    expect(media.videoError).toBe('denied');
  });

  it('a person who joined without a camera can start one later', async () => {
    const devices = devicesWith({ video: { error: 'NotFoundError' } });
    const media = await open(devices);
    expect(media.videoTrack).toBeNull();
    devices.behaviour.video = { devices: ['usb-cam'] };
    await media.setVideoMuted(false);
    expect(media.videoDeviceId).toBe('usb-cam');
    expect(media.videoError).toBeNull();
    expect(media.videoMuted).toBe(false);
  });

  it('switchCamera acquires the new camera first, then stops the old one', async () => {
    const devices = devicesWith({ video: { devices: ['cam-1', 'cam-2'] } });
    const media = await open(devices);
    const old = media.videoTrack;
    await media.switchCamera('cam-2');
    expect(media.videoDeviceId).toBe('cam-2');
    expect(old?.readyState).toBe('ended');
    expect(devices.liveTracks.filter((track) => track.kind === 'video')).toEqual([media.videoTrack]);
    expect(devices.calls.at(-1)).toEqual({ video: { deviceId: { exact: 'cam-2' } } });
  });

  it('switching to a camera that is gone keeps the current one', async () => {
    const devices = devicesWith({ video: { devices: ['cam-1'] } });
    const media = await open(devices);
    const current = media.videoTrack;
    await expect(media.switchCamera('cam-9')).rejects.toMatchObject({ reason: 'not-found' });
    expect(media.videoTrack).toBe(current);
    expect(current?.readyState).toBe('live');
    expect(media.videoDeviceId).toBe('cam-1');
  });

  it('with the camera off, switchCamera only remembers the choice (the light stays off)', async () => {
    const devices = devicesWith({ video: { devices: ['cam-1', 'cam-2'] } });
    const media = await open(devices);
    await media.setVideoMuted(true);
    const callsBefore = devices.calls.length;
    await media.switchCamera('cam-2');
    expect(devices.calls).toHaveLength(callsBefore);
    expect(media.videoTrack).toBeNull();
    await media.setVideoMuted(false);
    expect(media.videoDeviceId).toBe('cam-2');
  });

  it('switchMicrophone keeps the mute state on the new track', async () => {
    const devices = devicesWith({ audio: { devices: ['mic-1', 'mic-2'] } });
    const media = await open(devices);
    media.setAudioMuted(true);
    await media.switchMicrophone('mic-2');
    expect(media.audioDeviceId).toBe('mic-2');
    expect(media.audioTrack?.enabled).toBe(false);
    expect(media.audioMuted).toBe(true);
  });

  it('a device that disappears (track ended) is dropped and reported', async () => {
    const media = await open(devicesWith({}));
    let changes = 0;
    media.on('tracks-changed', () => changes++);
    (media.videoTrack as unknown as FakeMediaStreamTrack).simulateEnded();
    expect(media.videoTrack).toBeNull();
    expect(media.videoMuted).toBe(true);
    expect(media.videoError).toBe('not-found');
    expect(changes).toBe(1);
  });

  it('close() stops every track; later calls reject with closed', async () => {
    const devices = devicesWith({});
    const media = await open(devices);
    media.close();
    expect(devices.liveTracks).toEqual([]);
    expect([media.audioTrack, media.videoTrack]).toEqual([null, null]);
    await expect(media.setVideoMuted(false)).rejects.toMatchObject({ code: 'closed' });
  });

  it('rapid off/on/off requests apply in order', async () => {
    const devices = devicesWith({});
    const media = await open(devices);
    await Promise.all([media.setVideoMuted(true), media.setVideoMuted(false), media.setVideoMuted(true)]);
    expect(media.videoTrack).toBeNull();
    expect(devices.liveTracks.map((track) => track.kind)).toEqual(['audio']);
  });
});

describe('listDevices', () => {
  it('lists cameras and microphones only', async () => {
    const devices = devicesWith({ video: { devices: ['cam-1', 'cam-2'] }, audio: { devices: ['mic-1'] } });
    const list = await listDevices({ mediaDevices: devices });
    expect(list.cameras.map((device) => device.deviceId)).toEqual(['cam-1', 'cam-2']);
    expect(list.microphones.map((device) => device.deviceId)).toEqual(['mic-1']);
  });

  it('is empty without mediaDevices', async () => {
    expect(await listDevices({ mediaDevices: undefined })).toEqual({ cameras: [], microphones: [] });
  });
});
