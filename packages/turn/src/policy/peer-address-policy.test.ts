import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PeerAddressPolicy, type PeerDenialReason } from './peer-address-policy.js';

const PORT = 40_000;
const defaults = new PeerAddressPolicy();

// SECURITY.md's list, typed out again on purpose: the oracle below must not share the module's table.
const IPV4_CIDRS: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const IPV6_CIDRS: readonly [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['fe80::', 10],
  ['fc00::', 7],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['2001::', 32],
];

const FF = 'ffff:ffff:ffff:ffff:ffff:ffff';

describe('deny-list ranges: first, last and just-outside addresses', () => {
  it.each<[string, PeerDenialReason | null]>([
    // 0.0.0.0/8
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['1.0.0.0', null],
    // 10/8
    ['9.255.255.255', null],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['11.0.0.0', null],
    // 100.64/10
    ['100.63.255.255', null],
    ['100.64.0.0', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.128.0.0', null],
    // 127/8
    ['126.255.255.255', null],
    ['127.0.0.0', 'loopback'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.255', 'loopback'],
    ['128.0.0.0', null],
    // 169.254/16
    ['169.253.255.255', null],
    ['169.254.0.0', 'link-local'],
    ['169.254.169.254', 'link-local'],
    ['169.254.255.255', 'link-local'],
    ['169.255.0.0', null],
    // 172.16/12
    ['172.15.255.255', null],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', null],
    // 192.0.0/24
    ['191.255.255.255', null],
    ['192.0.0.0', 'reserved'],
    ['192.0.0.255', 'reserved'],
    ['192.0.1.0', null],
    // 192.0.2/24
    ['192.0.1.255', null],
    ['192.0.2.0', 'documentation'],
    ['192.0.2.255', 'documentation'],
    ['192.0.3.0', null],
    // 192.88.99/24
    ['192.88.98.255', null],
    ['192.88.99.0', 'reserved'],
    ['192.88.99.255', 'reserved'],
    ['192.88.100.0', null],
    // 192.168/16
    ['192.167.255.255', null],
    ['192.168.0.0', 'private'],
    ['192.168.255.255', 'private'],
    ['192.169.0.0', null],
    // 198.18/15
    ['198.17.255.255', null],
    ['198.18.0.0', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.20.0.0', null],
    // 198.51.100/24
    ['198.51.99.255', null],
    ['198.51.100.0', 'documentation'],
    ['198.51.100.255', 'documentation'],
    ['198.51.101.0', null],
    // 203.0.113/24
    ['203.0.112.255', null],
    ['203.0.113.0', 'documentation'],
    ['203.0.113.255', 'documentation'],
    ['203.0.114.0', null],
    // 224/4 then 240/4 (adjacent: 239.255.255.255 / 240.0.0.0 is the boundary between them)
    ['223.255.255.255', null],
    ['224.0.0.0', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.0', 'reserved'],
    ['255.255.255.255', 'reserved'],
    // ::/128 and ::1/128
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::1:0:0:0', null], // outside ::/96, so not IPv4-compatible, and in no range
    // fe80::/10
    [`fe7f:${FF}:ffff`, null],
    ['fe80::', 'link-local'],
    [`febf:${FF}:ffff`, 'link-local'],
    // fc00::/7
    [`fbff:${FF}:ffff`, null],
    ['fc00::', 'private'],
    [`fdff:${FF}:ffff`, 'private'],
    ['fe00::', null],
    // fec0::/10 (deprecated site-local) right after link-local, then ff00::/8
    ['fec0::', 'private'],
    [`feff:${FF}:ffff`, 'private'],
    ['ff00::', 'multicast'],
    ['ff02::1', 'multicast'],
    [`ffff:${FF}:ffff`, 'multicast'],
    // 2001::/32 (Teredo) and 2001:db8::/32
    [`2000:ffff:${FF}`, null],
    ['2001::', 'teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    [`2001:0:${FF}`, 'teredo'],
    ['2001:1::', null],
    [`2001:db7:${FF}`, null],
    ['2001:db8::', 'documentation'],
    [`2001:db8:${FF}`, 'documentation'],
    ['2001:db9::', null],
  ])('%s → %s', (address, expected) => {
    expect(defaults.check(address, PORT)).toBe(expected);
  });
});

describe('embedded IPv4 is unwrapped before matching', () => {
  it.each<[string, PeerDenialReason]>([
    // loopback, every wrapping and spelling
    ['::ffff:127.0.0.1', 'loopback'], // CVE-2026-27624
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:127.0.0.1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::ffff:127.255.255.255', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:7f00:0001:0:0:0:0:0', 'loopback'],
    ['2002:7f00:1:abcd::1', 'loopback'], // 6to4 subnet and interface bits do not matter
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::0.0.0.1', 'loopback'], // the same bytes as ::1
    // unspecified (CVE-2020-26262)
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['0:0:0:0:0:0:0:0', 'unspecified'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:0:0', 'unspecified'],
    ['::0.0.0.0', 'unspecified'],
    ['::0.0.0.2', 'unspecified'], // IPv4-compatible 0.0.0.2, in 0.0.0.0/8
    ['64:ff9b::', 'unspecified'],
    ['2002::', 'unspecified'],
    // private, link-local, the rest
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['::10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::192.168.1.1', 'private'],
    ['2002:c0a8:101::', 'private'],
    ['::ffff:172.16.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['::ffff:100.64.0.1', 'shared'],
    ['::ffff:224.0.0.1', 'multicast'],
    ['2002:ffff:ffff::', 'reserved'],
    ['::ffff:198.18.0.1', 'benchmarking'],
    ['::ffff:192.0.2.1', 'documentation'],
  ])('%s → %s', (address, expected) => {
    expect(defaults.check(address, PORT)).toBe(expected);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '2606:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '::8.8.8.8',
  ])('public %s is allowed', (address) => {
    expect(defaults.check(address, PORT)).toBeNull();
  });

  it('does not unwrap lookalike prefixes', () => {
    // ::ffff:0:0:0/96 (SIIT "IPv4-translated") and 64:ff9b:1::/48 are not on the list: plain IPv6.
    expect(defaults.check('::ffff:0:7f00:1', PORT)).toBeNull();
    expect(defaults.check('64:ff9b:1::7f00:1', PORT)).toBeNull();
    // A near-miss of the NAT64 prefix is not NAT64.
    expect(defaults.check('64:ff9a::7f00:1', PORT)).toBeNull();
    // Same for a near-miss of IPv4-mapped (ffff → fffe).
    expect(defaults.check('::fffe:7f00:1', PORT)).toBeNull();
  });
});

describe('invalid input', () => {
  it.each([
    '',
    'localhost',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '010.0.0.1', // leading zeros: some parsers read octal
    ' 8.8.8.8',
    '8.8.8.8 ',
    '::g',
    '1::2::3',
    'fe80::1%eth0',
    '[::1]',
    '8.8.8.8:53',
  ])('address %j → invalid', (address) => {
    expect(defaults.check(address, PORT)).toBe('invalid');
  });

  it.each([0, -1, 65_536, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('port %s → invalid', (port) => {
    expect(defaults.check('8.8.8.8', port)).toBe('invalid');
  });

  it('accepts the port bounds 1 and 65535', () => {
    expect(defaults.check('8.8.8.8', 1)).toBeNull();
    expect(defaults.check('8.8.8.8', 65_535)).toBeNull();
  });

  it('reports an invalid port before the address range', () => {
    expect(defaults.check('127.0.0.1', 0)).toBe('invalid');
  });
});

describe('options', () => {
  it('allowLoopback lets loopback in any form through, nothing else', () => {
    const policy = new PeerAddressPolicy({ allowLoopback: true, ownPorts: [3478, 5349] });
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::']) {
      expect(policy.check(address, PORT), address).toBeNull();
    }
    expect(policy.check('10.0.0.1', PORT)).toBe('private');
    expect(policy.check('0.0.0.0', PORT)).toBe('unspecified');
    expect(policy.check('::', PORT)).toBe('unspecified');
    expect(policy.check('169.254.169.254', PORT)).toBe('link-local');
  });

  it('allowLoopback still denies our listening ports on loopback and unspecified addresses', () => {
    const policy = new PeerAddressPolicy({ allowLoopback: true, ownPorts: [3478, 5349] });
    for (const address of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::', '::ffff:0.0.0.0']) {
      expect(policy.check(address, 3478), address).toBe('own-port');
      expect(policy.check(address, 5349), address).toBe('own-port');
    }
  });

  it('allowLoopback is off by default', () => {
    expect(new PeerAddressPolicy({}).check('127.0.0.1', PORT)).toBe('loopback');
    expect(new PeerAddressPolicy({ allowLoopback: false }).check('::1', PORT)).toBe('loopback');
  });

  it('allowedAddresses overrides a denied range for that exact address only', () => {
    const policy = new PeerAddressPolicy({ allowedAddresses: ['10.0.0.5', 'fd00::5'] });
    expect(policy.check('10.0.0.5', PORT)).toBeNull();
    expect(policy.check('::ffff:10.0.0.5', PORT)).toBeNull(); // same destination
    expect(policy.check('fd00::5', PORT)).toBeNull();
    expect(policy.check('fd00:0:0:0:0:0:0:5', PORT)).toBeNull(); // any spelling
    expect(policy.check('10.0.0.6', PORT)).toBe('private');
    expect(policy.check('fd00::6', PORT)).toBe('private');
  });

  it('allowedAddresses given in a wrapped form match the plain address', () => {
    const policy = new PeerAddressPolicy({ allowedAddresses: ['::ffff:192.168.1.20'] });
    expect(policy.check('192.168.1.20', PORT)).toBeNull();
  });

  it('denies an own address with an own port, allows it with any other port', () => {
    const policy = new PeerAddressPolicy({
      ownAddresses: ['84.17.40.2', '2a01:4f8::2'],
      ownPorts: [3478, 5349],
    });
    expect(policy.check('84.17.40.2', 3478)).toBe('own-port');
    expect(policy.check('84.17.40.2', 5349)).toBe('own-port');
    expect(policy.check('::ffff:84.17.40.2', 3478)).toBe('own-port');
    expect(policy.check('64:ff9b::5411:2802', 3478)).toBe('own-port');
    expect(policy.check('2a01:4f8:0::2', 3478)).toBe('own-port');
    // A relay port on our own address: relay-to-relay between two relay-only clients.
    expect(policy.check('84.17.40.2', 49_152)).toBeNull();
    expect(policy.check('2a01:4f8::2', 49_152)).toBeNull();
    // Someone else's 3478 is fine.
    expect(policy.check('84.17.40.3', 3478)).toBeNull();
  });

  it('own ports win over allowedAddresses (an in-process SFU shares our address)', () => {
    const policy = new PeerAddressPolicy({
      allowedAddresses: ['10.0.0.2'],
      ownAddresses: ['10.0.0.2'],
      ownPorts: [3478],
    });
    expect(policy.check('10.0.0.2', 3478)).toBe('own-port');
    expect(policy.check('10.0.0.2', 40_000)).toBeNull();
  });

  it('without ownPorts, own addresses are only subject to the ranges', () => {
    const policy = new PeerAddressPolicy({ ownAddresses: ['84.17.40.2'] });
    expect(policy.check('84.17.40.2', 3478)).toBeNull();
  });

  it('refuses unparsable options', () => {
    expect(() => new PeerAddressPolicy({ allowedAddresses: ['sfu.local'] })).toThrow(RangeError);
    expect(() => new PeerAddressPolicy({ ownAddresses: ['1.2.3'] })).toThrow(RangeError);
    expect(() => new PeerAddressPolicy({ ownPorts: [0] })).toThrow(RangeError);
    expect(() => new PeerAddressPolicy({ ownPorts: [70_000] })).toThrow(RangeError);
  });

  it('does not keep a reference to the caller’s arrays', () => {
    const allowedAddresses = ['10.0.0.5'];
    const policy = new PeerAddressPolicy({ allowedAddresses });
    allowedAddresses.push('10.0.0.6');
    expect(policy.check('10.0.0.6', PORT)).toBe('private');
  });
});

const v4Bytes = (a: string) => a.split('.').map(Number);
const hex16 = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
const port = fc.integer({ min: 1, max: 0xffff });

describe('properties', () => {
  const withOptions = new PeerAddressPolicy({
    allowedAddresses: ['10.0.0.5'],
    ownAddresses: ['84.17.40.2', '::ffff:192.168.0.1'],
    ownPorts: [3478, 5349],
    allowLoopback: true,
  });
  const policies = fc.constantFrom(defaults, withOptions);
  // Addresses near the interesting ones, so options and ranges are actually hit.
  const v4 = fc.oneof(
    fc.ipV4(),
    fc.constantFrom('10.0.0.5', '84.17.40.2', '192.168.0.1', '127.0.0.1', '0.0.0.0', '255.255.255.255'),
  );
  const ports = fc.oneof(port, fc.constantFrom(3478, 5349));

  it('IPv4-mapped (dotted and hex) gives the same answer as the plain IPv4', () => {
    fc.assert(
      fc.property(policies, v4, ports, (policy, a, p) => {
        const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = v4Bytes(a);
        const expected = policy.check(a, p);
        expect(policy.check(`::ffff:${a}`, p)).toBe(expected);
        expect(policy.check(`::ffff:${hex16(b0, b1)}:${hex16(b2, b3)}`, p)).toBe(expected);
      }),
    );
  });

  it('NAT64 (64:ff9b::/96) gives the same answer as the plain IPv4', () => {
    fc.assert(
      fc.property(policies, v4, ports, (policy, a, p) => {
        const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = v4Bytes(a);
        const expected = policy.check(a, p);
        expect(policy.check(`64:ff9b::${a}`, p)).toBe(expected);
        expect(policy.check(`64:ff9b::${hex16(b0, b1)}:${hex16(b2, b3)}`, p)).toBe(expected);
      }),
    );
  });

  it('6to4 (2002::/16, any subnet and interface id) gives the same answer as the plain IPv4', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((g) => g.toString(16));
    fc.assert(
      fc.property(policies, v4, ports, fc.array(group, { minLength: 5, maxLength: 5 }), (policy, a, p, rest) => {
        const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = v4Bytes(a);
        expect(policy.check(`2002:${hex16(b0, b1)}:${hex16(b2, b3)}:${rest.join(':')}`, p)).toBe(policy.check(a, p));
      }),
    );
  });

  it('IPv4 denial matches an independent oracle (node:net BlockList) over the whole space', () => {
    const oracle = new BlockList();
    for (const [net, bits] of IPV4_CIDRS) oracle.addSubnet(net, bits, 'ipv4');
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        expect(defaults.check(a, PORT) !== null).toBe(oracle.check(a, 'ipv4'));
      }),
      { numRuns: 5000 },
    );
  });

  it('IPv6 denial matches the oracle for addresses that wrap no IPv4', () => {
    const oracle = new BlockList();
    for (const [net, bits] of IPV6_CIDRS) oracle.addSubnet(net, bits, 'ipv6');
    const group = fc.integer({ min: 0, max: 0xffff });
    // First group biased to land on and around every IPv6 range boundary.
    const first = fc.oneof(
      group,
      fc.integer({ min: 0xfe00, max: 0xffff }),
      fc.integer({ min: 0xfb00, max: 0xfe00 }),
      fc.constantFrom(0x2001, 0x2000, 0x2002, 0x0064),
    );
    const second = fc.oneof(group, fc.constantFrom(0, 1, 0xdb7, 0xdb8, 0xdb9, 0xff9b));
    const address = fc
      .tuple(first, second, fc.array(group, { minLength: 6, maxLength: 6 }))
      .map(([a, b, rest]) => [a, b, ...rest].map((g) => g.toString(16)).join(':'))
      .filter((text) => !/^(0:0:0:0:0:(0|ffff):|64:ff9b:0:0:0:0:|2002:)/.test(text));
    fc.assert(
      fc.property(address, (a) => {
        expect(defaults.check(a, PORT) !== null).toBe(oracle.check(a, 'ipv6'));
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws and answers with a known reason, whatever the input', () => {
    const reasons = new Set<PeerDenialReason | null>([
      null,
      'unspecified',
      'loopback',
      'private',
      'link-local',
      'shared',
      'multicast',
      'reserved',
      'documentation',
      'teredo',
      'benchmarking',
      'own-port',
      'invalid',
    ]);
    const text = fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended());
    fc.assert(
      fc.property(policies, text, fc.oneof(port, fc.integer(), fc.double()), (policy, a, p) => {
        expect(reasons.has(policy.check(a, p))).toBe(true);
      }),
    );
  });
});

describe('own relay ports', () => {
  const policy = new PeerAddressPolicy({
    ownAddresses: ['192.168.1.10'],
    ownPorts: [3478],
    ownRelayPorts: { min: 49152, max: 65535 },
  });

  it('allows another relay of ours on our (private) address: relay to relay on a LAN', () => {
    expect(policy.check('192.168.1.10', 50000)).toBeNull();
    expect(policy.check('::ffff:192.168.1.10', 65535)).toBeNull();
  });

  it('still refuses other ports of our address, and other private hosts on relay ports', () => {
    expect(policy.check('192.168.1.10', 3478)).toBe('own-port');
    expect(policy.check('192.168.1.10', 49151)).toBe('private');
    expect(policy.check('192.168.1.11', 50000)).toBe('private');
  });

  it('rejects a reversed range', () => {
    expect(() => new PeerAddressPolicy({ ownRelayPorts: { min: 2, max: 1 } })).toThrow(RangeError);
  });
});
