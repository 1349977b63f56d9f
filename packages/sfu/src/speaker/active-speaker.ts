/*
 * Dominant-speaker detection for a room, from the RFC 6464 audio level each publisher's Opus
 * packets carry (readAudioLevel). Sans-IO: the caller passes every level with its own clock
 * (`nowMs`) and calls update() every 100-300 ms; nothing here keeps time by itself.
 *
 * 1. **Is this packet voice?** Levels are -dBov (0 loudest, 127 silence). A packet is voice when it
 *    is loud in absolute terms (level <= maxSpeechLevel), at least noiseMarginDb louder than the
 *    source's noise floor, and not denied by the sender's VAD. The floor is the quietest level of
 *    the source's last noiseFloorWindowMs ("minimum statistics"): speech has gaps between syllables
 *    and words that show the room, a fan or a hum is there in every packet, so steady noise never
 *    stands out from its own floor. The V bit is trusted only once the source has set it: senders
 *    without a VAD (or with it unused, `vad=off`) send it as 0 on every packet.
 * 2. **How much voice, and when?** Each source keeps a ring of fixed time bins (binMs) holding
 *    milliseconds of voice: each voice packet counts for the source's packet duration, estimated
 *    from its arrival spacing so 10, 20 and 60 ms packets weigh alike. A bin with no packet holds
 *    nothing, so a source whose packets stopped (mute, DTX, loss) reads as silent as `nowMs` moves
 *    on. Windows are read over complete bins only.
 * 3. **Who is dominant?** A challenger must be speaking now (activationMinVoiceMs of voice in the
 *    last activationWindowMs: a cough, a click or a "yeah" is shorter) and lead the dominant speaker
 *    clearly (switchLeadMs more voice in the last comparisonWindowMs). The lead is a difference
 *    capped by its window, so a challenger only a little more active never takes over, and the
 *    dominant speaker pausing for less than about the lead while the challenger talks on does not
 *    hand it over: no flapping during double talk. Nobody speaking changes nothing; the last
 *    dominant speaker stays until someone else speaks.
 *
 * Memory per source is two fixed-size rings; onAudioLevel() is O(1) (advancing a ring clears at
 * most its length of slots, once per bin elapsed). update() and speaking() read every source's
 * windows: O(sources x window bins), at the caller's pace rather than per packet.
 */

/** Tuning knobs, all with defaults (`DEFAULT_ACTIVE_SPEAKER_OPTIONS`); validated once by the constructor. */
export interface ActiveSpeakerOptions {
  /** Granularity of the activity accounting, 10-1000 ms (default 100). Windows are whole bins. */
  binMs: number;
  /** Window for speaking() (default 500 ms). */
  speakingWindowMs: number;
  /** Voice needed in speakingWindowMs to count as speaking (default 200 ms). */
  speakingMinVoiceMs: number;
  /** Window for "speaking now", which a challenger must be (default 1000 ms). */
  activationWindowMs: number;
  /** Voice needed in activationWindowMs (default 500 ms): longer than a cough or an interjection. */
  activationMinVoiceMs: number;
  /** Window over which a challenger's voice is compared with the dominant speaker's (default 1500 ms). */
  comparisonWindowMs: number;
  /** How much more voice than the dominant speaker a challenger needs in comparisonWindowMs (default 500 ms). */
  switchLeadMs: number;
  /** Quietest level that can be voice, 0-127 -dBov (default 55): anything quieter is room sound. */
  maxSpeechLevel: number;
  /** How much louder than the source's noise floor voice must be, in dB (default 12). */
  noiseMarginDb: number;
  /** How far back the noise floor (the quietest level) is looked for (default 10000 ms). */
  noiseFloorWindowMs: number;
}

/** What update() and removeSource() report when the dominant speaker changes. */
export interface SpeakerChange {
  dominant: string | undefined;
  previous: string | undefined;
}

export const DEFAULT_ACTIVE_SPEAKER_OPTIONS: Readonly<ActiveSpeakerOptions> = Object.freeze({
  binMs: 100,
  speakingWindowMs: 500,
  speakingMinVoiceMs: 200,
  activationWindowMs: 1000,
  activationMinVoiceMs: 500,
  comparisonWindowMs: 1500,
  switchLeadMs: 500,
  maxSpeechLevel: 55,
  noiseMarginDb: 12,
  noiseFloorWindowMs: 10_000,
});

const MAX_WINDOW_MS = 60_000;
const MAX_NOISE_FLOOR_WINDOW_MS = 600_000;
// The noise floor window is kept as this many blocks, each with its quietest level.
const NOISE_BLOCKS = 10;
// Opus frames are 2.5-120 ms; spacing outside that is a gap (DTX, loss) or a burst, not a duration.
const MIN_PACKET_MS = 2.5;
const MAX_PACKET_MS = 120;
const DEFAULT_PACKET_MS = 20;
// Weight of one arrival gap in the packet duration estimate: network jitter averages out.
const PACKET_MS_GAIN = 1 / 16;
const SILENCE = 127;

