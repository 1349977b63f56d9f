/*
 * How many bits per second one subscriber's downlink takes, from the feedback its browser sends.
 * We do not negotiate transport-cc, so there is no send-side delay estimate: the delay-based part
 * is the subscriber's own, arriving as REMB (draft-alvestrand-rmcat-remb). We add the loss-based
 * controller of GCC (draft-ietf-rmcat-gcc-02 §6, as libwebrtc's SendSideBandwidthEstimation runs
 * it) on the receiver reports' fraction lost, and take the lower of the two:
 *
 * - REMB caps the estimate while it is fresh. A REMB older than `rembTimeoutMs` stops
 *   constraining: libwebrtc puts REMB in every compound RTCP packet it sends, so silence means the
 *   subscriber stopped sending it (or its RTCP is lost), not that the link is unlimited.
 * - Loss above 10% lowers the loss-based value to rate × (1 - loss/2), at most once per 300 ms
 *   (one RR with several report blocks must not cut three times). The rate is the lower of that
 *   value and what we actually sent: the loss says *that* rate was too much, and an estimate
 *   floating above it was never tested (in libwebrtc the encoder follows the target, so the two
 *   are the same; in an SFU the layers decide what is sent).
 * - Loss below 2% raises it by 8% a second (+1 kbit/s so low rates do not stick), prorated to the
 *   time since the previous report, but never above 1.5 × the sending rate + 10 kbit/s (the limit
 *   libwebrtc's AIMD puts on its REMB): a loss-free report only vouches for what was sent. Growth
 *   beyond that needs probing (padding), which is the caller's; without it the estimate holds.
 * - Between 2% and 10% it holds: some loss is normal on wireless links.
 * - Start phase (libwebrtc's): during the first 2 s after the first feedback, while the latest
 *   report shows no loss, a REMB above the loss-based value lifts it, so a subscriber whose
 *   browser reports a fast link does not creep up from the start value at 8% a second.
 *
 * The clock is the caller's (`nowMs`, monotonic milliseconds). Peer input (a REMB bitrate, a
 * fraction lost) that is not a number is ignored, never thrown; only bad options throw RangeError.
 */

export interface BandwidthEstimatorOptions {
  /**
   * Estimate before any feedback, bits/s (default 1 Mbit/s). Clamped into [minBitrate,
   * maxBitrate]. High enough for the middle layer of a 720p simulcast (libwebrtc sends 640×360 at
   * up to ~700 kbit/s), so a new subscriber starts sharp; not the full layer until feedback
   * confirms it. (libwebrtc's own start is 300 kbit/s, which would mean the smallest layer first.)
   */
  startBitrate: number;
  /**
   * Floor, bits/s (default 100 kbit/s): loss never drives the estimate lower, so it recovers at
   * 8% a second from a useful value (10× in 30 s), not from nothing. The smallest layer is
   * forwarded anyway (LayerSelector), so the floor costs nothing there.
   */
  minBitrate: number;
  /**
   * Ceiling, bits/s (default 20 Mbit/s): far above a grid of full-size layers (libwebrtc's 720p
   * layer is at most 2.5 Mbit/s), so it only bounds the estimate, never picks layers.
   */
  maxBitrate: number;
  /**
   * A REMB older than this stops constraining (default 3000 ms: libwebrtc sends video RTCP every
   * 1 s, randomized to 0.5-1.5 s, with REMB in each, so this is two reports missed).
   */
  rembTimeoutMs: number;
}

export const DEFAULT_BANDWIDTH_ESTIMATOR_OPTIONS: Readonly<BandwidthEstimatorOptions> = Object.freeze({
  startBitrate: 1_000_000,
  minBitrate: 100_000,
  maxBitrate: 20_000_000,
  rembTimeoutMs: 3000,
});

/** Below this fraction lost the rate may grow; above HIGH_LOSS it must fall (GCC §6). */
const LOW_LOSS = 0.02;
const HIGH_LOSS = 0.1;
const INCREASE_PER_SECOND = 1.08;
/** libwebrtc adds 1 kbit/s to each increase so that a very low rate still moves. */
const INCREASE_EXTRA_PER_SECOND = 1000;
/** At most this much time counts for one increase: a long silence is not a long loss-free run. */
const MAX_INCREASE_STEP_MS = 1000;
const MIN_DECREASE_INTERVAL_MS = 300;
const START_PHASE_MS = 2000;
/** Growth stops at SEND_FACTOR × the sending rate + SEND_EXTRA (libwebrtc's AIMD limit). */
const SEND_FACTOR = 1.5;
const SEND_EXTRA = 10_000;
/** The sending rate is measured over BUCKETS × BUCKET_MS (1 s, about one RTCP interval). */
const BUCKET_MS = 100;
const BUCKETS = 10;

export class BandwidthEstimator {
  private readonly options: BandwidthEstimatorOptions;
  /** The loss-based value, always within [minBitrate, maxBitrate]. */
  private lossBased: number;
  private remb: number | undefined;
  private rembAtMs = 0;
  private firstFeedbackAtMs: number | undefined;
  /** Fraction lost (0-255) of the latest receiver report, 0 before the first. */
  private lastFractionLost = 0;
  private lastReportAtMs: number | undefined;
  private lastDecreaseAtMs: number | undefined;
  /** Bytes sent per 100 ms bucket, and which bucket (time / 100 ms) each slot holds. */
  private readonly bucketBytes = new Float64Array(BUCKETS);
  private readonly bucketIndex = new Float64Array(BUCKETS).fill(Number.NaN);

