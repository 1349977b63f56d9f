import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { StreamFramer } from '../server/channel-data.js';
import { readUint16 } from '../stun/bytes.js';
import { isStunMessage } from '../stun/message.js';
import { readAnswer } from './turn-client.js';

/**
 * A real client socket to a TURN server for integration tests: UDP, TCP or TLS. Requests are
 * matched to answers by transaction id; everything else (Data indications, ChannelData) queues
 * up for `nextData`.
 */
export class TurnTestSocket {
  private readonly waiting = new Map<string, (bytes: Uint8Array) => void>();
  private readonly data: Uint8Array[] = [];
  private dataWaiter: ((bytes: Uint8Array) => void) | undefined;
  /** The client's own address, as the server sees it. */
  localPort = 0;

  /** Stops reading from a TCP/TLS socket (as a stalled client would); no-op for UDP. */
  pauseReading: () => void = () => {};

  private constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly end: () => void,
  ) {}

  static async udp(port: number, host = '127.0.0.1'): Promise<TurnTestSocket> {
    const socket: UdpSocket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const client = new TurnTestSocket(
      (bytes) => socket.send(bytes, port, host),
      () => socket.close(),
    );
    client.localPort = socket.address().port;
    socket.on('message', (bytes: Buffer) => client.receive(new Uint8Array(bytes)));
    return client;
  }

  static async stream(port: number, tls = false, host = '127.0.0.1'): Promise<TurnTestSocket> {
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = tls
        ? connectTls({ port, host, rejectUnauthorized: false }, () => resolve(s))
        : connectTcp({ port, host }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new TurnTestSocket(
      (bytes) => socket.write(bytes),
      () => socket.destroy(),
    );
    client.localPort = socket.localPort ?? 0;
    client.pauseReading = () => socket.pause();
    const framer = new StreamFramer((message) => client.receive(message));
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', () => {});
    return client;
  }

  /** Sends a request and resolves with the answer carrying its transaction id (or null on timeout). */
  async exchange(bytes: Uint8Array, timeoutMs = 2000): Promise<ReturnType<typeof readAnswer> | null> {
    const id = Buffer.from(bytes.subarray(8, 20)).toString('hex');
    const answer = new Promise<Uint8Array | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(id, (answerBytes) => {
        clearTimeout(timer);
        resolve(answerBytes);
      });
    });
    this.write(bytes);
    const received = await answer;
    return received && readAnswer(received);
  }

  send(bytes: Uint8Array): void {
    this.write(bytes);
  }

  /** The next Data indication or ChannelData that arrived (or null after `timeoutMs`). */
  nextData(timeoutMs = 2000): Promise<Uint8Array | null> {
    const queued = this.data.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.dataWaiter = undefined;
        resolve(null);
      }, timeoutMs);
      this.dataWaiter = (bytes) => {
        clearTimeout(timer);
        resolve(bytes);
      };
    });
  }

  close(): void {
    this.end();
  }

  private receive(bytes: Uint8Array): void {
    const isAnswer = isStunMessage(bytes) && (readUint16(bytes, 0) & 0x0110) !== 0x0010;
    if (isAnswer) {
      const id = Buffer.from(bytes.subarray(8, 20)).toString('hex');
      const waiter = this.waiting.get(id);
      this.waiting.delete(id);
      waiter?.(bytes);
      return;
    }
    const waiter = this.dataWaiter;
    this.dataWaiter = undefined;
    if (waiter) waiter(bytes);
    else this.data.push(bytes);
  }
}