interface Source {
  readonly id: string;
  /** Voice milliseconds per bin, a ring indexed by absolute bin number modulo its length. */
  readonly voiceMs: Float64Array;
  /** Sum of the levels and count of the voice packets per bin, for "loudest first". */
  readonly voiceLevelSum: Float64Array;
  readonly voicePackets: Float64Array;
  /** Absolute number of the newest bin written; NaN before the first packet. */
  bin: number;
  /** Quietest (highest) level per noise block, -Infinity for a block without packets. */
  readonly quietest: Float64Array;
  /** Absolute number of the newest noise block written; NaN before the first packet. */
  block: number;
  /** Quietest level of the noise blocks before the newest one. */
  quietestBefore: number;
  lastPacketMs: number;
  /** Estimated duration of one packet. */
  packetMs: number;
  /** The source has set the V bit at least once, so a clear V bit means "no voice". */
  hasVad: boolean;
}

/** What one source did in the windows update() compares. */
interface Activity {
  readonly source: Source;
  readonly activationMs: number;
  readonly comparisonMs: number;
}

const mod = (n: number, m: number) => ((n % m) + m) % m;

// Times are the caller's milliseconds; beyond 2^53 bin arithmetic would lose whole bins.
const isTime = (ms: number) => Number.isFinite(ms) && Math.abs(ms) <= Number.MAX_SAFE_INTEGER;

function validate(options: ActiveSpeakerOptions): void {
  const check = (name: keyof ActiveSpeakerOptions, ok: (v: number) => boolean, expected: string) => {
    const value = options[name];
    if (typeof value !== 'number' || !ok(value)) throw new RangeError(`${name} ${value} is not ${expected}`);
  };
  const integerIn = (min: number, max: number) => (v: number) => Number.isInteger(v) && v >= min && v <= max;
  const { binMs } = options;
  check('binMs', integerIn(10, 1000), 'an integer 10-1000');
  const window = (v: number) => Number.isFinite(v) && v >= binMs && v <= MAX_WINDOW_MS;
  const windowText = `${binMs}-${MAX_WINDOW_MS} ms`;
  check('speakingWindowMs', window, windowText);
  check('activationWindowMs', window, windowText);
  check('comparisonWindowMs', window, windowText);
  const within = (limit: keyof ActiveSpeakerOptions) => (v: number) => v > 0 && v <= options[limit];
  check('speakingMinVoiceMs', within('speakingWindowMs'), 'positive and within speakingWindowMs');
  check('activationMinVoiceMs', within('activationWindowMs'), 'positive and within activationWindowMs');
  check('switchLeadMs', within('comparisonWindowMs'), 'positive and within comparisonWindowMs');
  check('maxSpeechLevel', integerIn(0, SILENCE), 'an integer 0-127');
  check('noiseMarginDb', (v) => Number.isFinite(v) && v >= 0 && v <= SILENCE, '0-127 dB');
  check(
    'noiseFloorWindowMs',
    (v) => Number.isFinite(v) && v >= NOISE_BLOCKS && v <= MAX_NOISE_FLOOR_WINDOW_MS,
    `${NOISE_BLOCKS}-${MAX_NOISE_FLOOR_WINDOW_MS} ms`,
  );
}

export class ActiveSpeakerDetector {
  private readonly options: Readonly<ActiveSpeakerOptions>;
  private readonly speakingBins: number;
  private readonly activationBins: number;
  private readonly comparisonBins: number;
  /** Ring length: the longest window plus the bin still filling. */
  private readonly ringBins: number;
  private readonly blockMs: number;
  /** Registration order is the last tie-break, so results never depend on anything else. */
  private readonly sources = new Map<string, Source>();
  private current: string | undefined;

  constructor(options: Partial<ActiveSpeakerOptions> = {}) {
    const merged: ActiveSpeakerOptions = { ...DEFAULT_ACTIVE_SPEAKER_OPTIONS };
    // Only the known keys, and an explicit undefined means "the default" like a missing key.
    for (const key of Object.keys(DEFAULT_ACTIVE_SPEAKER_OPTIONS) as (keyof ActiveSpeakerOptions)[]) {
      const value = options[key];
      if (value !== undefined) merged[key] = value;
    }
    validate(merged);
    this.options = Object.freeze(merged);
    const bins = (ms: number) => Math.max(1, Math.round(ms / merged.binMs));
    this.speakingBins = bins(merged.speakingWindowMs);
    this.activationBins = bins(merged.activationWindowMs);
    this.comparisonBins = bins(merged.comparisonWindowMs);
    this.ringBins = Math.max(this.speakingBins, this.activationBins, this.comparisonBins) + 1;
    this.blockMs = merged.noiseFloorWindowMs / NOISE_BLOCKS;
  }