  constructor(options: Partial<BandwidthEstimatorOptions> = {}) {
    const merged = { ...DEFAULT_BANDWIDTH_ESTIMATOR_OPTIONS, ...options };
    const { startBitrate, minBitrate, maxBitrate, rembTimeoutMs } = merged;
    for (const [name, value] of Object.entries({ startBitrate, minBitrate, maxBitrate, rembTimeoutMs })) {
      if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} ${value} is not a finite number >= 0`);
    }
    if (maxBitrate <= 0) throw new RangeError(`maxBitrate ${maxBitrate} is not positive`);
    if (minBitrate > maxBitrate) throw new RangeError(`minBitrate ${minBitrate} is above maxBitrate ${maxBitrate}`);
    this.options = merged;
    this.lossBased = this.clamp(startBitrate);
  }

  /** A REMB from the subscriber (`RembItem.bitrate`, bits/s). */
  onRemb(bitrate: number, nowMs: number): void {
    if (!(Number.isFinite(bitrate) && bitrate >= 0) || !Number.isFinite(nowMs)) return;
    this.noteFeedback(nowMs);
    this.remb = bitrate;
    this.rembAtMs = nowMs;
    if (this.lastFractionLost === 0 && this.inStartPhase(nowMs)) {
      this.lossBased = Math.max(this.lossBased, this.clamp(bitrate));
    }
  }

  /**
   * A receiver report's fraction lost, in 1/256 (`ReportBlock.fractionLost`). With one block per
   * stream we send, pass their combination (weighted by packets, or the worst) once per RR: the
   * estimate is for the whole downlink.
   */
  onReceiverReport(fractionLost: number, nowMs: number): void {
    if (Number.isNaN(fractionLost) || !Number.isFinite(nowMs)) return;
    const fraction = Math.min(255, Math.max(0, fractionLost));
    this.noteFeedback(nowMs);
    const sinceReportMs =
      this.lastReportAtMs === undefined ? 0 : Math.min(MAX_INCREASE_STEP_MS, Math.max(0, nowMs - this.lastReportAtMs));
    this.lastReportAtMs = nowMs;
    this.lastFractionLost = fraction;
    const loss = fraction / 256;

    if (loss < LOW_LOSS) {
      const seconds = sinceReportMs / 1000;
      const grown = this.lossBased * INCREASE_PER_SECOND ** seconds + INCREASE_EXTRA_PER_SECOND * seconds;
      const limit = SEND_FACTOR * this.sendingRate(nowMs) + SEND_EXTRA;
      // Growth never pulls the value down: a start value above the limit stays until loss says otherwise.
      this.lossBased = this.clamp(Math.max(this.lossBased, Math.min(grown, limit)));
    } else if (loss > HIGH_LOSS) {
      if (this.lastDecreaseAtMs !== undefined && nowMs - this.lastDecreaseAtMs < MIN_DECREASE_INTERVAL_MS) return;
      const sent = this.sendingRate(nowMs);
      const base = sent > 0 ? Math.min(this.lossBased, sent) : this.lossBased;
      this.lossBased = this.clamp(base * (1 - 0.5 * loss));
      this.lastDecreaseAtMs = nowMs;
    }
  }

  /** Bytes we sent to this subscriber (every packet, audio and RTX included), for the sending rate. */
  onSent(bytes: number, nowMs: number): void {
    if (!(bytes > 0) || !Number.isFinite(bytes) || !Number.isFinite(nowMs)) return;
    const index = Math.floor(nowMs / BUCKET_MS);
    const slot = ((index % BUCKETS) + BUCKETS) % BUCKETS;
    const held = this.bucketIndex[slot] as number;
    if (held !== index) {
      if (index < held) return; // older than the window the slot already moved on to
      this.bucketIndex[slot] = index;
      this.bucketBytes[slot] = 0;
    }
    this.bucketBytes[slot] = (this.bucketBytes[slot] as number) + bytes;
  }

  /** What we sent over the last second, bits/s. */
  sendingRate(nowMs: number): number {
    const index = Math.floor(nowMs / BUCKET_MS);
    const oldest = index - BUCKETS + 1;
    let bytes = 0;
    for (let slot = 0; slot < BUCKETS; slot++) {
      const held = this.bucketIndex[slot] as number;
      if (held >= oldest && held <= index) bytes += this.bucketBytes[slot] as number;
    }
    // The window runs from the oldest bucket's start to now: 900-1000 ms, the newest bucket partial.
    const spanMs = nowMs - oldest * BUCKET_MS;
    return spanMs > 0 ? (bytes * 8 * 1000) / spanMs : 0;
  }

  /** Bits per second this subscriber's downlink takes: min(fresh REMB, loss-based), within floor and ceiling. */
  estimate(nowMs: number): number {
    const fresh = this.remb !== undefined && nowMs - this.rembAtMs <= this.options.rembTimeoutMs;
    return this.clamp(fresh ? Math.min(this.remb as number, this.lossBased) : this.lossBased);
  }

  private noteFeedback(nowMs: number): void {
    if (this.firstFeedbackAtMs === undefined) this.firstFeedbackAtMs = nowMs;
  }

  private inStartPhase(nowMs: number): boolean {
    return this.firstFeedbackAtMs !== undefined && nowMs - this.firstFeedbackAtMs < START_PHASE_MS;
  }

  private clamp(bitrate: number): number {
    return Math.min(this.options.maxBitrate, Math.max(this.options.minBitrate, bitrate));
  }
}
