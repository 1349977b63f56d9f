/**
 * Protocol-level limits shared by client and server. Server-side limits that operators tune
 * (participants per room, rate) are defaults here and configurable in the server.
 */
export const LIMITS = {
  /** Largest WebSocket frame the server accepts (SDP is the large message). Over it: close 1009. */
  defaultMaxMessageBytes: 64 * 1024,
  /** Longest SDP accepted inside a `signal`. */
  sdpMaxChars: 60 * 1024,
  displayNameMaxChars: 64,
  defaultMaxParticipants: 50,
  /** Token bucket per connection: sustained messages per second, and burst size. */
  defaultRateLimitPerSecond: 50,
  defaultRateLimitBurst: 200,
  /** Server pings every `pingIntervalMs`; a peer silent for `pingTimeoutMs` is removed. */
  defaultPingIntervalMs: 5_000,
  defaultPingTimeoutMs: 12_000,
  /** A socket that has not sent `join` within this time is closed (4002). */
  defaultJoinTimeoutMs: 10_000,
} as const;
