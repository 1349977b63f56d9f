import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { PeerAddressPolicy } from '../policy/peer-address-policy.js';
import type { StunAddress } from '../stun/attributes.js';
import { StunMessageBuilder } from '../stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../stun/constants.js';
import { verifyMessageIntegrity } from '../stun/integrity.js';
import { decodeStunMessage } from '../stun/message.js';
import { readAnswer, TestTurnClient } from '../test-support/turn-client.js';
import type { ClientLink, RelayHandle } from './allocation.js';
import { RestSecretAuthenticator } from './authenticator.js';
import { decodeChannelData, encodeChannelData } from './channel-data.js';
import { type TurnCoreLimits, type TurnCoreOutput, TurnServerCore } from './core.js';

const SECRET = 'north-wind';
const REALM = 'convene.test';
const START = 1_800_000_000_000; // ms; REST expiries are unix seconds, so the clock is wall-clock-like
const UDP: ClientLink = { id: 1, transport: 'udp', local: { family: 'IPv4', address: '203.0.113.10', port: 3478 } };
const TCP: ClientLink = { id: 2, transport: 'tcp', local: { family: 'IPv4', address: '203.0.113.10', port: 3478 } };
const ALICE: StunAddress = { family: 'IPv4', address: '198.51.100.7', port: 40000 };
const PEER: StunAddress = { family: 'IPv4', address: '8.8.8.8', port: 5000 };
const PEER_OTHER_PORT: StunAddress = { family: 'IPv4', address: '8.8.8.8', port: 5001 };
const STRANGER: StunAddress = { family: 'IPv4', address: '9.9.9.9', port: 5000 };

interface Sent {
  link: ClientLink;
  client: StunAddress;
  bytes: Uint8Array;
}

/** Records what the core asks for; opens relays at once unless told to hold them. */
class Harness implements TurnCoreOutput {
  now = START;
  toClient: Sent[] = [];
  toPeer: { relay: RelayHandle; peer: StunAddress; bytes: Uint8Array }[] = [];
  opened: number[] = [];
  closedRelays: number[] = [];
  holdRelays = false;
  pending: number[] = [];
  private nextRelay = 100;
  readonly core: TurnServerCore;

  constructor(limits: Partial<TurnCoreLimits> = {}) {
    this.core = new TurnServerCore(this, {
      realm: REALM,
      authenticator: new RestSecretAuthenticator(SECRET),
      peerPolicy: new PeerAddressPolicy({
        ownAddresses: ['203.0.113.10'],
        ownPorts: [3478],
        ownRelayPorts: { min: 50000, max: 59999 },
      }),
      clock: () => this.now,
      limits,
      nonceSecret: new Uint8Array(32).fill(7),
    });
  }

  sendToClient(link: ClientLink, client: StunAddress, bytes: Uint8Array, payload?: Uint8Array): void {
    const whole = payload ? new Uint8Array([...bytes, ...payload]) : bytes;
    this.toClient.push({ link, client, bytes: whole });
  }
  sendToPeer(relay: RelayHandle, peer: StunAddress, bytes: Uint8Array): void {
    this.toPeer.push({ relay, peer, bytes });
  }
  evenPortRequests: boolean[] = [];
  openRelay(allocationId: number, _family: string, _link: ClientLink, options: { evenPort: boolean }): void {
    this.evenPortRequests.push(options.evenPort);
    if (this.holdRelays) this.pending.push(allocationId);
    else this.openNow(allocationId);
  }
  openNow(allocationId: number): void {
    const id = this.nextRelay++;
    this.opened.push(id);
    this.core.relayOpened(allocationId, {
      id,
      relayedAddress: { family: 'IPv4', address: '203.0.113.10', port: 50000 + id },
    });
  }
  closeRelay(relay: RelayHandle): void {
    this.closedRelays.push(relay.id);
  }

  /** Sends from `client` over `link` and returns the one answer (or undefined when none). */
  exchange(bytes: Uint8Array, client = ALICE, link = UDP): ReturnType<typeof readAnswer> | undefined {
    const before = this.toClient.length;
    this.core.handleClientMessage(link, client, bytes);
    const answers = this.toClient.slice(before);
    expect(answers.length).toBeLessThanOrEqual(1);
    const answer = answers[0];
    return answer && readAnswer(answer.bytes);
  }

