import { describe, expect, it } from 'vitest';
import { summarizeStats } from './stats.js';

const report = (entries: Record<string, unknown>[]): RTCStatsReport =>
  new Map(entries.map((entry) => [entry.id as string, entry])) as unknown as RTCStatsReport;

const media = [
  {
    id: 'v',
    type: 'inbound-rtp',
    kind: 'video',
    framesDecoded: 42,
    frameWidth: 320,
    frameHeight: 240,
    bytesReceived: 9000,
  },
  { id: 'a', type: 'inbound-rtp', kind: 'audio', packetsReceived: 150, bytesReceived: 4000 },
  { id: 'out', type: 'outbound-rtp', kind: 'video', bytesSent: 1 },
];
const candidates = [
  { id: 'l-host', type: 'local-candidate', candidateType: 'host' },
  { id: 'r-host', type: 'remote-candidate', candidateType: 'host' },
  { id: 'l-relay', type: 'local-candidate', candidateType: 'relay' },
  { id: 'r-srflx', type: 'remote-candidate', candidateType: 'srflx' },
];

describe('summarizeStats', () => {
  it('Chrome: reads the pair named by the transport, and inbound video/audio counters', () => {
    const stats = summarizeStats(
      'p2',
      'connected',
      report([
        ...media,
        ...candidates,
        {
          id: 'pair-host',
          type: 'candidate-pair',
          localCandidateId: 'l-host',
          remoteCandidateId: 'r-host',
          nominated: true,
          state: 'succeeded',
        },
        {
          id: 'pair-relay',
          type: 'candidate-pair',
          localCandidateId: 'l-relay',
          remoteCandidateId: 'r-srflx',
          nominated: false,
          state: 'succeeded',
        },
        { id: 't', type: 'transport', selectedCandidatePairId: 'pair-relay' },
      ]),
    );
    expect(stats).toEqual({
      participantId: 'p2',
      connectionState: 'connected',
      localCandidateType: 'relay',
      remoteCandidateType: 'srflx',
      video: { framesDecoded: 42, frameWidth: 320, frameHeight: 240, bytesReceived: 9000 },
      audio: { packetsReceived: 150, bytesReceived: 4000 },
    });
  });

  it('Firefox: no transport entry, the pair marked selected wins over a nominated one', () => {
    const stats = summarizeStats(
      'p2',
      'connected',
      report([
        ...candidates,
        {
          id: 'pair-host',
          type: 'candidate-pair',
          localCandidateId: 'l-host',
          remoteCandidateId: 'r-host',
          nominated: true,
          state: 'succeeded',
        },
        {
          id: 'pair-relay',
          type: 'candidate-pair',
          localCandidateId: 'l-relay',
          remoteCandidateId: 'r-srflx',
          selected: true,
          state: 'succeeded',
        },
      ]),
    );
    expect([stats.localCandidateType, stats.remoteCandidateType]).toEqual(['relay', 'srflx']);
  });

  it('falls back to the nominated succeeded pair', () => {
    const stats = summarizeStats(
      'p2',
      'connected',
      report([
        ...candidates,
        {
          id: 'pair-failed',
          type: 'candidate-pair',
          localCandidateId: 'l-relay',
          remoteCandidateId: 'r-srflx',
          nominated: true,
          state: 'failed',
        },
        {
          id: 'pair-host',
          type: 'candidate-pair',
          localCandidateId: 'l-host',
          remoteCandidateId: 'r-host',
          nominated: true,
          state: 'succeeded',
        },
      ]),
    );
    expect([stats.localCandidateType, stats.remoteCandidateType]).toEqual(['host', 'host']);
  });

  it('before media flows: nulls, and zeros for fields a browser has not filled yet', () => {
    expect(summarizeStats('p2', 'connecting', report([]))).toMatchObject({
      localCandidateType: null,
      remoteCandidateType: null,
      video: null,
      audio: null,
    });
    const early = summarizeStats(
      'p2',
      'connected',
      report([{ id: 'v', type: 'inbound-rtp', mediaType: 'video', bytesReceived: 10 }]),
    );
    expect(early.video).toEqual({ framesDecoded: 0, frameWidth: 0, frameHeight: 0, bytesReceived: 10 });
  });
});
