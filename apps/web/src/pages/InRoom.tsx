import type { RemoteParticipant, Room } from '@convene/client';
import { useEffect } from 'preact/hooks';
import { Controls } from '../components/Controls';
import { Icon } from '../components/Icons';
import { LanguageSelect } from '../components/LanguageSelect';
import { Toasts } from '../components/Toasts';
import { RemoteTile, VideoTile } from '../components/VideoTile';
import { gridShape } from '../grid';
import { useEventVersion } from '../hooks/use-events';
import { useToasts } from '../hooks/use-toasts';
import { useI18n } from '../i18n';
import { roomPath } from '../navigation';

/** The meeting: a tile per participant (self first), the controls, and join/leave announcements. */
export function InRoom({ room, onLeave }: { room: Room; onLeave: () => void }) {
  const { t } = useI18n();
  useEventVersion(room, ['participant-joined', 'participant-left', 'participant-updated', 'state-changed']);
  useEventVersion(room.localMedia, ['tracks-changed']);
  const [toasts, notify] = useToasts();

  useEffect(() => {
    const onJoined = (participant: RemoteParticipant) => notify(t('toast.joined', { name: participant.name }));
    const onLeft = (participant: RemoteParticipant) => notify(t('toast.left', { name: participant.name }));
    room.on('participant-joined', onJoined);
    room.on('participant-left', onLeft);
    return () => {
      room.off('participant-joined', onJoined);
      room.off('participant-left', onLeft);
    };
  }, [room, notify, t]);

  useEffect(() => {
    document.title = t('room.documentTitle', { room: room.name });
  }, [room, t]);

  const media = room.localMedia;
  const remotes = [...room.participants.values()];
  const shape = gridShape(remotes.length + 1);
  const gridStyle = {
    '--cols': String(shape.cols),
    '--rows': String(shape.rows),
    '--narrow-cols': String(shape.narrowCols),
    '--narrow-rows': String(shape.narrowRows),
  };

  return (
    <div class="meeting">
      <header class="meeting-header">
        <div class="meeting-title">
          <h1 class="room-name">{room.name}</h1>
          <span class="people-count">
            <Icon name="people" />
            <span aria-hidden="true">{remotes.length + 1}</span>
            <span class="sr-only">{t('room.people', { count: remotes.length + 1 })}</span>
          </span>
        </div>
        <LanguageSelect />
      </header>
      {room.state === 'connecting' && (
        <p class="banner" role="status">
          {t('room.reconnecting')}
        </p>
      )}
      <main class="grid" style={gridStyle}>
        <VideoTile
          participantId={room.participantId}
          self
          name={room.localName}
          stream={media.previewStream}
          audioMuted={media.audioMuted}
          videoMuted={media.videoMuted}
          showVideo={media.videoTrack !== null && !media.videoMuted}
          reconnecting={false}
        />
        {remotes.map((participant) => (
          <RemoteTile key={participant.id} participant={participant} />
        ))}
      </main>
      <Controls
        room={room}
        roomUrl={`${window.location.origin}${roomPath(room.name)}`}
        onLeave={onLeave}
        notify={notify}
      />
      <Toasts toasts={toasts} />
    </div>
  );
}
