// A tiny signaling server for tests: join/joined, participant-joined/left/updated, signal relay,
// leave, bye; per the protocol package. Not the real server (packages/server), only its contract.
import { type AddressInfo, createServer } from 'node:net';
import {
  ErrorCode,
  isValidRoomName,
  type ParticipantInfo,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
  type SignalData,
} from '@convene/protocol';
import { type WebSocket, WebSocketServer } from 'ws';

export interface RelayedSignal {
  from: string;
  to: string;
  kind: 'offer' | 'answer' | 'pranswer' | 'rollback' | 'candidate' | 'end-of-candidates';
}

interface Member {
  socket: WebSocket;
  info: ParticipantInfo;
  room: string;
}

export interface RelayOptions {
  maxParticipants?: number;
}

export class RelayServer {
  /** Every signal the relay forwarded (or holds), in arrival order. */
  readonly signals: RelayedSignal[] = [];
  private readonly rooms = new Map<string, Map<string, Member>>();
  private readonly held: { to: string; message: ServerMessage }[] = [];
  private holding = false;
  private nextId = 1;

  private constructor(
    private readonly server: WebSocketServer,
    readonly url: string,
    private readonly options: RelayOptions,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(options: RelayOptions = {}): Promise<RelayServer> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    return new RelayServer(server, `ws://127.0.0.1:${port}/ws`, options);
  }

  /** While holding, signals are recorded but not delivered: lets a test make two offers cross. */
  holdSignals(): void {
    this.holding = true;
  }

  releaseSignals(): void {
    this.holding = false;
    for (const { to, message } of this.held.splice(0)) this.deliver(to, message);
  }

  descriptions(kind: 'offer' | 'answer', from?: string): RelayedSignal[] {
    return this.signals.filter((signal) => signal.kind === kind && (from === undefined || signal.from === from));
  }

  /** What a server restart looks like to clients: bye, then close 1001. */
  shutdown(): void {
    for (const room of this.rooms.values()) {
      for (const member of room.values()) {
        send(member.socket, { type: 'bye', reason: 'shutdown' });
        member.socket.close(1001, 'shutdown');
      }
    }
  }

  /** Sends a server message to one participant, as the real server does with `ice-servers`. */
  sendTo(participantId: string, message: ServerMessage): void {
    for (const room of this.rooms.values()) {
      const member = room.get(participantId);
      if (member) send(member.socket, message);
    }
  }

  /** Drops a participant's socket without a close frame, like a network failure. */
  dropConnection(participantId: string): void {
    for (const room of this.rooms.values()) room.get(participantId)?.socket.terminate();
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket): void {
    let self: Member | null = null;
    socket.on('message', (raw, isBinary) => {
      const parsed = parseClientMessage(isBinary ? '' : raw.toString());
      if (!parsed.ok) {
        send(socket, {
          type: 'error',
          code: parsed.code,
          message: parsed.message,
          ...(parsed.id !== undefined && { id: parsed.id }),
        });
        return;
      }
      const message = parsed.message;
      if (message.type === 'join') {
        const refuse = (code: ErrorCode, text: string): void => {
          send(socket, { type: 'error', id: message.id, code, message: text });
          socket.close(4004, code);
        };
        if (self)
          return send(socket, {
            type: 'error',
            id: message.id,
            code: ErrorCode.AlreadyJoined,
            message: 'already joined',
          });
        if (message.version !== PROTOCOL_VERSION) return refuse(ErrorCode.UnsupportedVersion, 'unsupported version');
        if (!isValidRoomName(message.room)) return refuse(ErrorCode.InvalidRoomName, 'invalid room name');
        const room = this.rooms.get(message.room) ?? new Map<string, Member>();
        if (room.size >= (this.options.maxParticipants ?? 50)) return refuse(ErrorCode.RoomFull, 'room is full');
        this.rooms.set(message.room, room);
        const info: ParticipantInfo = {
          id: `p${this.nextId++}`,
          name: message.name,
          audioMuted: message.audioMuted,
          videoMuted: message.videoMuted,
          joinedAt: Date.now(),
        };
        const others = [...room.values()];
        self = { socket, info, room: message.room };
        room.set(info.id, self);
        // Others learn of the newcomer before the newcomer gets `joined` (as the real server does).
        for (const other of others) send(other.socket, { type: 'participant-joined', participant: info });
        send(socket, {
          type: 'joined',
          id: message.id,
          version: PROTOCOL_VERSION,
          participantId: info.id,
          resumeToken: `resume-${info.id}`,
          iceServers: [],
          room: { name: message.room, mode: 'mesh', participants: others.map((other) => other.info) },
          self: info,
          limits: { maxMessageBytes: 65536, maxParticipants: this.options.maxParticipants ?? 50 },
        });
        return;
      }
      if (!self) {
        const id = 'id' in message ? message.id : undefined;
        return send(socket, {
          type: 'error',
          code: ErrorCode.NotJoined,
          message: 'join first',
          ...(id !== undefined && { id }),
        });
      }
      const member = self;
      switch (message.type) {
        case 'update': {
          member.info = {
            ...member.info,
            ...(message.name !== undefined && { name: message.name }),
            ...(message.audioMuted !== undefined && { audioMuted: message.audioMuted }),
            ...(message.videoMuted !== undefined && { videoMuted: message.videoMuted }),
          };
          send(socket, { type: 'ok', id: message.id });
          this.broadcast(member, { type: 'participant-updated', participant: member.info });
          return;
        }
        case 'signal': {
          const target = this.rooms.get(member.room)?.get(message.to);
          if (!target || target === member) {
            send(socket, { type: 'error', code: ErrorCode.UnknownParticipant, message: `no ${message.to} here` });
            return;
          }
          this.signals.push({ from: member.info.id, to: message.to, kind: signalKind(message.data) });
          const relayed: ServerMessage = { type: 'signal', from: member.info.id, data: message.data };
          if (this.holding) this.held.push({ to: message.to, message: relayed });
          else this.deliver(message.to, relayed);
          return;
        }
        case 'leave':
          this.remove(member, 'left');
          socket.close(1000, 'left');
          return;
      }
    });
    socket.on('close', () => {
      if (self) this.remove(self, 'disconnected');
    });
  }

  private deliver(to: string, message: ServerMessage): void {
    for (const room of this.rooms.values()) {
      const target = room.get(to);
      if (target) send(target.socket, message);
    }
  }

  private broadcast(from: Member, message: ServerMessage): void {
    for (const other of this.rooms.get(from.room)?.values() ?? []) {
      if (other !== from) send(other.socket, message);
    }
  }

  private remove(member: Member, reason: 'left' | 'disconnected'): void {
    const room = this.rooms.get(member.room);
    if (!room?.delete(member.info.id)) return;
    this.broadcast(member, { type: 'participant-left', participantId: member.info.id, reason });
  }
}

function send(socket: WebSocket, message: ServerMessage): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

function signalKind(data: SignalData): RelayedSignal['kind'] {
  if ('description' in data) return data.description.type;
  return data.candidate === null ? 'end-of-candidates' : 'candidate';
}

/** A free TCP port on loopback (for "nothing listens here" tests). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
