import { restPassword } from '../auth/rest-credentials.js';
import type { StunAddress } from '../stun/attributes.js';
import { newTransactionId, StunMessageBuilder } from '../stun/builder.js';
import { AttributeType, StunClass, StunMethod, TRANSPORT_UDP } from '../stun/constants.js';
import { longTermKey } from '../stun/integrity.js';
import { decodeStunMessage, type StunMessage } from '../stun/message.js';

/**
 * Builds TURN client requests for tests, the way a browser does: first without credentials,
 * then with USERNAME/REALM/NONCE and MESSAGE-INTEGRITY once challenged. Sans-IO: it only makes
 * and reads bytes; each test moves them over its own transport (fake output or real sockets).
 */
export class TestTurnClient {
  realm: string;
  nonce = '';
  readonly key: Uint8Array;

  constructor(
    readonly username: string,
    password: string,
    realm: string,
  ) {
    this.realm = realm;
    this.key = longTermKey(username, realm, password);
  }

  /** A client with TURN REST credentials for `userId`, valid `ttlSeconds` from `nowMs`. */
  static rest(secret: string, userId: string, realm: string, nowMs: number, ttlSeconds = 300): TestTurnClient {
    const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${userId}`;
    return new TestTurnClient(username, restPassword(secret, username), realm);
  }

  /** Remembers REALM and NONCE from a 401/438. */
  learn(response: StunMessage): void {
    if (response.nonce) this.nonce = response.nonce;
    if (response.realm) this.realm = response.realm;
  }

  request(
    method: number,
    fill?: (builder: StunMessageBuilder) => void,
    transactionId = newTransactionId(),
  ): Uint8Array {
    const builder = new StunMessageBuilder(StunClass.Request, method, transactionId);
    fill?.(builder);
    return builder.build({ fingerprint: true });
  }

  /** A signed request (USERNAME, REALM, NONCE, MESSAGE-INTEGRITY, FINGERPRINT). */
  signed(method: number, fill?: (builder: StunMessageBuilder) => void, transactionId = newTransactionId()): Uint8Array {
    const builder = new StunMessageBuilder(StunClass.Request, method, transactionId);
    fill?.(builder);
    builder.username(this.username).realm(this.realm).nonce(this.nonce);
    return builder.build({ integrityKey: this.key, fingerprint: true });
  }

  /** Allocate a UDP relay, IPv4 unless `family` asks for IPv6 (REQUESTED-ADDRESS-FAMILY). */
  allocate(transactionId?: Uint8Array, family: 'IPv4' | 'IPv6' = 'IPv4'): Uint8Array {
    return this.signed(
      StunMethod.Allocate,
      (b) => {
        b.requestedTransport(TRANSPORT_UDP);
        if (family === 'IPv6') b.add(AttributeType.RequestedAddressFamily, Uint8Array.of(0x02, 0, 0, 0));
      },
      transactionId,
    );
  }

  refresh(lifetime?: number): Uint8Array {
    return this.signed(StunMethod.Refresh, (b) => {
      if (lifetime !== undefined) b.lifetime(lifetime);
    });
  }

  createPermission(...peers: StunAddress[]): Uint8Array {
    return this.signed(StunMethod.CreatePermission, (b) => {
      for (const peer of peers) b.xorPeerAddress(peer);
    });
  }

  channelBind(channel: number, peer: StunAddress): Uint8Array {
    return this.signed(StunMethod.ChannelBind, (b) => b.channelNumber(channel).xorPeerAddress(peer));
  }

  send(peer: StunAddress, data: Uint8Array): Uint8Array {
    return new StunMessageBuilder(StunClass.Indication, StunMethod.Send, newTransactionId())
      .xorPeerAddress(peer)
      .data(data)
      .build({ fingerprint: true });
  }
}

/** Decodes a server answer; the error code (or 0 for success) is the usual thing to assert. */
export function readAnswer(bytes: Uint8Array): { message: StunMessage; code: number } {
  const message = decodeStunMessage(bytes);
  return { message, code: message.cls === StunClass.ErrorResponse ? (message.errorCode?.code ?? -1) : 0 };
}

export { AttributeType, StunMethod };
