import { type ParticipantStats, type Room, setLogLevel } from '@convene/client';

/**
 * Test hook for the browser end-to-end tests. Installed only when the page sets
 * `window.__CONVENE_DEBUG__ = true` before the app loads; never exposed otherwise.
 */
export interface DebugParticipant {
  id: string;
  name: string;
  audioMuted: boolean;
  videoMuted: boolean;
}

export type DebugStats = ParticipantStats & { name: string; videoWidth: number; videoHeight: number };

export interface ConveneDebugHook {
  /** Remote participants of the current room, in join order ([] when not in a room). */
  participants(): DebugParticipant[];
  /** room.getStats(), each with the participant's name and the size of its rendered tile video. */
  stats(): Promise<DebugStats[]>;
  /** The current Room, or null when not in one. */
  room(): Room | null;
}

declare global {
  interface Window {
    __CONVENE_DEBUG__?: boolean;
    __convene?: ConveneDebugHook;
  }
}

let currentRoom: Room | null = null;

/** Called by the room session whenever it enters or leaves a room (cheap when the hook is off). */
export function setDebugRoom(room: Room | null): void {
  currentRoom = room;
}

/** The `<video>` of a participant's tile (tiles carry `data-participant-id`). */
export function tileVideo(participantId: string): HTMLVideoElement | null {
  return document.querySelector<HTMLVideoElement>(`[data-participant-id="${CSS.escape(participantId)}"] video`);
}

export function installDebugHook(): void {
  if (window.__CONVENE_DEBUG__ !== true) return;
  setLogLevel('debug'); // a failing browser test prints the SDK's negotiation steps
  window.__convene = {
    participants: () =>
      currentRoom
        ? [...currentRoom.participants.values()].map(({ id, name, audioMuted, videoMuted }) => ({
            id,
            name,
            audioMuted,
            videoMuted,
          }))
        : [],
    stats: async () => {
      const room = currentRoom;
      if (!room) return [];
      const stats = await room.getStats();
      return stats.map((entry) => {
        const video = tileVideo(entry.participantId);
        return {
          ...entry,
          name: room.participants.get(entry.participantId)?.name ?? '',
          videoWidth: video?.videoWidth ?? 0,
          videoHeight: video?.videoHeight ?? 0,
        };
      });
    },
    room: () => currentRoom,
  };
}
