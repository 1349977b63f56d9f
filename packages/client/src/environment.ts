/**
 * The browser APIs the SDK uses, injected so the same code runs in a browser (defaults from
 * globalThis), in Node tests (ws + @roamhq/wrtc + fakes) and in other runtimes.
 */
export interface ClientEnvironment {
  WebSocket: new (url: string) => WebSocket;
  RTCPeerConnection: new (configuration?: RTCConfiguration) => RTCPeerConnection;
  MediaStream: new (tracks?: MediaStreamTrack[]) => MediaStream;
  /** Absent on insecure origins (plain http other than localhost) and in runtimes without capture. */
  mediaDevices: MediaDevicesLike | undefined;
  /** Used for the default signaling URL. */
  location: { protocol: string; host: string } | undefined;
}

export type MediaDevicesLike = Pick<MediaDevices, 'getUserMedia' | 'enumerateDevices'>;

/** Fills what the caller did not inject from globalThis; a missing constructor fails when first used, with a clear message. */
export function resolveEnvironment(overrides: Partial<ClientEnvironment> = {}): ClientEnvironment {
  const scope = globalThis as Partial<{
    WebSocket: ClientEnvironment['WebSocket'];
    RTCPeerConnection: ClientEnvironment['RTCPeerConnection'];
    MediaStream: ClientEnvironment['MediaStream'];
    navigator: { mediaDevices?: MediaDevicesLike };
    location: { protocol: string; host: string };
  }>;
  return {
    WebSocket: overrides.WebSocket ?? scope.WebSocket ?? missing('WebSocket'),
    RTCPeerConnection: overrides.RTCPeerConnection ?? scope.RTCPeerConnection ?? missing('RTCPeerConnection'),
    MediaStream: overrides.MediaStream ?? scope.MediaStream ?? missing('MediaStream'),
    mediaDevices: 'mediaDevices' in overrides ? overrides.mediaDevices : scope.navigator?.mediaDevices,
    location: 'location' in overrides ? overrides.location : scope.location,
  };
}

/** A stand-in constructor that explains what is missing when (and only if) it is used. */
function missing<T>(name: string): T {
  return function Missing(): never {
    throw new Error(`${name} is not available in this runtime; pass it in the SDK's environment option`);
  } as unknown as T;
}
