/**
 * Monotonic counters for metrics (the server exports them; nothing here resets them). Plain
 * numbers incremented on the hot path: no labels, no maps.
 */
export interface TurnCounters {
  allocationsCreated: number;
  allocationsExpired: number;
  bindingRequests: number;
  clientToPeerPackets: number;
  clientToPeerBytes: number;
  peerToClientPackets: number;
  peerToClientBytes: number;
  /** 401/438 challenges sent, and those not sent because the source was over its rate. */
  challengesSent: number;
  challengesDropped: number;
  /** Requests with credentials that did not check out (bad HMAC, expired, wrong user...). */
  authFailures: number;
  /** Peer addresses refused by the deny-list (403). */
  peerDenials: number;
  /** 486 and 508 answers: per-user allocations, server allocations, permissions, channels. */
  quotaRejections: number;
  errorResponses: number;
  droppedMalformed: number;
  droppedNoAllocation: number;
  droppedNoPermission: number;
  droppedNoChannel: number;
  /** Packets for a TCP/TLS client not sent because it was not reading (its backlog was full). */
  droppedBackpressure: number;
}

export function createTurnCounters(): TurnCounters {
  return {
    allocationsCreated: 0,
    allocationsExpired: 0,
    bindingRequests: 0,
    clientToPeerPackets: 0,
    clientToPeerBytes: 0,
    peerToClientPackets: 0,
    peerToClientBytes: 0,
    challengesSent: 0,
    challengesDropped: 0,
    authFailures: 0,
    peerDenials: 0,
    quotaRejections: 0,
    errorResponses: 0,
    droppedMalformed: 0,
    droppedNoAllocation: 0,
    droppedNoPermission: 0,
    droppedNoChannel: 0,
    droppedBackpressure: 0,
  };
}