  /** 401 dance, then a signed Allocate; returns the success response. */
  allocate(client: TestTurnClient, from = ALICE, link = UDP): ReturnType<typeof readAnswer> {
    const challenge = this.exchange(
      client.request(StunMethod.Allocate, (b) => b.requestedTransport(17)),
      from,
      link,
    );
    expect(challenge?.code).toBe(401);
    if (challenge) client.learn(challenge.message);
    const answer = this.exchange(client.allocate(), from, link);
    if (!answer) throw new Error('no answer to Allocate');
    return answer;
  }
}

let h: Harness;
let alice: TestTurnClient;
beforeEach(() => {
  h = new Harness();
  alice = TestTurnClient.rest(SECRET, 'alice', REALM, START);
});

describe('Binding', () => {
  it('answers with the XOR-MAPPED-ADDRESS the request came from, without authentication', () => {
    const answer = h.exchange(alice.request(StunMethod.Binding));
    expect(answer?.code).toBe(0);
    expect(answer?.message.xorMappedAddress).toEqual(ALICE);
    expect(h.core.allocationCount).toBe(0);
  });

  it('answers 420 listing a comprehension-required attribute it does not know', () => {
    const answer = h.exchange(alice.request(StunMethod.Binding, (b) => b.add(0x0042, new Uint8Array(4))));
    expect(answer?.code).toBe(420);
    expect(answer?.message.unknownAttributes).toEqual([0x0042]);
  });

  it('ignores unknown comprehension-optional attributes (RFC 8489 §14)', () => {
    const answer = h.exchange(alice.request(StunMethod.Binding, (b) => b.add(0xc057, new Uint8Array(4))));
    expect(answer?.code).toBe(0);
  });
});