  /** The dominant speaker (a registered source id), undefined until someone has spoken. */
  get dominant(): string | undefined {
    return this.current;
  }

  /** Registers a publisher's audio track. Registering an id again keeps what it has heard. */
  addSource(id: string): void {
    if (this.sources.has(id)) return;
    this.sources.set(id, {
      id,
      voiceMs: new Float64Array(this.ringBins),
      voiceLevelSum: new Float64Array(this.ringBins),
      voicePackets: new Float64Array(this.ringBins),
      bin: Number.NaN,
      quietest: new Float64Array(NOISE_BLOCKS).fill(Number.NEGATIVE_INFINITY),
      block: Number.NaN,
      quietestBefore: Number.NEGATIVE_INFINITY,
      lastPacketMs: Number.NaN,
      packetMs: DEFAULT_PACKET_MS,
      hasVad: false,
    });
  }

  /**
   * Forgets a source. When it was the dominant speaker, the one now speaking with the most voice
   * takes over — or, if nobody is speaking now, whoever spoke most in the comparison window — and
   * undefined if nobody spoke at all; that change is returned. Unknown ids change nothing.
   */
  removeSource(id: string, nowMs: number): SpeakerChange | undefined {
    if (!this.sources.delete(id) || this.current !== id) return undefined;
    let next: string | undefined;
    if (isTime(nowMs)) {
      const activities = this.activities(nowMs);
      next = this.pickWithoutDominant(activities);
      if (next === undefined) {
        let most = 0;
        for (const a of activities) {
          if (a.comparisonMs > most) {
            most = a.comparisonMs;
            next = a.source.id;
          }
        }
      }
    }
    this.current = next;
    return { dominant: next, previous: id };
  }

  /**
   * One packet's RFC 6464 audio level (`voiceActivity` undefined when the sender does not say).
   * Unknown ids, levels outside 0-127 or not whole, and times that are not finite are ignored.
   */
  onAudioLevel(id: string, level: number, voiceActivity: boolean | undefined, nowMs: number): void {
    const s = this.sources.get(id);
    if (s === undefined || !Number.isInteger(level) || level < 0 || level > SILENCE || !isTime(nowMs)) return;
    const { maxSpeechLevel, noiseMarginDb } = this.options;

    if (voiceActivity === true) s.hasVad = true;
    const gap = nowMs - s.lastPacketMs; // NaN for the first packet
    if (gap >= 0 && gap <= MAX_PACKET_MS) {
      s.packetMs = Math.min(MAX_PACKET_MS, Math.max(MIN_PACKET_MS, s.packetMs + (gap - s.packetMs) * PACKET_MS_GAIN));
    }
    if (!(nowMs < s.lastPacketMs)) s.lastPacketMs = nowMs;

    // Judged against the floor before this packet: a source's very first packet has none, so it is
    // not voice (a floor equal to the packet itself would say nothing either).
    const blockSlot = this.advanceBlock(s, Math.floor(nowMs / this.blockMs));
    const floor = Math.max(s.quietestBefore, s.quietest[blockSlot] ?? Number.NEGATIVE_INFINITY);
    const voice = level <= maxSpeechLevel && level <= floor - noiseMarginDb && !(voiceActivity === false && s.hasVad);
    if (level > (s.quietest[blockSlot] ?? Number.NEGATIVE_INFINITY)) s.quietest[blockSlot] = level;

    if (!voice) return;
    const slot = this.advanceBin(s, Math.floor(nowMs / this.options.binMs));
    s.voiceMs[slot] = (s.voiceMs[slot] ?? 0) + s.packetMs;
    s.voiceLevelSum[slot] = (s.voiceLevelSum[slot] ?? 0) + level;
    s.voicePackets[slot] = (s.voicePackets[slot] ?? 0) + 1;
  }

  /**
   * Re-evaluates the dominant speaker at `nowMs`; returns the change, or undefined when it stays.
   * Call it periodically (every 100-300 ms): a switch is decided here, never per packet.
   */
  update(nowMs: number): SpeakerChange | undefined {
    if (!isTime(nowMs)) return undefined;
    const activities = this.activities(nowMs);
    const previous = this.current;
    let next: string | undefined;
    if (previous === undefined) {
      next = this.pickWithoutDominant(activities);
    } else {
      const incumbent = activities.find((a) => a.source.id === previous);
      const incumbentMs = incumbent?.comparisonMs ?? 0;
      let bestLead = 0;
      let best: Activity | undefined;
      for (const a of activities) {
        if (a.source.id === previous || a.activationMs < this.options.activationMinVoiceMs) continue;
        const lead = a.comparisonMs - incumbentMs;
        if (lead < this.options.switchLeadMs) continue;
        if (best === undefined || lead > bestLead || (lead === bestLead && a.activationMs > best.activationMs)) {
          best = a;
          bestLead = lead;
        }
      }
      next = best?.source.id;
    }
    if (next === undefined || next === previous) return undefined;
    this.current = next;
    return { dominant: next, previous };
  }

