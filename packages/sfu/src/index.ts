// The SFU media router: Router → PublishTransport (Producers) / SubscribeTransport (Consumers) over
// a media engine (node-datachannel), and the sans-IO RTP/RTCP pieces they are built from.
// See ../README.md.

export { isVp8Keyframe, readVp8Descriptor, type Vp8Descriptor, type Vp8ParseFailure } from './codecs/vp8.js';
export {
  type ConnectionState,
  EngineError,
  type EngineErrorReason,
  type EnginePublisher,
  type EngineSubscriber,
  type LocalCandidate,
  type MediaEngine,
  type MediaKind,
  type OfferedLayer,
  type PublishedTrack,
  SUBSCRIBER_PAYLOAD_TYPES,
  type SubscriberSlotMedia,
} from './engine/engine.js';
export { NdcEngine, type NdcEngineOptions } from './engine/ndc-engine.js';
export { readPublishedTracks } from './engine/offer.js';
export { RtpEncodeError, type RtpEncodeReason, SfuError } from './errors.js';
export { NackGenerator, type NackGeneratorOptions } from './forwarding/nack-generator.js';
export { RtpPacketCache, type RtpPacketCacheOptions } from './forwarding/packet-cache.js';
export { BandwidthEstimator, type BandwidthEstimatorOptions } from './layers/bandwidth-estimator.js';
export { LayerSelector, type LayerSelectorOptions, type SimulcastLayer } from './layers/layer-selector.js';
export { Consumer, type ConsumerEvents } from './router/consumer.js';
export { newCounters, type SfuCounters } from './router/counters.js';
export type { ListenerErrorHandler } from './router/emitter.js';
export { type CloseReason, Producer, type ProducerEvents, type ProducerStream } from './router/producer.js';
export { Router, type RouterEvents, type RouterOptions } from './router/router.js';
export { DEFAULT_ROUTER_TUNING, type RouterTuning } from './router/router-context.js';
export {
  PublishTransport,
  RouterError,
  type RouterErrorReason,
  SubscribeTransport,
  type SubscribeTransportEvents,
  type TransportEvents,
} from './router/transports.js';
export {
  buildFir,
  buildNack,
  buildPli,
  buildReceiverReport,
  buildRemb,
  buildSenderReport,
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
  type SenderReportFields,
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
export { ActiveSpeakerDetector, type ActiveSpeakerOptions, type SpeakerChange } from './speaker/active-speaker.js';
