/** What a person would notice about one remote participant's media, read from RTCPeerConnection.getStats(). */
export interface ParticipantStats {
  participantId: string;
  connectionState: RTCPeerConnectionState;
  /** Of the selected candidate pair. */
  localCandidateType: RTCIceCandidateType | null;
  remoteCandidateType: RTCIceCandidateType | null;
  video: { framesDecoded: number; frameWidth: number; frameHeight: number; bytesReceived: number } | null;
  audio: { packetsReceived: number; bytesReceived: number } | null;
}

/** A stats entry read loosely: browsers differ in which fields exist, so every field is checked. */
type StatsEntry = Record<string, unknown> & { id: string; type: string };

const CANDIDATE_TYPES: ReadonlySet<string> = new Set(['host', 'srflx', 'prflx', 'relay']);

export function summarizeStats(
  participantId: string,
  connectionState: RTCPeerConnectionState,
  report: RTCStatsReport,
): ParticipantStats {
  const entries = new Map<string, StatsEntry>();
  report.forEach((value: unknown) => {
    const entry = value as StatsEntry; // the report's values are stats dictionaries (boundary cast)
    entries.set(entry.id, entry);
  });
  const all = [...entries.values()];

  // The busiest inbound stream of each kind (a mesh connection has at most one of each).
  const inbound = (kind: string): StatsEntry | undefined =>
    all
      .filter((entry) => entry.type === 'inbound-rtp' && (entry.kind ?? entry.mediaType) === kind)
      .sort((a, b) => num(b.bytesReceived) - num(a.bytesReceived))[0];
  const video = inbound('video');
  const audio = inbound('audio');

  const pair = selectedCandidatePair(all, entries);
  const candidateType = (id: unknown): RTCIceCandidateType | null => {
    const type = typeof id === 'string' ? entries.get(id)?.candidateType : undefined;
    return typeof type === 'string' && CANDIDATE_TYPES.has(type) ? (type as RTCIceCandidateType) : null;
  };

  return {
    participantId,
    connectionState,
    localCandidateType: candidateType(pair?.localCandidateId),
    remoteCandidateType: candidateType(pair?.remoteCandidateId),
    video: video
      ? {
          framesDecoded: num(video.framesDecoded),
          frameWidth: num(video.frameWidth),
          frameHeight: num(video.frameHeight),
          bytesReceived: num(video.bytesReceived),
        }
      : null,
    audio: audio ? { packetsReceived: num(audio.packetsReceived), bytesReceived: num(audio.bytesReceived) } : null,
  };
}

/**
 * The candidate pair in use. Standard: the transport's selectedCandidatePairId. Firefox has no
 * transport entry and marks the pair `selected`; as a last resort, a nominated succeeded pair.
 */
function selectedCandidatePair(all: StatsEntry[], byId: Map<string, StatsEntry>): StatsEntry | undefined {
  for (const entry of all) {
    if (entry.type === 'transport' && typeof entry.selectedCandidatePairId === 'string') {
      const pair = byId.get(entry.selectedCandidatePairId);
      if (pair) return pair;
    }
  }
  const pairs = all.filter((entry) => entry.type === 'candidate-pair');
  return (
    pairs.find((pair) => pair.selected === true) ??
    pairs.find((pair) => pair.nominated === true && pair.state === 'succeeded')
  );
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