  /** Sources currently speaking (for "speaking" indicators), loudest first. */
  speaking(nowMs: number): string[] {
    if (!isTime(nowMs)) return [];
    const last = Math.floor(nowMs / this.options.binMs) - 1;
    const found: { id: string; voiceMs: number; level: number }[] = [];
    for (const s of this.sources.values()) {
      let voiceMs = 0;
      let levelSum = 0;
      let packets = 0;
      for (let k = 0; k < this.speakingBins; k++) {
        const slot = this.slotOf(s, last - k);
        if (slot === undefined) continue;
        voiceMs += s.voiceMs[slot] ?? 0;
        levelSum += s.voiceLevelSum[slot] ?? 0;
        packets += s.voicePackets[slot] ?? 0;
      }
      if (voiceMs >= this.options.speakingMinVoiceMs && packets > 0) {
        found.push({ id: s.id, voiceMs, level: levelSum / packets });
      }
    }
    // Array.prototype.sort is stable: equal entries keep registration order.
    found.sort((a, b) => a.level - b.level || b.voiceMs - a.voiceMs);
    return found.map((f) => f.id);
  }

  /** With no dominant speaker: whoever is speaking now with the most voice in the comparison window. */
  private pickWithoutDominant(activities: readonly Activity[]): string | undefined {
    let best: Activity | undefined;
    for (const a of activities) {
      if (a.activationMs < this.options.activationMinVoiceMs) continue;
      if (best === undefined || a.comparisonMs > best.comparisonMs) best = a;
    }
    return best?.source.id;
  }

  private activities(nowMs: number): Activity[] {
    const last = Math.floor(nowMs / this.options.binMs) - 1;
    const { binMs } = this.options;
    const list: Activity[] = [];
    for (const source of this.sources.values()) {
      list.push({
        source,
        // Capped: a burst of late packets cannot make a window hold more voice than it lasts.
        activationMs: Math.min(this.voiceIn(source, last, this.activationBins), this.activationBins * binMs),
        comparisonMs: Math.min(this.voiceIn(source, last, this.comparisonBins), this.comparisonBins * binMs),
      });
    }
    return list;
  }

  /** Voice milliseconds in the `bins` bins ending with bin `last`. */
  private voiceIn(s: Source, last: number, bins: number): number {
    let sum = 0;
    for (let k = 0; k < bins; k++) {
      const slot = this.slotOf(s, last - k);
      if (slot !== undefined) sum += s.voiceMs[slot] ?? 0;
    }
    return sum;
  }

  /** The ring slot of absolute bin `bin`, undefined when the ring does not (or no longer) hold it. */
  private slotOf(s: Source, bin: number): number | undefined {
    // NaN (no packet yet) fails both comparisons.
    if (!(bin <= s.bin && bin > s.bin - this.ringBins)) return undefined;
    return mod(bin, this.ringBins);
  }

  /** Moves the activity ring on to `bin` (clearing the bins skipped) and returns its slot. */
  private advanceBin(s: Source, bin: number): number {
    if (Number.isNaN(s.bin)) {
      s.bin = bin;
    } else if (bin > s.bin) {
      const steps = Math.min(bin - s.bin, this.ringBins);
      for (let k = 1; k <= steps; k++) {
        const slot = mod(bin - steps + k, this.ringBins);
        s.voiceMs[slot] = 0;
        s.voiceLevelSum[slot] = 0;
        s.voicePackets[slot] = 0;
      }
      s.bin = bin;
    }
    // A time before the newest bin (the caller's clock stepped back) counts in the newest bin.
    return mod(s.bin, this.ringBins);
  }

  /** Moves the noise ring on to `block`, keeping the quietest level of the blocks before it. */
  private advanceBlock(s: Source, block: number): number {
    if (Number.isNaN(s.block)) {
      s.block = block;
    } else if (block > s.block) {
      const steps = Math.min(block - s.block, NOISE_BLOCKS);
      for (let k = 1; k <= steps; k++) s.quietest[mod(block - steps + k, NOISE_BLOCKS)] = Number.NEGATIVE_INFINITY;
      s.block = block;
      const slot = mod(block, NOISE_BLOCKS);
      let quietest = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < NOISE_BLOCKS; k++) {
        if (k !== slot) quietest = Math.max(quietest, s.quietest[k] ?? Number.NEGATIVE_INFINITY);
      }
      s.quietestBefore = quietest;
    }
    return mod(s.block, NOISE_BLOCKS);
  }
}
