/** What a router counts, for metrics (all since the router was created; never reset). */
export interface SfuCounters {
  /** RTP packets received from publishers (any outcome) and their bytes. */
  rtpReceived: number;
  rtpReceivedBytes: number;
  /** RTP packets sent to subscribers (retransmissions excluded) and their bytes. */
  forwardedPackets: number;
  forwardedBytes: number;
  /** Sequence numbers subscribers NACKed, those answered from the cache, and those no longer held. */
  nackedPackets: number;
  retransmittedPackets: number;
  retransmitMisses: number;
  /** Sequence numbers we NACKed towards publishers (loss on their upload). */
  nacksSent: number;
  /** PLI/FIR received from subscribers; keyframe requests sent to publishers (after throttling). */
  keyframeRequestsReceived: number;
  keyframeRequestsSent: number;
  /** A consumer moved to another simulcast layer (or another source). */
  layerSwitches: number;
  /** Sender reports sent to subscribers (rewritten from the publisher's). */
  senderReportsSent: number;
  /** Audio RED packets sent as RED, and as their primary block only (to subscribers without RED). */
  redForwarded: number;
  redPrimaryOnly: number;
  /** Dropped, by why. Never thrown: counted here (SECURITY.md). */
  dropped: {
    /** RTP that does not parse (truncated, bad version, bad extension block...). */
    malformedRtp: number;
    /** RTCP that does not parse (the walk stops at the bad packet; what came before is used). */
    malformedRtcp: number;
    /** A payload type we did not negotiate (RED, RTX, FEC, another codec). */
    unknownPayloadType: number;
    /** An SSRC the offer did not announce, or a layer beyond the offered ones. */
    unknownSsrc: number;
    /** RTP sent by a subscriber (our m-lines towards it are send-only). */
    wrongDirection: number;
  };
}

export function newCounters(): SfuCounters {
  return {
    rtpReceived: 0,
    rtpReceivedBytes: 0,
    forwardedPackets: 0,
    forwardedBytes: 0,
    nackedPackets: 0,
    retransmittedPackets: 0,
    retransmitMisses: 0,
    nacksSent: 0,
    keyframeRequestsReceived: 0,
    keyframeRequestsSent: 0,
    layerSwitches: 0,
    senderReportsSent: 0,
    redForwarded: 0,
    redPrimaryOnly: 0,
    dropped: { malformedRtp: 0, malformedRtcp: 0, unknownPayloadType: 0, unknownSsrc: 0, wrongDirection: 0 },
  };
}
