// A stand-in for Convene's signaling server, used ONLY to develop and smoke-test the harness
// while packages/server is being written (`--convene stub`). It speaks the protocol subset the
// benchmarks use (join → joined / participant-joined, signal relay within a room) and accepts
// the real CLI's flags. Numbers measured against it are never reported as Convene's.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({
  strict: false,
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'max-message-bytes': { type: 'string', default: String(64 * 1024) },
  },
});

const rooms = new Map(); // room name → Map<participantId, { ws, info }>
const server = http.createServer((_, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: Number(values['max-message-bytes']) });

wss.on('connection', (ws) => {
  let self = null;
  let room = null;
  ws.on('message', (data) => {
    let message;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return ws.send(JSON.stringify({ type: 'error', code: 'invalid_json', message: 'bad json' }));
    }
    if (message.type === 'join' && !self) {
      room = rooms.get(message.room) ?? new Map();
      rooms.set(message.room, room);
      self = { id: randomUUID(), name: message.name, audioMuted: false, videoMuted: false, joinedAt: Date.now() };
      const others = [...room.values()].map((entry) => entry.info);
      for (const other of room.values())
        other.ws.send(JSON.stringify({ type: 'participant-joined', participant: self }));
      room.set(self.id, { ws, info: self });
      ws.send(
        JSON.stringify({
          type: 'joined',
          id: message.id,
          version: 1,
          participantId: self.id,
          resumeToken: randomUUID(),
          iceServers: [],
          room: { name: message.room, mode: 'mesh', participants: others },
          self,
          limits: { maxMessageBytes: 65536, maxParticipants: 50 },
        }),
      );
    } else if (message.type === 'signal' && self) {
      const target = room.get(message.to);
      if (!target || (!message.data?.description && !message.data?.candidate)) {
        return ws.send(JSON.stringify({ type: 'error', code: 'unknown_participant', message: 'no such participant' }));
      }
      target.ws.send(JSON.stringify({ type: 'signal', from: self.id, data: message.data }));
    }
  });
  ws.on('close', () => {
    if (!self) return;
    room.delete(self.id);
    for (const other of room.values())
      other.ws.send(JSON.stringify({ type: 'participant-left', participantId: self.id, reason: 'left' }));
  });
});

server.listen(Number(values.port), values.host, () => {
  console.log(`convene stub listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
