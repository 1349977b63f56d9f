import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * A host as it may appear in a URL we hand out or accept: a bracketed IPv6 literal, or a DNS name /
 * IPv4 literal (letters, digits, dots, hyphens; no leading or trailing dot or hyphen). A regex
 * source, for composing the URL patterns that use it.
 */
export const URL_HOST_PATTERN = String.raw`\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?`;

export function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/** `host:port` for a URL: IPv6 literals in brackets. */
export function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The URL to open on this machine (a wildcard bind is reached through localhost). */
export function localUrl(host: string, port: number, secure: boolean): string {
  const shown = isWildcardHost(host) ? 'localhost' : hostForUrl(host);
  return `${secure ? 'https' : 'http'}://${shown}:${port}`;
}

/**
 * URLs other devices on the network can use when the server listens on every interface:
 * one per non-internal IPv4 address (IPv6 too when bound to `::`), link-local addresses skipped.
 */
export function lanUrls(
  host: string,
  port: number,
  secure: boolean,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  if (!isWildcardHost(host)) return [];
  const urls: string[] = [];
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv6' && (host !== '::' || info.address.toLowerCase().startsWith('fe80'))) continue;
      urls.push(`${secure ? 'https' : 'http'}://${hostForUrl(info.address)}:${port}`);
    }
  }
  return urls;
}

/** Addresses a self-signed certificate should name so browsers on the LAN can at least match it. */
export function certificateAddresses(
  host: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost']);
  const ips = new Set(['127.0.0.1', '::1']);
  if (!isWildcardHost(host)) {
    if (/^[\d.]+$/.test(host) || host.includes(':')) ips.add(host.replace(/^\[|\]$/g, ''));
    else dns.add(host);
  } else {
    for (const infos of Object.values(interfaces)) {
      for (const info of infos ?? []) if (!info.internal) ips.add(info.address.split('%')[0] ?? info.address);
    }
  }
  return { dns: [...dns], ips: [...ips] };
}
