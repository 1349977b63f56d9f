import { LocalMedia, Room } from '@convene/client';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { DeviceKind } from '../components/DevicePicker';
import { setDebugRoom } from '../debug-hook';
import { MEDIA_FAILURE } from '../errors';
import { useI18n } from '../i18n';
import type { Navigate } from '../navigation';
import { loadSetting, saveSetting } from '../storage';
import { ErrorScreen } from './ErrorScreen';
import { InRoom } from './InRoom';
import { Left } from './Left';
import { MessagePage } from './Message';
import { PreJoin } from './PreJoin';

type Phase =
  | { readonly kind: 'prejoin'; readonly joining: boolean }
  | { readonly kind: 'rejoining' }
  | { readonly kind: 'in-room'; readonly room: Room }
  | { readonly kind: 'left' }
  | { readonly kind: 'error'; readonly error: unknown; readonly during: 'join' | 'call' };

interface MediaChoice {
  camera: string | null;
  microphone: string | null;
  audioMuted: boolean;
  videoMuted: boolean;
}

/**
 * One visit to `/r/<room>`: pre-join → in the room → left (or an error), and back again.
 * Owns the LocalMedia (opened for the preview, handed to Room.join, closed when the call ends so
 * the camera light goes off) and the Room (left on "Leave", on pagehide and on unmount).
 */
