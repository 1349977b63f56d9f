import type { LocalMedia } from '@convene/client';
import { useEffect, useId, useState } from 'preact/hooks';
import { type DeviceKind, DevicePicker } from '../components/DevicePicker';
import { Icon } from '../components/Icons';
import { Page } from '../components/Page';
import { StreamVideo } from '../components/VideoTile';
import { useDevices } from '../hooks/use-devices';
import { useEventVersion } from '../hooks/use-events';
import { type MessageKey, useI18n } from '../i18n';
import type { Navigate } from '../navigation';

/** The words for a camera/microphone that could not start; the user can still join. */
function mediaNotices(media: LocalMedia | null): MessageKey[] {
  const notices: MessageKey[] = [];
  if (media?.videoError) notices.push(`media.camera.${media.videoError}`);
  if (media?.audioError) notices.push(`media.microphone.${media.audioError}`);
  return notices;
}

/** Preview, devices and name before joining. The same LocalMedia is handed to the room. */
export function PreJoin({
  navigate,
  roomName,
  media,
  initialName,
  joining,
  onSwitchDevice,
  onJoin,
}: {
  navigate: Navigate;
  roomName: string;
  /** null while the camera and microphone are (re)opening. */
  media: LocalMedia | null;
  initialName: string;
  joining: boolean;
  onSwitchDevice: (kind: DeviceKind, deviceId: string) => void;
  onJoin: (name: string) => void;
}) {
  const { t } = useI18n();
  const nameId = useId();
  const nameErrorId = useId();
  const [name, setName] = useState(initialName);
  const [nameMissing, setNameMissing] = useState(false);
  useEventVersion(media, ['tracks-changed']);
  const devices = useDevices(media);

  useEffect(() => {
    document.title = t('room.documentTitle', { room: roomName });
  }, [roomName, t]);

  const onSubmit = (event: Event) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (trimmed === '') {
      setNameMissing(true);
      return;
    }
    onJoin(trimmed);
  };

  const showVideo = media !== null && media.videoTrack !== null && !media.videoMuted;
  const notices = mediaNotices(media);

  return (
    <Page navigate={navigate}>
      <section class="prejoin">
        <div class="preview">
          {media && (
            <StreamVideo stream={media.previewStream} muted mirror hidden={!showVideo} label={t('prejoin.preview')} />
          )}
          {!showVideo && (
            <div class="preview-placeholder">
              <Icon name="video-off" />
              <span>{media ? t('tile.cameraOff') : t('prejoin.startingCamera')}</span>
            </div>
          )}
        </div>
        <form class="card prejoin-form" onSubmit={onSubmit} noValidate>
          <h1>{t('prejoin.title')}</h1>
          <p class="prejoin-room">{t('prejoin.roomIs', { room: roomName })}</p>
          {notices.length > 0 && (
            <div class="notice" role="status">
              {notices.map((key) => (
                <p key={key}>{t(key)}</p>
              ))}
            </div>
          )}
          <DevicePicker
            kind="camera"
            devices={devices.cameras}
            value={media?.videoDeviceId ?? null}
            disabled={media === null || joining}
            onChange={(deviceId) => onSwitchDevice('camera', deviceId)}
          />
          <DevicePicker
            kind="microphone"
            devices={devices.microphones}
            value={media?.audioDeviceId ?? null}
            disabled={media === null || joining}
            onChange={(deviceId) => onSwitchDevice('microphone', deviceId)}
          />
          <div class="field">
            <label for={nameId}>{t('prejoin.nameLabel')}</label>
            <input
              id={nameId}
              type="text"
              value={name}
              maxLength={64}
              autoComplete="name"
              placeholder={t('prejoin.namePlaceholder')}
              aria-invalid={nameMissing}
              aria-describedby={nameMissing ? nameErrorId : undefined}
              onInput={(event) => {
                setName(event.currentTarget.value);
                setNameMissing(false);
              }}
            />
            {nameMissing && (
              <p id={nameErrorId} class="field-error" role="alert">
                {t('prejoin.nameRequired')}
              </p>
            )}
          </div>
          <button type="submit" class="button primary large" disabled={media === null || joining}>
            {joining ? t('prejoin.joining') : t('prejoin.join')}
          </button>
        </form>
      </section>
    </Page>
  );
}
