import type { ParticipantInfo, ParticipantLeftReason, ServerMessage } from '@convene/protocol';
import { TypedEmitter } from './events.js';
import type { Logger } from './logger.js';

/** Why the server tells a client goodbye (the `bye` message). */
export type ByeReason = Extract<ServerMessage, { type: 'bye' }>['reason'];

export type ParticipantEvents = {
  /** Private, for the room: the participant went away on its own; the room tells the others. */
  '@close': [reason: ParticipantLeftReason];
  /** The room closed under the participant (e.g. shutdown); its owner tells the client why. */
  roomclose: [reason: ByeReason];
  /** The participant is gone, whatever the cause. Emitted once, after `@close` or `roomclose`. */
  close: [];
};

export interface ParticipantInit {
  readonly id: string;
  /** Kept for resuming after a dropped socket (a later issue); never sent to anyone else or logged. */
  readonly resumeToken: string;
  readonly name: string;
  readonly audioMuted: boolean;
  readonly videoMuted: boolean;
  /** Wall-clock milliseconds since the Unix epoch. */
  readonly joinedAt: number;
  /** Delivers one serialized frame to this participant's client. */
  readonly sink: (frame: string) => void;
  readonly logger: Logger;
}

export interface ParticipantChanges {
  readonly name?: string | undefined;
  readonly audioMuted?: boolean | undefined;
  readonly videoMuted?: boolean | undefined;
}

/**
 * A person in a room. It knows nothing about sockets: it delivers frames through `sink`.
 *
 * Close cascade (see room.ts): `close(reason)` is the participant leaving on its own; it emits
 * `@close` so the room removes it and tells the others. `roomClosed()` is the parent closing; it
 * tears the participant down without the room broadcasting anything.
 */
export class Participant extends TypedEmitter<ParticipantEvents> {
  readonly id: string;
  readonly resumeToken: string;
  readonly joinedAt: number;
  readonly logger: Logger;
  readonly #sink: (frame: string) => void;
  #name: string;
  #audioMuted: boolean;
  #videoMuted: boolean;
  #closed = false;

  constructor(init: ParticipantInit) {
    super(init.logger);
    this.id = init.id;
    this.resumeToken = init.resumeToken;
    this.joinedAt = init.joinedAt;
    this.logger = init.logger;
    this.#sink = init.sink;
    this.#name = init.name;
    this.#audioMuted = init.audioMuted;
    this.#videoMuted = init.videoMuted;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get name(): string {
    return this.#name;
  }

  /** What other participants see about this one. */
  info(): ParticipantInfo {
    return {
      id: this.id,
      name: this.#name,
      audioMuted: this.#audioMuted,
      videoMuted: this.#videoMuted,
      joinedAt: this.joinedAt,
    };
  }

  send(message: ServerMessage): void {
    this.sendFrame(JSON.stringify(message));
  }

  /** Sends an already serialized message (a broadcast serializes once for everyone). */
  sendFrame(frame: string): void {
    if (this.#closed) return;
    try {
      this.#sink(frame);
    } catch (error) {
      // One participant's broken socket must not stop a broadcast to the others.
      this.logger.warn({ err: error }, 'could not deliver a message');
    }
  }

  /** Applies the given fields; returns whether anything actually changed. */
  update(changes: ParticipantChanges): boolean {
    let changed = false;
    if (changes.name !== undefined && changes.name !== this.#name) {
      this.#name = changes.name;
      changed = true;
    }
    if (changes.audioMuted !== undefined && changes.audioMuted !== this.#audioMuted) {
      this.#audioMuted = changes.audioMuted;
      changed = true;
    }
    if (changes.videoMuted !== undefined && changes.videoMuted !== this.#videoMuted) {
      this.#videoMuted = changes.videoMuted;
      changed = true;
    }
    return changed;
  }

  /** The participant leaves (left, disconnected, unresponsive). Idempotent. */
  close(reason: ParticipantLeftReason): void {
    if (!this.#markClosed()) return;
    this.logger.debug({ reason }, 'participant closed');
    this.safeEmit('@close', reason);
    this.safeEmit('close');
    this.removeAllListeners();
  }

  /** Called by the room only: the room is closing, so nobody is told about this participant. */
  roomClosed(reason: ByeReason): void {
    if (!this.#markClosed()) return;
    this.logger.debug({ reason }, 'participant closed with its room');
    this.safeEmit('roomclose', reason);
    this.safeEmit('close');
    this.removeAllListeners();
  }

  /** The one place the closed state is set; false when it already was. */
  #markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    return true;
  }
}