export function RoomSession({ roomName, relay, navigate }: { roomName: string; relay: boolean; navigate: Navigate }) {
  const { t } = useI18n();
  const [phase, setPhase] = useState<Phase>({ kind: 'prejoin', joining: false });
  const [media, setMedia] = useState<LocalMedia | null>(null);
  const [name, setName] = useState(() => loadSetting('name') ?? '');
  const mediaRef = useRef<LocalMedia | null>(null);
  const roomRef = useRef<Room | null>(null);
  const openCount = useRef(0);
  const disposed = useRef(false);
  const choice = useRef<MediaChoice>({ camera: null, microphone: null, audioMuted: false, videoMuted: false });

  const closeMedia = useCallback(() => {
    openCount.current++; // an open still in flight is closed as soon as it resolves
    mediaRef.current?.close();
    mediaRef.current = null;
    setMedia(null);
  }, []);

  /** Remembers devices and mute choices (for "Rejoin"), then closes the media: the camera light goes off. */
  const putMediaAway = useCallback(() => {
    const current = mediaRef.current;
    if (current) {
      choice.current = {
        camera: current.videoDeviceId,
        microphone: current.audioDeviceId,
        audioMuted: current.audioMuted && current.audioError === null,
        videoMuted: current.videoMuted && current.videoError === null,
      };
    }
    closeMedia();
  }, [closeMedia]);

  /** Opens camera + microphone (the chosen devices, if any). Resolves null if superseded. */
  const openMedia = useCallback(async (): Promise<LocalMedia | null> => {
    closeMedia();
    const ticket = ++openCount.current;
    const { camera, microphone } = choice.current;
    let opened: LocalMedia;
    try {
      opened = await LocalMedia.open({
        video: camera ? { deviceId: camera } : true,
        audio: microphone ? { deviceId: microphone } : true,
      });
    } catch {
      // open() records denied/missing devices itself; anything else: try to join receive-only.
      try {
        opened = await LocalMedia.open({ video: false, audio: false });
      } catch {
        if (ticket === openCount.current && !disposed.current) {
          setPhase({ kind: 'error', error: MEDIA_FAILURE, during: 'join' });
        }
        return null;
      }
    }
    if (ticket !== openCount.current || disposed.current) {
      opened.close();
      return null;
    }
    mediaRef.current = opened;
    setMedia(opened);
    return opened;
  }, [closeMedia]);

  /** Stops listening to the room, leaves it, and turns the camera off. */
  const endCall = useCallback(
    (room: Room | null) => {
      if (room && roomRef.current === room) {
        roomRef.current = null;
        setDebugRoom(null);
        room.leave();
      }
      putMediaAway();
    },
    [putMediaAway],
  );

  const join = useCallback(
    async (displayName: string, localMedia: LocalMedia) => {
      try {
        const room = await Room.join({
          room: roomName,
          name: displayName,
          localMedia,
          ...(relay ? { iceTransportPolicy: 'relay' as const } : {}),
        });
        if (disposed.current || mediaRef.current !== localMedia) {
          room.leave();
          return;
        }
        roomRef.current = room;
        setDebugRoom(room);
        room.once('closed', (reason) => {
          if (roomRef.current !== room) return; // we left on purpose
          endCall(room);
          setPhase(reason ? { kind: 'error', error: reason, during: 'call' } : { kind: 'left' });
        });
        setPhase({ kind: 'in-room', room });
      } catch (error) {
        if (disposed.current) return;
        putMediaAway();
        setPhase({ kind: 'error', error, during: 'join' });
      }
    },
    [roomName, relay, endCall, putMediaAway],
  );

  const joinFromPreJoin = (displayName: string) => {
    const localMedia = mediaRef.current;
    if (!localMedia) return;
    setName(displayName);
    saveSetting('name', displayName);
    setPhase({ kind: 'prejoin', joining: true });
    void join(displayName, localMedia);
  };

  /** Rejoin straight away with the same name, devices and mute choices. */
  const rejoin = async () => {
    setPhase({ kind: 'rejoining' });
    const { audioMuted, videoMuted } = choice.current;
    const localMedia = await openMedia();
    if (!localMedia) return;
    if (audioMuted) localMedia.setAudioMuted(true);
    if (videoMuted) await localMedia.setVideoMuted(true).catch(() => {});
    await join(name, localMedia);
  };

  const leave = () => {
    endCall(roomRef.current);
    setPhase({ kind: 'left' });
  };

  /** Pre-join device change: the preview switches to that device (re-opened if switching fails). */
  const switchDevice = async (kind: DeviceKind, deviceId: string) => {
    const current = mediaRef.current;
    if (kind === 'camera') choice.current.camera = deviceId;
    else choice.current.microphone = deviceId;
    try {
      if (!current) throw new Error('no local media yet');
      await (kind === 'camera' ? current.switchCamera(deviceId) : current.switchMicrophone(deviceId));
    } catch {
      if (mediaRef.current === current) await openMedia();
    }
  };

  // The preview opens on arrival; a prejoin screen never shows without media being opened.
  useEffect(() => {
    void openMedia();
  }, []);

  // Others should see us vanish as soon as the tab goes away, not after a timeout.
  useEffect(() => {
    const onPageHide = () => {
      const room = roomRef.current;
      if (!room) return;
      endCall(room);
      setPhase({ kind: 'left' });
    };
    window.addEventListener('pagehide', onPageHide);
    return () => window.removeEventListener('pagehide', onPageHide);
  }, [endCall]);

  // Navigating away (e.g. the browser's back button) ends everything.
  useEffect(
    () => () => {
      disposed.current = true;
      endCall(roomRef.current);
    },
    [endCall],
  );

  switch (phase.kind) {
    case 'prejoin':
      return (
        <PreJoin
          navigate={navigate}
          roomName={roomName}
          media={media}
          initialName={name}
          joining={phase.joining}
          onSwitchDevice={switchDevice}
          onJoin={joinFromPreJoin}
        />
      );
    case 'rejoining':
      return (
        <MessagePage navigate={navigate} title={t('room.joining')}>
          <div class="spinner" aria-hidden="true" />
        </MessagePage>
      );
    case 'in-room':
      return <InRoom room={phase.room} onLeave={leave} />;
    case 'left':
      return <Left navigate={navigate} onRejoin={rejoin} />;
    case 'error':
      return <ErrorScreen navigate={navigate} error={phase.error} during={phase.during} onRetry={rejoin} />;
  }
}
