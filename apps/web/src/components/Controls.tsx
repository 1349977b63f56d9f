import type { Room } from '@convene/client';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useDevices } from '../hooks/use-devices';
import { useEventVersion } from '../hooks/use-events';
import { useI18n } from '../i18n';
import { DevicePicker } from './DevicePicker';
import { Icon } from './Icons';

/** Copies `text`, falling back to a hidden textarea where the Clipboard API is unavailable (plain http). */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const focused = document.activeElement;
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
    area.remove();
    if (focused instanceof HTMLElement) focused.focus();
    return copied;
  }
}

/** The bar under the grid: mute, video, copy link, device settings, leave. */
export function Controls({
  room,
  roomUrl,
  onLeave,
  notify,
}: {
  room: Room;
  roomUrl: string;
  onLeave: () => void;
  notify: (text: string) => void;
}) {
  const { t } = useI18n();
  useEventVersion(room.localMedia, ['tracks-changed']);
  const media = room.localMedia;
  const [videoBusy, setVideoBusy] = useState(false);
  const hasMicrophone = media.audioTrack !== null;

  const toggleAudio = () => {
    room.setAudioMuted(!media.audioMuted).catch(() => notify(t('error.generic')));
  };

  const toggleVideo = async () => {
    setVideoBusy(true);
    try {
      await room.setVideoMuted(!media.videoMuted);
    } catch {
      notify(t('controls.cameraFailed'));
    } finally {
      setVideoBusy(false);
    }
  };

  const copyLink = async () => {
    notify((await copyText(roomUrl)) ? t('controls.linkCopied') : t('controls.copyFailed', { url: roomUrl }));
  };

  return (
    <div class="controls" role="toolbar" aria-label={t('controls.label')}>
      <button
        type="button"
        class={`control${media.audioMuted ? ' off' : ''}`}
        aria-pressed={media.audioMuted}
        disabled={!hasMicrophone}
        title={hasMicrophone ? undefined : t('controls.noMicrophone')}
        onClick={toggleAudio}
      >
        <Icon name={media.audioMuted ? 'mic-off' : 'mic'} />
        <span class="control-label">{media.audioMuted ? t('controls.unmute') : t('controls.mute')}</span>
      </button>
      <button
        type="button"
        class={`control${media.videoMuted ? ' off' : ''}`}
        aria-pressed={media.videoMuted}
        disabled={videoBusy}
        onClick={toggleVideo}
      >
        <Icon name={media.videoMuted ? 'video-off' : 'video'} />
        <span class="control-label">{media.videoMuted ? t('controls.startVideo') : t('controls.stopVideo')}</span>
      </button>
      <button type="button" class="control" onClick={copyLink}>
        <Icon name="link" />
        <span class="control-label">{t('controls.copyLink')}</span>
      </button>
      <Settings room={room} notify={notify} />
      <button type="button" class="control leave" onClick={onLeave}>
        <Icon name="leave" />
        <span class="control-label">{t('controls.leave')}</span>
      </button>
    </div>
  );
}

/** "Settings" button and its popover with the Camera / Microphone pickers; switching keeps the call up. */
function Settings({ room, notify }: { room: Room; notify: (text: string) => void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const media = room.localMedia;
  const devices = useDevices(`${open} ${media.videoDeviceId} ${media.audioDeviceId}`);

  useEffect(() => {
    if (!open) return;
    root.current?.querySelector<HTMLElement>('.settings-panel select:not(:disabled)')?.focus();
    const onPointerDown = (event: PointerEvent) => {
      if (event.target instanceof Node && !root.current?.contains(event.target)) setOpen(false);
    };
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setOpen(false);
      button.current?.focus();
    };
    document.addEventListener('pointerdown', onPointerDown);
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown);
      document.removeEventListener('keydown', onKeyDown);
    };
  }, [open]);

  const switchTo = (kind: 'camera' | 'microphone', deviceId: string) => {
    const switching = kind === 'camera' ? room.switchCamera(deviceId) : room.switchMicrophone(deviceId);
    switching.catch(() => notify(t('controls.switchFailed')));
  };

  return (
    <div class="settings" ref={root}>
      <button
        ref={button}
        type="button"
        class="control"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen(!open)}
      >
        <Icon name="settings" />
        <span class="control-label">{t('controls.settings')}</span>
      </button>
      {open && (
        <fieldset id={panelId} class="settings-panel">
          <legend>{t('controls.settingsTitle')}</legend>
          <DevicePicker
            kind="camera"
            devices={devices.cameras}
            value={media.videoDeviceId}
            onChange={(deviceId) => switchTo('camera', deviceId)}
          />
          <DevicePicker
            kind="microphone"
            devices={devices.microphones}
            value={media.audioDeviceId}
            onChange={(deviceId) => switchTo('microphone', deviceId)}
          />
        </fieldset>
      )}
    </div>
  );
}
