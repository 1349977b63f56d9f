import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION, type ServerMessage } from '@convene/protocol';
import { afterEach } from 'vitest';
import WebSocket, { type ClientOptions } from 'ws';
import { type ConveneOptions, type ConveneServer, createConveneServer, createSilentLogger } from '../src/index.js';

export interface RunningServer {
  readonly server: ConveneServer;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** ws://127.0.0.1:<port>/ws */
  readonly wsUrl: string;
  readonly port: number;
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Everything a test opened is closed after it, even when it fails. */
afterEach(async () => {
  const pending = cleanups.splice(0).reverse();
  for (const cleanup of pending) await cleanup();
});

/** An empty directory to use as web root (no index.html) unless a test brings its own. */
export function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'convene-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A server on 127.0.0.1 and free ports (HTTP and TURN), with a silent logger; closed after the test. */
export async function startServer(options: ConveneOptions = {}): Promise<RunningServer> {
  const server = createConveneServer(
    {
      host: '127.0.0.1',
      port: 0,
      turnPort: 0,
      turnTlsPort: 0,
      webRoot: emptyDir(),
      shutdownTimeoutMs: 1000,
      ...options,
    },
    { logger: createSilentLogger() },
  );
  const { port, url } = await server.listen();
  cleanups.push(() => server.close());
  return { server, url, wsUrl: `ws://127.0.0.1:${port}/ws`, port };
}

export type Received = { readonly at: number; readonly client: string; readonly message: ServerMessage };

/** Every message any TestClient received, in arrival order (for ordering assertions across sockets). */
export const arrivals: Received[] = [];
afterEach(() => {
  arrivals.length = 0;
});

let nextRequestId = 1;

/** A real `ws` client with a queue of received messages to await. */
export class TestClient {
  readonly socket: WebSocket;
  readonly label: string;
  /** All messages received, in order (consumed or not). */
  readonly received: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  participantId = '';
  readonly #queue: ServerMessage[] = [];
  #waiters: { predicate: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];

  private constructor(socket: WebSocket, label: string) {
    this.socket = socket;
    this.label = label;
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('server sent a binary frame');
      const message = JSON.parse(String(data)) as ServerMessage;
      this.received.push(message);
      arrivals.push({ at: performance.now(), client: label, message });
      const index = this.#waiters.findIndex((w) => w.predicate(message));
      if (index >= 0) {
        const [waiter] = this.#waiters.splice(index, 1);
        waiter?.resolve(message);
      } else {
        this.#queue.push(message);
      }
    });
    socket.on('error', () => {
      // surfaced through `closed` / failed expectations
    });
  }

  static async connect(wsUrl: string, label = 'client', options: ClientOptions = {}): Promise<TestClient> {
    const socket = new WebSocket(wsUrl, options);
    const client = new TestClient(socket, label);
    cleanups.push(() => {
      if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Connects and joins; resolves once `joined` arrived. */
  static async joined(wsUrl: string, room: string, name: string, options: ClientOptions = {}): Promise<TestClient> {
    const client = await TestClient.connect(wsUrl, name, options);
    const reply = await client.join(room, name);
    if (reply.type !== 'joined') throw new Error(`join failed: ${JSON.stringify(reply)}`);
    return client;
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** Sends a request with a fresh id and returns that id. */
  request(message: Record<string, unknown>): number {
    const id = nextRequestId++;
    this.send({ ...message, id });
    return id;
  }

  /** Sends `join` and resolves with the reply to it (`joined` or `error`). */
  async join(room: string, name: string, extra: Record<string, unknown> = {}): Promise<ServerMessage> {
    const id = this.request({
      type: 'join',
      version: PROTOCOL_VERSION,
      room,
      name,
      audioMuted: false,
      videoMuted: false,
      ...extra,
    });
    const reply = await this.next((m) => 'id' in m && m.id === id);
    if (reply.type === 'joined') this.participantId = reply.participantId;
    return reply;
  }

  /** The next not-yet-consumed message matching `predicate` (default: any). */
  next(predicate: (m: ServerMessage) => boolean = () => true, timeoutMs = 2000): Promise<ServerMessage> {
    const index = this.#queue.findIndex(predicate);
    if (index >= 0) {
      const [message] = this.#queue.splice(index, 1);
      return Promise.resolve(message as ServerMessage);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (m: ServerMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(`${this.label}: no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** The next not-yet-consumed message of that type. */
  nextOfType<T extends ServerMessage['type']>(
    type: T,
    timeoutMs?: number,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    return this.next((m) => m.type === type, timeoutMs) as Promise<Extract<ServerMessage, { type: T }>>;
  }

  /** Messages received and not consumed by `next`. */
  get unconsumed(): readonly ServerMessage[] {
    return this.#queue;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** An HTTP request whose path is sent exactly as given (fetch would normalize `..` away). */
export function rawRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket and reports the HTTP status of a refused upgrade (or 101 when accepted). */
export function upgradeStatus(
  url: string,
  options: ClientOptions = {},
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      socket.terminate();
    });
    socket.on('upgrade', (res) => {
      resolve({ status: 101, headers: res.headers });
    });
    socket.on('open', () => socket.terminate());
    socket.on('error', (error) => {
      if (!String(error.message).includes('Unexpected server response')) reject(error);
    });
  });
}
