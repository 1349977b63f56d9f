import type { ParticipantInfo, ParticipantLeftReason, RoomMode, ServerMessage } from '@convene/protocol';
import { TypedEmitter } from './events.js';
import type { Logger } from './logger.js';
import type { ByeReason, Participant } from './participant.js';

export type RoomEvents = {
  /** Private, for the registry: the room closed (emptied or shut down) and must be forgotten. */
  '@close': [];
  participantjoined: [participant: Participant];
  participantleft: [participant: Participant, reason: ParticipantLeftReason];
  close: [];
};

type RoomState = 'open' | 'closed';

/**
 * One meeting. Close cascade, Room → Participant:
 * - a participant closing (`Participant.close`) notifies its room through `@close`; the room
 *   forgets it, tells the others `participant-left`, and closes itself when it is empty;
 * - the room closing (`Room.close`) calls `roomClosed()` on every participant: they tear down
 *   without the room broadcasting anything (nobody is left to tell).
 */
export class Room extends TypedEmitter<RoomEvents> {
  readonly name: string;
  readonly mode: RoomMode = 'mesh';
  readonly maxParticipants: number;
  readonly logger: Logger;
  readonly #participants = new Map<string, Participant>();
  #state: RoomState = 'open';

  constructor(name: string, options: { maxParticipants: number; logger: Logger }) {
    const logger = options.logger.child({ room: name });
    super(logger);
    this.name = name;
    this.maxParticipants = options.maxParticipants;
    this.logger = logger;
  }

  get size(): number {
    return this.#participants.size;
  }

  get isFull(): boolean {
    return this.#participants.size >= this.maxParticipants;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  has(participantId: string): boolean {
    return this.#participants.has(participantId);
  }

  /** A participant of this room, or undefined: ids from other rooms are never found here. */
  getParticipant(participantId: string): Participant | undefined {
    return this.#participants.get(participantId);
  }

  participants(): IterableIterator<Participant> {
    return this.#participants.values();
  }

  /**
   * Adds a participant. The caller checks `isFull` first (and refuses the join with its own error).
   *
   * ORDER: everyone already here gets `participant-joined` BEFORE the newcomer is welcomed
   * (`welcome` sends `joined`). The newcomer starts negotiating as soon as it has `joined`; the
   * others must already know it, or its first offer would come from a stranger.
   */
  admit(participant: Participant, welcome: (others: ParticipantInfo[]) => void): void {
    if (this.#state === 'closed') throw new Error(`room ${this.name} is closed`);
    if (this.isFull) throw new Error(`room ${this.name} is full`);
    if (this.#participants.has(participant.id)) throw new Error('duplicate participant id');
    const others = [...this.#participants.values()].map((other) => other.info());
    this.broadcast({ type: 'participant-joined', participant: participant.info() });
    this.#participants.set(participant.id, participant);
    participant.on('@close', (reason) => this.#participantClosed(participant, reason));
    welcome(others);
    participant.logger.info({ participants: this.#participants.size }, 'participant joined');
    this.safeEmit('participantjoined', participant);
  }

  /** Sends one message to every participant except `except`; serialized once. */
  broadcast(message: ServerMessage, except?: Participant): void {
    if (this.#participants.size === 0) return;
    const frame = JSON.stringify(message);
    for (const participant of this.#participants.values()) {
      if (participant !== except) participant.sendFrame(frame);
    }
  }

  /** Closes the room and, silently, everyone in it. Idempotent. */
  close(reason: ByeReason): void {
    if (!this.#setState('closed')) return;
    this.logger.info({ reason, participants: this.#participants.size }, 'room closed');
    const participants = [...this.#participants.values()];
    this.#participants.clear();
    for (const participant of participants) participant.roomClosed(reason);
    this.#emitClosed();
  }

  #participantClosed(participant: Participant, reason: ParticipantLeftReason): void {
    if (this.#participants.get(participant.id) !== participant) return;
    this.#participants.delete(participant.id);
    participant.logger.info({ reason, participants: this.#participants.size }, 'participant left');
    this.broadcast({ type: 'participant-left', participantId: participant.id, reason });
    this.safeEmit('participantleft', participant, reason);
    this.closeIfEmpty();
  }

  /** Rooms exist only while someone is in them. Also used when a join fails after creating the room. */
  closeIfEmpty(): void {
    if (this.#participants.size === 0 && this.#setState('closed')) {
      this.logger.info('room closed (empty)');
      this.#emitClosed();
    }
  }

  #emitClosed(): void {
    this.safeEmit('@close');
    this.safeEmit('close');
    this.removeAllListeners();
  }

  /** The one setter for the room state: ignores no-op changes and logs transitions. */
  #setState(next: RoomState): boolean {
    if (this.#state === next) return false;
    this.logger.debug(`room ${this.#state} -> ${next}`);
    this.#state = next;
    return true;
  }
}

/** All open rooms by name. A room exists while it has participants. */
export class RoomRegistry {
  readonly #rooms = new Map<string, Room>();
  readonly #maxParticipants: number;
  readonly #logger: Logger;

  constructor(options: { maxParticipants: number; logger: Logger }) {
    this.#maxParticipants = options.maxParticipants;
    this.#logger = options.logger;
  }

  get size(): number {
    return this.#rooms.size;
  }

  get participantCount(): number {
    let count = 0;
    for (const room of this.#rooms.values()) count += room.size;
    return count;
  }

  get(name: string): Room | undefined {
    return this.#rooms.get(name);
  }

  /** The open room of that name, created (empty) if there is none. Add someone right away. */
  getOrCreate(name: string): Room {
    const existing = this.#rooms.get(name);
    if (existing) return existing;
    const room = new Room(name, { maxParticipants: this.#maxParticipants, logger: this.#logger });
    this.#rooms.set(name, room);
    room.on('@close', () => {
      if (this.#rooms.get(name) === room) this.#rooms.delete(name);
    });
    room.logger.info('room opened');
    return room;
  }

  /** Closes every room (shutdown). Each room is closed on its own: one failing does not stop the rest. */
  closeAll(reason: ByeReason): void {
    for (const room of [...this.#rooms.values()]) {
      try {
        room.close(reason);
      } catch (error) {
        room.logger.error({ err: error }, 'closing the room failed');
      }
    }
    this.#rooms.clear();
  }
}
