/*
 * Builds RTP packets for tests (the package has no production RTP builder: the router forwards
 * and rewrites received packets). Written independently of the parser, straight from RFC 3550
 * §5.1 and RFC 8285 §4, so a round trip checks one against the other.
 */

export interface ExtensionElement {
  id: number;
  data: Uint8Array;
}

export type ExtensionSpec =
  | { form: 'one-byte'; elements: ExtensionElement[] }
  | { form: 'two-byte'; appBits: number; elements: ExtensionElement[] }
  | { form: 'other'; profile: number; data: Uint8Array };

export interface RtpSpec {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension?: ExtensionSpec | undefined;
  payload: Uint8Array;
  /** Padding bytes including the count byte; 0 for no P bit. */
  padding: number;
}

function u32(value: number): number[] {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

function extensionBytes(extension: ExtensionSpec): number[] {
  let profile: number;
  let body: number[];
  if (extension.form === 'other') {
    profile = extension.profile;
    body = [...extension.data];
  } else if (extension.form === 'one-byte') {
    profile = 0xbede;
    body = extension.elements.flatMap((e) => [(e.id << 4) | (e.data.length - 1), ...e.data]);
  } else {
    profile = 0x1000 | extension.appBits;
    body = extension.elements.flatMap((e) => [e.id, e.data.length, ...e.data]);
  }
  while (body.length % 4 !== 0) body.push(0);
  const words = body.length / 4;
  return [profile >> 8, profile & 0xff, words >> 8, words & 0xff, ...body];
}

export function buildRtp(spec: RtpSpec): Uint8Array {
  const bytes = [
    0x80 | (spec.padding > 0 ? 0x20 : 0) | (spec.extension ? 0x10 : 0) | spec.csrcs.length,
    (spec.marker ? 0x80 : 0) | spec.payloadType,
    spec.sequenceNumber >> 8,
    spec.sequenceNumber & 0xff,
    ...u32(spec.timestamp),
    ...u32(spec.ssrc),
    ...spec.csrcs.flatMap(u32),
    ...(spec.extension ? extensionBytes(spec.extension) : []),
    ...spec.payload,
  ];
  if (spec.padding > 0) {
    for (let i = 1; i < spec.padding; i++) bytes.push(0);
    bytes.push(spec.padding);
  }
  return Uint8Array.from(bytes);
}