describe('Allocate', () => {
  it('challenges an unsigned request with 401, REALM and NONCE, and keeps no state', () => {
    const answer = h.exchange(alice.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    expect(answer?.code).toBe(401);
    expect(answer?.message.realm).toBe(REALM);
    expect(answer?.message.nonce?.length).toBeGreaterThan(8);
    expect(answer?.message.messageIntegrity).toBeUndefined();
    expect(h.core.allocationCount).toBe(0);
    expect(h.opened).toEqual([]);
  });

  it('allocates a relay for valid REST credentials; the signed answer carries relayed, mapped address and lifetime', () => {
    const answer = h.allocate(alice);
    expect(answer.code).toBe(0);
    expect(answer.message.xorRelayedAddress).toEqual({ family: 'IPv4', address: '203.0.113.10', port: 50100 });
    expect(answer.message.xorMappedAddress).toEqual(ALICE);
    expect(answer.message.lifetime).toBe(600);
    expect(verifyMessageIntegrity(h.toClient.at(-1)?.bytes ?? new Uint8Array(), alice.key)).toBe(true);
    expect(h.core.allocationCount).toBe(1);
    expect(h.core.counters.allocationsCreated).toBe(1);
  });

  it('answers a retransmitted Allocate with the same response, another transaction with 437', () => {
    const challenge = h.exchange(alice.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) alice.learn(challenge.message);
    const tx = new Uint8Array(12).fill(9);
    h.exchange(alice.allocate(tx));
    const first = h.toClient.at(-1)?.bytes;
    h.exchange(alice.allocate(tx));
    expect(h.toClient.at(-1)?.bytes).toEqual(first);
    expect(h.opened).toHaveLength(1);
    expect(h.exchange(alice.allocate())?.code).toBe(437);
  });

  it.each([
    ['a malformed username', (_now: number) => new TestTurnClient('alice', 'x', REALM), 'malformed'],
    ['an expired username', (now: number) => TestTurnClient.rest(SECRET, 'alice', REALM, now, -1), 'expired'],
    ['a zero expiry', () => new TestTurnClient('0:alice', 'x', REALM), 'zero'],
    ['a wrong HMAC', (now: number) => TestTurnClient.rest('other-secret', 'alice', REALM, now), 'hmac'],
  ])('refuses %s with 401 and creates nothing', (_name, make) => {
    const client = make(h.now);
    const challenge = h.exchange(client.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) client.learn(challenge.message);
    const answer = h.exchange(client.allocate());
    expect(answer?.code).toBe(401);
    expect(h.core.allocationCount).toBe(0);
    expect(h.core.counters.authFailures).toBe(1);
  });

  it('refuses a request signed for another realm with 401', () => {
    const client = TestTurnClient.rest(SECRET, 'alice', 'evil.example', h.now);
    const challenge = h.exchange(client.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    client.nonce = challenge?.message.nonce ?? '';
    expect(h.exchange(client.allocate())?.code).toBe(401);
    expect(h.core.allocationCount).toBe(0);
  });

  it('answers 438 with a fresh nonce once the nonce is stale, and the retry succeeds', () => {
    const challenge = h.exchange(alice.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) alice.learn(challenge.message);
    h.now += 11 * 60_000;
    const fresh = TestTurnClient.rest(SECRET, 'alice', REALM, h.now);
    fresh.nonce = alice.nonce;
    const stale = h.exchange(fresh.allocate());
    expect(stale?.code).toBe(438);
    if (stale) fresh.learn(stale.message);
    expect(fresh.nonce).not.toBe(alice.nonce);
    expect(h.exchange(fresh.allocate())?.code).toBe(0);
  });

  it('does not accept a nonce issued to another client address', () => {
    const challenge = h.exchange(alice.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) alice.learn(challenge.message);
    const elsewhere: StunAddress = { family: 'IPv4', address: '198.51.100.99', port: 40000 };
    expect(h.exchange(alice.allocate(), elsewhere)?.code).toBe(401);
  });

  it.each([
    ['missing REQUESTED-TRANSPORT', () => alice.signed(StunMethod.Allocate), 400],
    ['TCP relaying', () => alice.signed(StunMethod.Allocate, (b) => b.requestedTransport(6)), 442],
    [
      'an unknown address family',
      () =>
        alice.signed(StunMethod.Allocate, (b) =>
          b.requestedTransport(17).add(AttributeType.RequestedAddressFamily, Uint8Array.of(9, 0, 0, 0)),
        ),
      440,
    ],
    [
      'DONT-FRAGMENT (we cannot set DF, so it is an unknown attribute per RFC 8656 §7.2)',
      () =>
        alice.signed(StunMethod.Allocate, (b) =>
          b.requestedTransport(17).add(AttributeType.DontFragment, new Uint8Array(0)),
        ),
      420,
    ],
    [
      'a RESERVATION-TOKEN we never issued',
      () =>
        alice.signed(StunMethod.Allocate, (b) =>
          b.requestedTransport(17).add(AttributeType.ReservationToken, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)),
        ),
      508,
    ],
    [
      'EVEN-PORT together with RESERVATION-TOKEN',
      () =>
        alice.signed(StunMethod.Allocate, (b) =>
          b
            .requestedTransport(17)
            .add(AttributeType.EvenPort, Uint8Array.of(0))
            .add(AttributeType.ReservationToken, new Uint8Array(8)),
        ),
      400,
    ],
  ])('answers %s with the right error', (_name, build, code) => {
    const challenge = h.exchange(alice.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) alice.learn(challenge.message);
    const answer = h.exchange(build());
    expect(answer?.code).toBe(code);
    expect(h.core.allocationCount).toBe(0);
  });

  it.each([
    ['EVEN-PORT with R=1 (no reservation is made)', AttributeType.EvenPort, Uint8Array.of(0x80), true],
    ['EVEN-PORT with R=0', AttributeType.EvenPort, Uint8Array.of(0), true],
    [
      'the all-zero RESERVATION-TOKEN (means none, as coturn reads it)',
      AttributeType.ReservationToken,
      new Uint8Array(8),
      false,
    ],
  ])('accepts %s', (_name, type, value, even) => {
    const challenge = h.exchange(alice.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) alice.learn(challenge.message);
    const answer = h.exchange(alice.signed(StunMethod.Allocate, (b) => b.requestedTransport(17).add(type, value)));
    expect(answer?.code).toBe(0);
    expect(answer?.message.has(AttributeType.ReservationToken)).toBe(false);
    expect(h.evenPortRequests).toEqual([even]);
  });

  it('allows 12 allocations per user, then answers 486 Allocation Quota Reached', () => {
    // One source address each: a browser's allocations come from one IP, but this test is about the
    // quota, not about the 10 challenges per IP per second.
    const from = (i: number): StunAddress => ({ family: 'IPv4', address: `198.51.100.${10 + i}`, port: 41000 });
    for (let i = 0; i < 12; i++) expect(h.allocate(alice, from(i)).code).toBe(0);
    expect(h.allocate(alice, from(12)).code).toBe(486);
    const bob = TestTurnClient.rest(SECRET, 'bob', REALM, h.now);
    expect(h.allocate(bob, from(13)).code).toBe(0);
    expect(h.core.counters.quotaRejections).toBe(1);
  });

  it('answers 508 when the relay port range is exhausted', () => {
    h.holdRelays = true;
    const challenge = h.exchange(alice.request(StunMethod.Allocate, (b) => b.requestedTransport(17)));
    if (challenge) alice.learn(challenge.message);
    expect(h.exchange(alice.allocate())).toBeUndefined();
    const id = h.pending[0] ?? 0;
    h.core.relayFailed(id, 'no-ports');
    expect(readAnswer(h.toClient.at(-1)?.bytes ?? new Uint8Array()).code).toBe(508);
    expect(h.core.allocationCount).toBe(0);
  });

  it('sends at most 10 challenges per source IP per second, then drops', () => {
    const unsigned = () => alice.request(StunMethod.Allocate, (b) => b.requestedTransport(17));
    let answered = 0;
    for (let i = 0; i < 25; i++) if (h.exchange(unsigned(), { ...ALICE, port: 30000 + i })) answered++;
    expect(answered).toBe(10);
    expect(h.core.counters.challengesDropped).toBe(15);
    const other: StunAddress = { family: 'IPv4', address: '198.51.100.8', port: 1 };
    expect(h.exchange(unsigned(), other)?.code).toBe(401);
    h.now += 1000;
    expect(h.exchange(unsigned())?.code).toBe(401);
  });
});

describe('Refresh and lifetimes', () => {
  beforeEach(() => {
    h.allocate(alice);
  });

  it('expires an allocation after its lifetime and closes the relay', () => {
    h.now += 599_000;
    h.core.sweep();
    expect(h.core.allocationCount).toBe(1);
    h.now += 1_000;
    h.core.sweep();
    expect(h.core.allocationCount).toBe(0);
    expect(h.closedRelays).toEqual([100]);
    expect(h.core.counters.allocationsExpired).toBe(1);
  });

  it('extends the lifetime on Refresh, even after the credentials have expired', () => {
    h.now += 500_000; // the 300 s REST credential is long expired
    const answer = h.exchange(alice.refresh(600));
    expect(answer?.code).toBe(0);
    expect(answer?.message.lifetime).toBe(600);
    h.now += 500_000;
    h.core.sweep();
    expect(h.core.allocationCount).toBe(1);
  });

  it('caps the lifetime at the maximum', () => {
    expect(h.exchange(alice.refresh(999_999))?.message.lifetime).toBe(3600);
  });

  it('deletes the allocation on Refresh with LIFETIME 0', () => {
    const answer = h.exchange(alice.refresh(0));
    expect(answer?.code).toBe(0);
    expect(answer?.message.lifetime).toBe(0);
    expect(h.core.allocationCount).toBe(0);
    expect(h.closedRelays).toEqual([100]);
  });

  it('answers 437 to Refresh without an allocation and 441 to another user on this 5-tuple', () => {
    const stranger = TestTurnClient.rest(SECRET, 'bob', REALM, h.now);
    stranger.nonce = alice.nonce;
    expect(h.exchange(stranger.refresh())?.code).toBe(441);
    expect(h.exchange(alice.refresh(), { ...ALICE, port: 1234 })?.code).toBe(437);
  });

  it('refuses a Refresh with a bad MESSAGE-INTEGRITY', () => {
    const forged = new TestTurnClient(alice.username, 'wrong', REALM);
    forged.nonce = alice.nonce;
    expect(h.exchange(forged.refresh())?.code).toBe(401);
  });
});

describe('permissions and relaying', () => {
  beforeEach(() => {
    h.allocate(alice);
  });

  it('relays a Send indication only to a permitted peer, and peer data back as a Data indication', () => {
    const payload = Uint8Array.of(1, 2, 3);
    h.core.handleClientMessage(UDP, ALICE, alice.send(PEER, payload));
    expect(h.toPeer).toHaveLength(0);
    expect(h.core.counters.droppedNoPermission).toBe(1);

    expect(h.exchange(alice.createPermission(PEER))?.code).toBe(0);
    h.core.handleClientMessage(UDP, ALICE, alice.send(PEER, payload));
    expect(h.toPeer.map((p) => [p.peer, [...p.bytes]])).toEqual([[PEER, [1, 2, 3]]]);

    // Permissions are per IP: any port of the permitted IP may answer; other IPs may not.
    h.core.handlePeerMessage(100, PEER_OTHER_PORT, Uint8Array.of(9, 8));
    h.core.handlePeerMessage(100, STRANGER, Uint8Array.of(7));
    const delivered = h.toClient.slice(-1).map((s) => decodeStunMessage(s.bytes));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.method).toBe(StunMethod.Data);
    expect(delivered[0]?.cls).toBe(StunClass.Indication);
    expect(delivered[0]?.xorPeerAddresses).toEqual([PEER_OTHER_PORT]);
    expect([...(delivered[0]?.data ?? [])]).toEqual([9, 8]);
    expect(h.core.counters.droppedNoPermission).toBe(2);
  });

  it('lets permissions expire after 300 s unless refreshed', () => {
    h.exchange(alice.createPermission(PEER));
    h.now += 299_000;
    h.core.handlePeerMessage(100, PEER, Uint8Array.of(1));
    h.now += 2_000;
    h.core.sweep();
    h.core.handlePeerMessage(100, PEER, Uint8Array.of(2));
    expect(h.core.counters.peerToClientPackets).toBe(1);
  });

  it('binds a channel and relays ChannelData both ways (padded only on streams)', () => {
    expect(h.exchange(alice.channelBind(0x4001, PEER))?.code).toBe(0);
    h.core.handleClientMessage(UDP, ALICE, encodeChannelData(0x4001, Uint8Array.of(5, 6, 7), false));
    expect(h.toPeer.map((p) => [p.peer, [...p.bytes]])).toEqual([[PEER, [5, 6, 7]]]);
    h.core.handlePeerMessage(100, PEER, Uint8Array.of(1, 2, 3, 4, 5));
    const back = h.toClient.at(-1)?.bytes ?? new Uint8Array();
    expect(back.length).toBe(9); // UDP: no padding
    expect(decodeChannelData(back)).toEqual({ channel: 0x4001, data: Uint8Array.of(1, 2, 3, 4, 5) });
    // Another port of the same IP has the permission but no channel: Data indication.
    h.core.handlePeerMessage(100, PEER_OTHER_PORT, Uint8Array.of(1));
    expect(decodeStunMessage(h.toClient.at(-1)?.bytes ?? new Uint8Array()).method).toBe(StunMethod.Data);
  });

  it('pads ChannelData to 4 bytes for a TCP client', () => {
    const bob = TestTurnClient.rest(SECRET, 'bob', REALM, h.now);
    h.allocate(bob, ALICE, TCP);
    h.exchange(bob.channelBind(0x4000, PEER), ALICE, TCP);
    h.core.handlePeerMessage(101, PEER, Uint8Array.of(1, 2, 3, 4, 5));
    expect(h.toClient.at(-1)?.bytes.length).toBe(12);
  });

  it.each([
    ['a channel number below 0x4000', 0x3fff, PEER, 400],
    ['a number above the ChannelData range', 0x8000, PEER, 400],
    ['a denied peer', 0x4002, { family: 'IPv4', address: '10.1.2.3', port: 9 } as StunAddress, 403],
    [
      'an IPv6 peer on an IPv4 relay',
      0x4002,
      { family: 'IPv6', address: '2606:4700::1111', port: 9 } as StunAddress,
      443,
    ],
  ])('refuses ChannelBind with %s', (_name, channel, peer, code) => {
    expect(h.exchange(alice.channelBind(channel, peer))?.code).toBe(code);
  });

  it('keeps a channel bound to one peer and a peer to one channel', () => {
    h.exchange(alice.channelBind(0x4001, PEER));
    expect(h.exchange(alice.channelBind(0x4001, STRANGER))?.code).toBe(400);
    expect(h.exchange(alice.channelBind(0x4002, PEER))?.code).toBe(400);
    expect(h.exchange(alice.channelBind(0x4001, PEER))?.code).toBe(0); // a refresh
  });

  it('drops ChannelData on an unbound channel and never throws on garbage', () => {
    h.core.handleClientMessage(UDP, ALICE, encodeChannelData(0x4009, Uint8Array.of(1), false));
    h.core.handleClientMessage(UDP, ALICE, Uint8Array.of(0x40, 0x01, 0xff, 0xff, 1));
    expect(h.toPeer).toHaveLength(0);
    expect(h.core.counters.droppedNoChannel).toBe(1);
    expect(h.core.counters.droppedMalformed).toBe(1);
  });

  it('installs all permissions of a CreatePermission or none (403 for one denied address)', () => {
    const denied: StunAddress = { family: 'IPv4', address: '192.168.1.1', port: 1 };
    expect(h.exchange(alice.createPermission(PEER, denied))?.code).toBe(403);
    h.core.handlePeerMessage(100, PEER, Uint8Array.of(1));
    expect(h.core.counters.peerToClientPackets).toBe(0);
  });

  it('bounds permissions per allocation with 508', () => {
    const small = new Harness({ permissionsPerAllocation: 2 });
    const client = TestTurnClient.rest(SECRET, 'carol', REALM, small.now);
    small.allocate(client);
    const peer = (n: number): StunAddress => ({ family: 'IPv4', address: `8.8.4.${n}`, port: 1 });
    expect(small.exchange(client.createPermission(peer(1), peer(2)))?.code).toBe(0);
    expect(small.exchange(client.createPermission(peer(1)))?.code).toBe(0);
    expect(small.exchange(client.createPermission(peer(3)))?.code).toBe(508);
  });

  it('refuses our own listening port (no relay loops) but allows our relays, though our address is not public', () => {
    const own = (port: number): StunAddress => ({ family: 'IPv4', address: '203.0.113.10', port });
    expect(h.exchange(alice.createPermission(own(3478)))?.code).toBe(403);
    expect(h.exchange(alice.channelBind(0x4000, own(50999)))?.code).toBe(0);
    expect(h.exchange(alice.createPermission(own(60000)))?.code).toBe(403);
  });

  it('deletes a TCP client’s allocations when its connection closes', () => {
    const bob = TestTurnClient.rest(SECRET, 'bob', REALM, h.now);
    h.allocate(bob, ALICE, TCP);
    expect(h.core.allocationCount).toBe(2);
    h.core.linkClosed(TCP);
    expect(h.core.allocationCount).toBe(1);
    expect(h.closedRelays).toEqual([101]);
  });
});

describe('hostile input', () => {
  it('never throws and keeps no state for any unauthenticated bytes (fuzzed)', () => {
    // Well-formed STUN requests and indications with arbitrary attributes, never validly signed.
    const stunish = fc
      .tuple(
        fc.constantFrom(StunClass.Request, StunClass.Indication),
        fc.constantFrom(0x001, 0x003, 0x004, 0x006, 0x008, 0x009, 0x0ff),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 40 })), { maxLength: 6 }),
      )
      .map(([cls, method, attributes]) => {
        const builder = new StunMessageBuilder(cls, method, new Uint8Array(12));
        for (const [type, value] of attributes) {
          if (type !== AttributeType.MessageIntegrity && type !== 0x001c && type !== AttributeType.Fingerprint) {
            builder.add(type, value);
          }
        }
        return builder.build();
      });
    const anything = fc.oneof(fc.uint8Array({ maxLength: 200 }), stunish);
    fc.assert(
      fc.property(anything, fc.integer({ min: 1, max: 65535 }), (bytes, port) => {
        h.core.handleClientMessage(UDP, { ...ALICE, port }, bytes);
        h.core.handlePeerMessage(100, PEER, bytes);
        expect(h.core.allocationCount).toBe(0);
        expect(h.opened).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });
});
