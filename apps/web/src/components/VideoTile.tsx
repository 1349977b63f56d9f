import type { RemoteParticipant } from '@convene/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useEventVersion } from '../hooks/use-events';
import { useI18n } from '../i18n';
import { Icon } from './Icons';

function trackIds(stream: MediaStream): string {
  return stream
    .getTracks()
    .map((track) => track.id)
    .join(',');
}

const PICTURE_EVENTS = ['loadeddata', 'resize', 'playing', 'emptied'] as const;

/**
 * A `<video>` showing `stream`; re-attached when its set of tracks changes. `onPicture` says
 * whether a frame is on screen (so a tile can show the initial until the first frame arrives).
 */
export function StreamVideo({
  stream,
  muted,
  mirror,
  hidden,
  label,
  onPicture,
}: {
  stream: MediaStream;
  muted: boolean;
  mirror: boolean;
  hidden?: boolean;
  label?: string;
  onPicture?: (hasPicture: boolean) => void;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  const onPictureRef = useRef(onPicture);
  onPictureRef.current = onPicture;
  const trackKey = trackIds(stream);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    const update = () => onPictureRef.current?.(video.videoWidth > 0 && video.readyState >= video.HAVE_CURRENT_DATA);
    for (const event of PICTURE_EVENTS) video.addEventListener(event, update);
    return () => {
      for (const event of PICTURE_EVENTS) video.removeEventListener(event, update);
      video.srcObject = null;
    };
  }, []);

  // Re-attach when the stream's set of tracks changes.
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    if (video.srcObject === stream) video.srcObject = null;
    video.srcObject = stream;
    onPictureRef.current?.(false);
    video.play().catch(() => {
      // Autoplay refused or interrupted by the next attach; the `autoplay` attribute retries.
    });
  }, [stream, trackKey]);

  useEffect(() => {
    if (ref.current) ref.current.muted = muted;
  }, [muted]);

  return (
    <video
      ref={ref}
      class={`tile-video${mirror ? ' mirror' : ''}${hidden ? ' is-hidden' : ''}`}
      autoPlay
      playsInline
      muted={muted}
      aria-label={label}
    />
  );
}

function initial(name: string): string {
  return Array.from(name.trim())[0]?.toUpperCase() ?? '?';
}

function hue(name: string): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return hash % 360;
}

export interface VideoTileProps {
  participantId: string;
  self: boolean;
  name: string;
  stream: MediaStream;
  audioMuted: boolean;
  /** Their camera is off (by choice or because there is none). */
  videoMuted: boolean;
  /** There is a live video track to show; until its first frame (and whenever false) the initial is shown. */
  showVideo: boolean;
  reconnecting: boolean;
}

/** One participant: video (or their initial), name, and mute / camera / connection indicators. */
export function VideoTile(props: VideoTileProps) {
  const { participantId, self, name, stream, audioMuted, videoMuted, reconnecting } = props;
  const { t } = useI18n();
  const [hasPicture, setHasPicture] = useState(false);
  const showVideo = props.showVideo && hasPicture;
  return (
    <figure
      class={`tile${showVideo ? '' : ' no-video'}`}
      data-participant-id={participantId}
      data-self={self ? '' : undefined}
    >
      <StreamVideo stream={stream} muted={self} mirror={self} hidden={!showVideo} onPicture={setHasPicture} />
      {!showVideo && (
        <div class="avatar" aria-hidden="true">
          <span class="avatar-initial" style={{ backgroundColor: `hsl(${hue(name)} 45% 38%)` }}>
            {initial(name)}
          </span>
        </div>
      )}
      <div class="tile-badges">
        {reconnecting && (
          <span class="badge warn">
            <Icon name="alert" />
            <span class="badge-text">{t('tile.reconnecting')}</span>
          </span>
        )}
        {videoMuted && (
          <span class="badge">
            <Icon name="video-off" />
            <span class="badge-text">{t('tile.cameraOff')}</span>
          </span>
        )}
        {audioMuted && (
          <span class="badge danger">
            <Icon name="mic-off" />
            <span class="badge-text">{t('tile.micMuted')}</span>
          </span>
        )}
      </div>
      <figcaption class="tile-caption">
        <span class="tile-name">{name}</span>
        {self && <span class="you">{t('tile.you')}</span>}
      </figcaption>
    </figure>
  );
}

/** A remote participant's tile, re-rendered live from its own events. */
export function RemoteTile({ participant }: { participant: RemoteParticipant }) {
  useEventVersion(participant, ['updated', 'stream-changed', 'connection-state-changed']);
  const { connectionState, stream } = participant;
  const hasVideo = stream.getVideoTracks().some((track) => track.readyState === 'live');
  return (
    <VideoTile
      participantId={participant.id}
      self={false}
      name={participant.name}
      stream={stream}
      audioMuted={participant.audioMuted}
      videoMuted={participant.videoMuted}
      showVideo={hasVideo && !participant.videoMuted}
      reconnecting={connectionState === 'failed' || connectionState === 'disconnected'}
    />
  );
}
