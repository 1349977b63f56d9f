/*
 * Sharing one subscriber's downlink among its video tracks. Each track says what it needs: the
 * bitrate of its smallest layer (`lowest`, what it gets even when bandwidth is short) and of the
 * layer its tile wants (`wanted`). Then:
 *
 * 1. Everything wanted fits: each gets its wanted rate scaled up by the same factor, so the spare
 *    is shared in proportion and every track can upgrade with headroom.
 * 2. The smallest layers fit but not everything wanted: each gets its lowest, plus the rest in
 *    proportion to how much more its tile wants. A big tile gets more than a thumbnail.
 * 3. Not even the smallest layers fit: each gets the budget in proportion to its lowest (the layer
 *    selector forwards the smallest layer anyway; a blurry tile beats a frozen one).
 *
 * Unknown rates (0) fit anything; a track wanting nothing gets nothing.
 */

export interface TrackDemand {
  /** Bits/s of the smallest layer; 0 if unknown or wanting nothing. */
  lowest: number;
  /** Bits/s of the layer the tile wants; 0 if unknown or wanting nothing. */
  wanted: number;
}

/** Each track's share of `budget` (bits/s), in the order of `demands`. */
export function shareDownlink(budget: number, demands: readonly TrackDemand[]): number[] {
  const available = Number.isNaN(budget) ? 0 : Math.max(0, budget); // NaN and -Infinity: nothing
  if (!Number.isFinite(available)) return demands.map(() => available);
  const clean = demands.map(({ lowest, wanted }) => {
    const low = rate(lowest);
    return { lowest: low, wanted: Math.max(low, rate(wanted)) };
  });
  const lowestSum = clean.reduce((sum, d) => sum + d.lowest, 0);
  const wantedSum = clean.reduce((sum, d) => sum + d.wanted, 0);
  if (wantedSum === 0) return clean.map(() => available / Math.max(1, clean.length));
  if (available >= wantedSum) return clean.map((d) => (d.wanted * available) / wantedSum);
  if (available >= lowestSum) {
    const extra = wantedSum - lowestSum;
    return clean.map((d) => d.lowest + (extra > 0 ? ((d.wanted - d.lowest) * (available - lowestSum)) / extra : 0));
  }
  if (lowestSum === 0) return clean.map(() => available / clean.length);
  return clean.map((d) => (d.lowest * available) / lowestSum);
}

/** A peer-derived rate: NaN, negative and infinite read as 0 (unknown). */
function rate(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
