// The SFU media router's sans-IO core, first increment: RTP/RTCP over bytes (no sockets, no
// timers, no engine). See ../README.md for the rules and what comes next.

export {
  type MediaKind,
  PublishConnection,
  type PublishConnectionOptions,
  type PublishConnectionState,
  type PublishedTrack,
} from './engine/publish-connection.js';
export { RtpEncodeError, type RtpEncodeReason, SfuError } from './errors.js';
export {
  buildFir,
  buildNack,
  buildPli,
  buildReceiverReport,
  buildRemb,
  FeedbackFormat,
  type FirEntry,
  type FirItem,
  MAX_REMB_BITRATE,
  type NackItem,
  type PliItem,
  type ReceiverReportItem,
  type RembItem,
  type ReportBlock,
  type RtcpCompound,
  type RtcpCompoundFailure,
  type RtcpItem,
  type RtcpItemPosition,
  RtcpPacketType,
  type RtcpParseReason,
  type RtcpWalk,
  readRtcpCompound,
  rewriteMediaSsrc,
  rewriteSenderSsrc,
  type SenderReportItem,
  type TransportCcItem,
} from './rtcp/rtcp-packet.js';
export { isRtcp, isRtp, RTCP_HEADER_LENGTH, RTP_FIXED_HEADER_LENGTH } from './rtp/demux.js';
export {
  type AudioLevel,
  RtpExtensionUri,
  readAudioLevel,
  readMid,
  readRepairedRtpStreamId,
  readRtpStreamId,
  readTransportWideSequenceNumber,
  writeTransportWideSequenceNumber,
} from './rtp/header-extensions.js';
export {
  ONE_BYTE_EXTENSION_PROFILE,
  type RtpExtensionForm,
  type RtpHeader,
  type RtpHeaderRewrite,
  type RtpParseFailure,
  type RtpParseReason,
  readRtpHeader,
  rewriteRtpHeader,
  TWO_BYTE_EXTENSION_PROFILE,
} from './rtp/rtp-packet.js';
export {
  type RewrittenSequence,
  SequenceRewriter,
  type SequenceRewriterOptions,
  type SourceSequence,
} from './rtp/sequence-rewriter.js';
export { isNewerSequence, isNewerTimestamp, sequenceDelta, timestampDelta } from './rtp/serial.js';
