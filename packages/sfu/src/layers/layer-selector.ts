/*
 * Which simulcast layer to forward to one subscriber (a Consumer): the target only. Switching takes
 * effect at the target's next keyframe, which the caller requests and waits for.
 *
 * Among the layers the publisher is sending now (`active`), sorted by size (area, then bitrate):
 *
 * 1. Size: the smallest layer that covers the subscriber's box, or the largest if none does. A
 *    layer covers the box when width >= maxWidth OR height >= maxHeight: shown letterboxed
 *    (object-fit: contain) it then fills the box without upscaling, whatever the two aspect ratios
 *    (a 9:16 phone in a 16:9 tile is limited by its height). A client that crops (object-fit:
 *    cover) asks for the uncropped size instead: a 16:9 video filling a 400×400 tile is 711×400.
 *    Sizes are in device pixels and as displayed (swap them for a 90° rotation signalled by CVO).
 * 2. Bandwidth: step down from there while the layer does not fit the available bitrate. A layer
 *    of unknown bitrate (0) fits. The smallest layer is always allowed, even when the bandwidth is
 *    short: a blurry, stuttering tile is better than a frozen one. Deciding that even the smallest
 *    layer is too much (and pausing, e.g. for audio's sake) is the caller's, with setPaused().
 * 3. Hysteresis: going down is immediate (the current layer no longer fits, got too big for the
 *    box, or stopped). Going up needs the higher layer to fit `bitrate × headroom` and that to hold
 *    for `upgradeAfterMs`, so a bitrate between 1× and headroom× keeps the current layer either
 *    way, and an estimate that flaps does not flap the output (every upgrade costs a keyframe,
 *    and keyframes are bursts that can cause the very loss that forces the next downgrade).
 *
 * Holding is judged from what select() sees: call it whenever an input changes (a new estimate, a
 * layer's bitrate or activity) or periodically, e.g. on every RTCP report. Peer-derived numbers
 * that are not sizes or rates (NaN, negative) are read as 0, never thrown.
 */

/** One simulcast encoding of a publisher's video track. */
export interface SimulcastLayer {
  /** The RID (RFC 8852), e.g. 'q', 'h', 'f'. */
  id: string;
  /** Width and height of the layer's frames, in pixels (0 if not known yet). */
  width: number;
  height: number;
  /** Measured bits/s; 0 if unknown, which counts as fitting any bandwidth. */
  bitrate: number;
  /** Whether the publisher is sending the layer now. */
  active: boolean;
}

export interface LayerSelectorOptions {
  /**
   * How long a higher layer must keep fitting (size and bandwidth) before it becomes the target
   * (default 2500 ms: about two of libwebrtc's RTCP intervals, so an upgrade rests on more than one
   * REMB or receiver report; short enough that a pinned tile sharpens within ~3 s).
   */
  upgradeAfterMs: number;
  /**
   * A higher layer fits only when bitrate × headroom <= the available bitrate (default 1.2). The
   * current layer stays while bitrate <= available, so the 20% band absorbs a layer's bitrate
   * swinging with motion and the estimate's ±8% steps.
   */
  headroom: number;
}

export const DEFAULT_LAYER_SELECTOR_OPTIONS: Readonly<LayerSelectorOptions> = Object.freeze({
  upgradeAfterMs: 2500,
  headroom: 1.2,
});

export class LayerSelector {
  private readonly upgradeAfterMs: number;
  private readonly headroom: number;
  /** Until the subscriber tells its box, no limit: the largest layer the bandwidth allows. */
  private maxWidth = Number.POSITIVE_INFINITY;
  private maxHeight = Number.POSITIVE_INFINITY;
  private paused = false;
  private target: string | undefined;
  /** Layers above the target that have fitted since (ms), continuously as far as select() saw. */
  private readonly upgradableSince = new Map<string, number>();

  constructor(options: Partial<LayerSelectorOptions> = {}) {
    const { upgradeAfterMs, headroom } = { ...DEFAULT_LAYER_SELECTOR_OPTIONS, ...options };
    if (!(Number.isFinite(upgradeAfterMs) && upgradeAfterMs >= 0)) {
      throw new RangeError(`upgradeAfterMs ${upgradeAfterMs} is not a finite number >= 0`);
    }
    if (!(Number.isFinite(headroom) && headroom >= 1))
      throw new RangeError(`headroom ${headroom} is not a finite number >= 1`);
    this.upgradeAfterMs = upgradeAfterMs;
    this.headroom = headroom;
  }

  /** The target the last select() returned: undefined before it, while paused, or with no active layer. */
  get current(): string | undefined {
    return this.target;
  }

  /**
   * The subscriber's tile, in device pixels. A box without area (0×0, or either side 0) means no
   * layer. Infinity means no limit; NaN or a negative size reads as 0.
   */
  setPreferredSize(maxWidth: number, maxHeight: number): void {
    this.maxWidth = sizeOf(maxWidth);
    this.maxHeight = sizeOf(maxHeight);
  }

  /**
   * Forgets the current target, so the next select() chooses afresh (with headroom, no wait): for
   * when the layers themselves changed (one appeared, or its size became known), which says
   * nothing about the subscriber's bandwidth, the thing the wait protects against.
   */
  forget(): void {
    this.settle(undefined);
  }

