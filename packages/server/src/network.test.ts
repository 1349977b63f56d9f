import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { certificateAddresses, lanUrls, localUrl } from './network.js';

const interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [
    {
      address: '127.0.0.1',
      netmask: '255.0.0.0',
      family: 'IPv4',
      mac: '00:00:00:00:00:00',
      internal: true,
      cidr: null,
    },
  ],
  eth0: [
    {
      address: '192.168.1.20',
      netmask: '255.255.255.0',
      family: 'IPv4',
      mac: 'aa:aa:aa:aa:aa:aa',
      internal: false,
      cidr: null,
    },
    {
      address: 'fe80::1',
      netmask: 'ffff:ffff:ffff:ffff::',
      family: 'IPv6',
      mac: 'aa:aa:aa:aa:aa:aa',
      internal: false,
      cidr: null,
      scopeid: 2,
    },
    {
      address: '2001:db8::20',
      netmask: 'ffff:ffff:ffff:ffff::',
      family: 'IPv6',
      mac: 'aa:aa:aa:aa:aa:aa',
      internal: false,
      cidr: null,
      scopeid: 0,
    },
  ],
};

describe('URLs to open', () => {
  it('uses localhost for a wildcard bind and the address otherwise', () => {
    expect(localUrl('0.0.0.0', 8080, false)).toBe('http://localhost:8080');
    expect(localUrl('::', 8443, true)).toBe('https://localhost:8443');
    expect(localUrl('127.0.0.1', 1, false)).toBe('http://127.0.0.1:1');
    expect(localUrl('::1', 1, false)).toBe('http://[::1]:1');
  });

  it('lists LAN addresses only for wildcard binds, without loopback or link-local', () => {
    expect(lanUrls('0.0.0.0', 8080, false, interfaces)).toEqual(['http://192.168.1.20:8080']);
    expect(lanUrls('::', 8080, true, interfaces)).toEqual(['https://192.168.1.20:8080', 'https://[2001:db8::20]:8080']);
    expect(lanUrls('127.0.0.1', 8080, false, interfaces)).toEqual([]);
  });

  it('names localhost, loopback and the LAN addresses in a self-signed certificate', () => {
    expect(certificateAddresses('0.0.0.0', interfaces)).toEqual({
      dns: ['localhost'],
      ips: ['127.0.0.1', '::1', '192.168.1.20', 'fe80::1', '2001:db8::20'],
    });
    expect(certificateAddresses('meet.lan', interfaces)).toEqual({
      dns: ['localhost', 'meet.lan'],
      ips: ['127.0.0.1', '::1'],
    });
  });
});
