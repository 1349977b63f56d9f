import { isIPv4, isIPv6 } from 'node:net';

/*
 * Textual IP <-> bytes. Kept here (not node:net) because the wire format needs bytes and the
 * coming deny-list compares addresses bytewise (SECURITY.md, TURN).
 */

/** 4 or 16 bytes, or null when `text` is not a plain IPv4/IPv6 literal (zone ids are refused). */
export function parseIp(text: string): Uint8Array | null {
  if (isIPv4(text)) return Uint8Array.from(text.split('.'), Number);
  if (!isIPv6(text) || text.includes('%')) return null;
  const out = new Uint8Array(16);
  let tail = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) fills the last 4 bytes; the rest is then 6 groups.
  const lastColon = text.lastIndexOf(':');
  const v4 = text.slice(lastColon + 1);
  let groupsAvailable = 8;
  if (v4.includes('.')) {
    out.set(Uint8Array.from(v4.split('.'), Number), 12);
    tail = text.slice(0, lastColon + 1);
    if (tail.endsWith(':') && !tail.endsWith('::')) tail = tail.slice(0, -1);
    groupsAvailable = 6;
  }
  const [head = '', rest] = tail.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups =
    rest === undefined
      ? headGroups
      : [
          ...headGroups,
          ...Array<string>(groupsAvailable - headGroups.length - restGroups.length).fill('0'),
          ...restGroups,
        ];
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  });
  return out;
}

/** Dotted quad for 4 bytes; RFC 5952 canonical text (lower case, longest zero run as ::) for 16. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // Longest run of two or more zero groups; the first one wins a tie (RFC 5952 §4.2.3).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