  /** Paused: no layer (the tile is hidden, or the subscriber turned video off). */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /**
   * The layer id to forward now, or undefined for none (paused, an empty box, or no active layer).
   * `availableBitrate` is this track's share of the subscriber's downlink in bits/s (e.g. from
   * BandwidthEstimator); `nowMs` the caller's monotonic clock.
   */
  select(layers: readonly SimulcastLayer[], availableBitrate: number, nowMs: number): string | undefined {
    if (this.paused || this.maxWidth === 0 || this.maxHeight === 0) return this.settle(undefined);
    const candidates = layers.filter((layer) => layer.active).sort(bySize);
    if (candidates.length === 0) return this.settle(undefined);
    const available = Number.isNaN(availableBitrate) ? 0 : availableBitrate;

    const sizeLimit = this.sizeLimit(candidates);
    const current = this.target === undefined ? -1 : candidates.findIndex((layer) => layer.id === this.target);
    if (current < 0) {
      // Nothing to hold on to (first choice, after a pause, or the target stopped): choose now, as
      // for an upgrade, so that the choice is one that lasts.
      return this.settle(idOf(candidates, this.highestFitting(candidates, sizeLimit, this.headroom, available)));
    }

    const keep = this.highestFitting(candidates, Math.min(sizeLimit, current), 1, available);
    if (keep < current) return this.settle(idOf(candidates, keep));

    let upgrade = current;
    const upgradable = new Set<string>();
    for (let i = current + 1; i <= sizeLimit; i++) {
      const layer = candidates[i] as SimulcastLayer;
      if (!fits(layer, this.headroom, available)) continue;
      upgradable.add(layer.id);
      const since = this.upgradableSince.get(layer.id) ?? nowMs;
      this.upgradableSince.set(layer.id, since);
      if (nowMs - since >= this.upgradeAfterMs) upgrade = i;
    }
    // A layer that stopped fitting for a moment starts its wait again.
    for (const id of this.upgradableSince.keys()) if (!upgradable.has(id)) this.upgradableSince.delete(id);
    return upgrade > current ? this.settle(idOf(candidates, upgrade)) : this.target;
  }

  /**
   * What this subscriber would use, for sharing its downlink among its tracks: the bitrate of the
   * smallest active layer (the least it gets) and of the layer its box wants (the most it needs).
   * Both 0 when it wants nothing (paused, an empty box, no active layer).
   */
  demand(layers: readonly SimulcastLayer[]): { lowest: number; wanted: number } {
    const candidates = layers.filter((layer) => layer.active).sort(bySize);
    const lowest = candidates[0];
    if (this.paused || this.maxWidth === 0 || this.maxHeight === 0 || lowest === undefined) {
      return { lowest: 0, wanted: 0 };
    }
    const wanted = candidates[this.sizeLimit(candidates)] as SimulcastLayer;
    return { lowest: sizeOf(lowest.bitrate), wanted: sizeOf(wanted.bitrate) };
  }

  /** Index of the smallest layer covering the box, or of the largest when none does. */
  private sizeLimit(sorted: readonly SimulcastLayer[]): number {
    const covering = sorted.findIndex(
      (layer) => sizeOf(layer.width) >= this.maxWidth || sizeOf(layer.height) >= this.maxHeight,
    );
    return covering < 0 ? sorted.length - 1 : covering;
  }

  /** The highest layer at or below `limit` that fits; the smallest if none does. */
  private highestFitting(sorted: readonly SimulcastLayer[], limit: number, factor: number, available: number): number {
    for (let i = limit; i > 0; i--) if (fits(sorted[i] as SimulcastLayer, factor, available)) return i;
    return 0;
  }

  private settle(id: string | undefined): string | undefined {
    if (id === this.target) return id;
    const previous = this.target;
    this.target = id;
    // After an upgrade, layers still above the new target keep their wait: it has been held.
    // Anything else (down, a new choice, none) starts the waits over.
    if (previous === undefined || id === undefined || !this.upgradableSince.has(id)) this.upgradableSince.clear();
    else this.upgradableSince.delete(id);
    return id;
  }
}

/** A size or rate as peer-derived data may carry it: NaN and negatives read as 0 (unknown). */
function sizeOf(value: number): number {
  return Number.isNaN(value) ? 0 : Math.max(value, 0); // Math.max alone lets NaN through
}

function fits(layer: SimulcastLayer, factor: number, available: number): boolean {
  const bitrate = sizeOf(layer.bitrate);
  return bitrate === 0 || bitrate * factor <= available;
}

function bySize(a: SimulcastLayer, b: SimulcastLayer): number {
  const area = sizeOf(a.width) * sizeOf(a.height) - sizeOf(b.width) * sizeOf(b.height);
  if (area !== 0 && !Number.isNaN(area)) return area;
  const rate = sizeOf(a.bitrate) - sizeOf(b.bitrate);
  if (rate !== 0 && !Number.isNaN(rate)) return rate;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function idOf(sorted: readonly SimulcastLayer[], index: number): string {
  return (sorted[index] as SimulcastLayer).id;
}
