// A deliberately small WebSocket client for load generation (RFC 6455, client side only).
//
// Why not `ws`: on a 2-core machine the load generator must stay much cheaper than the server it
// measures. This client sends prebuilt frames (one memcpy and one write per message), masks with
// the all-zero key (valid on the wire; the server still runs its unmasking code, so the server's
// cost is what it is with a browser), never converts payloads to strings unless asked, offers no
// extensions (no permessage-deflate), answers pings with pongs, and disables Nagle like browsers.
import { randomBytes } from 'node:crypto';
import net from 'node:net';

const EMPTY = Buffer.alloc(0);

/** Bytes of the client→server frame header (FIN+text, masked, 0-mask key) for a payload of `length`. */
export function frameHeaderLength(length) {
  if (length < 126) return 2 + 4;
  if (length < 65536) return 4 + 4;
  return 10 + 4;
}

/** A complete masked text frame around `payload` (a Buffer), with an all-zero masking key. */
export function buildFrame(payload, opcode = 0x1) {
  const length = payload.length;
  const headerLength = frameHeaderLength(length);
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  frame.fill(0, headerLength - 4, headerLength); // masking key 0,0,0,0: payload bytes stay as they are
  payload.copy(frame, headerLength);
  return frame;
}

export class RawWebSocket {
  /**
   * @param {net.Socket} socket an upgraded socket
   * @param {Buffer} head bytes that followed the HTTP response
   */
  constructor(socket, head) {
    this.socket = socket;
    this.pending = EMPTY;
    this.fragments = null;
    this.closed = false;
    /** (payload: Buffer, receivedAt: number) => void; receivedAt is hrtime-µs, once per read */
    this.onMessage = () => {};
    this.onClose = () => {};
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('close', () => {
      if (!this.closed) {
        this.closed = true;
        this.onClose();
      }
    });
    socket.on('error', () => {}); // 'close' follows
    // Bytes that came with the 101 response: parse them once the caller has set onMessage.
    if (head.length > 0) setImmediate(() => this.receive(head));
  }

  /** Sends a prebuilt frame (from buildFrame); the caller must not modify it afterwards. */
  sendFrame(frame) {
    if (!this.closed) this.socket.write(frame);
  }

  sendText(text) {
    this.sendFrame(buildFrame(Buffer.from(text)));
  }

  close() {
    if (this.closed) return;
    this.sendFrame(buildFrame(Buffer.from([0x03, 0xe8]), 0x8));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy() {
    this.socket.destroy();
  }

  receive(chunk) {
    const receivedAt = nowUs();
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    const end = data.length;
    while (end - offset >= 2) {
      const b0 = data[offset];
      const b1 = data[offset + 1];
      let length = b1 & 0x7f;
      let headerLength = 2;
      if (length === 126) {
        if (end - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        headerLength = 4;
      } else if (length === 127) {
        if (end - offset < 10) break;
        length = data.readUInt32BE(offset + 2) * 2 ** 32 + data.readUInt32BE(offset + 6);
        headerLength = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      if (masked) headerLength += 4;
      if (end - offset < headerLength + length) break;
      let payload = data.subarray(offset + headerLength, offset + headerLength + length);
      if (masked) {
        const key = data.subarray(offset + headerLength - 4, offset + headerLength);
        payload = Buffer.from(payload);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      offset += headerLength + length;
      this.frame(b0 & 0x80, b0 & 0x0f, payload, receivedAt);
      if (this.closed) return;
    }
    if (offset === end) {
      this.pending = EMPTY;
    } else {
      // Keep only the unread tail; copy it so the big read buffer can be freed.
      data = offset === 0 && data !== chunk ? data : Buffer.from(data.subarray(offset));
      this.pending = data;
    }
  }

  frame(fin, opcode, payload, receivedAt) {
    switch (opcode) {
      case 0x1:
      case 0x2:
        if (fin) this.onMessage(payload, receivedAt);
        else this.fragments = [Buffer.from(payload)];
        return;
      case 0x0:
        if (!this.fragments) return;
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = null;
          this.onMessage(whole, receivedAt);
        }
        return;
      case 0x8:
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeReason = payload.subarray(2).toString();
        this.sendFrame(buildFrame(payload.subarray(0, 2), 0x8));
        this.closed = true;
        this.socket.end();
        this.onClose();
        return;
      case 0x9:
        this.sendFrame(buildFrame(payload, 0xa));
        return;
      default:
        return; // pong and reserved opcodes
    }
  }
}

/** Monotonic microseconds (CLOCK_MONOTONIC): comparable across processes of this machine. */
export function nowUs() {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e6 + Math.floor(nanoseconds / 1000);
}

/** Opens a WebSocket to a ws:// URL. Resolves once the server answered 101. */
export function connect(url, { timeoutMs = 15_000 } = {}) {
  const target = new URL(url);
  const port = Number(target.port || 80);
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.hostname, port });
    socket.setNoDelay(true);
    let response = EMPTY;
    const timer = setTimeout(() => fail(new Error(`WebSocket handshake timed out: ${url}`)), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const onData = (chunk) => {
      response = Buffer.concat([response, chunk]);
      const headerEnd = response.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      socket.off('data', onData);
      socket.off('error', fail);
      clearTimeout(timer);
      const head = response.subarray(0, headerEnd).toString('latin1');
      if (!/^HTTP\/1\.1 101/.test(head)) {
        socket.destroy();
        reject(new Error(`WebSocket upgrade refused by ${url}: ${head.split('\r\n')[0]}`));
        return;
      }
      resolve(new RawWebSocket(socket, response.subarray(headerEnd + 4)));
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('connect', () => {
      socket.write(
        `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          `Origin: http://${target.host}\r\n\r\n`,
      );
    });
  });
}
