import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYER_SELECTOR_OPTIONS, LayerSelector, type SimulcastLayer } from './layer-selector.js';

// What libwebrtc sends for a 720p camera with three layers (bitrates measured, roughly).
const q: SimulcastLayer = { id: 'q', width: 320, height: 180, bitrate: 150_000, active: true };
const h: SimulcastLayer = { id: 'h', width: 640, height: 360, bitrate: 500_000, active: true };
const f: SimulcastLayer = { id: 'f', width: 1280, height: 720, bitrate: 1_500_000, active: true };
/** Deliberately not in size order. */
const LAYERS = [f, q, h];
const PLENTY = 10_000_000;
const WAIT = DEFAULT_LAYER_SELECTOR_OPTIONS.upgradeAfterMs;

function selector(width = 1280, height = 720): LayerSelector {
  const s = new LayerSelector();
  s.setPreferredSize(width, height);
  return s;
}

const without = (layer: SimulcastLayer): SimulcastLayer => ({ ...layer, active: false });

describe('LayerSelector options', () => {
  it('waits 2.5 s to upgrade and wants 20% headroom by default', () => {
    expect(DEFAULT_LAYER_SELECTOR_OPTIONS).toEqual({ upgradeAfterMs: 2500, headroom: 1.2 });
  });

  it('throws RangeError for a negative or non-finite wait, or headroom below 1', () => {
    for (const bad of [
      { upgradeAfterMs: -1 },
      { upgradeAfterMs: Number.NaN },
      { headroom: 0.9 },
      { headroom: Number.POSITIVE_INFINITY },
    ]) {
      expect(() => new LayerSelector(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(new LayerSelector({ upgradeAfterMs: 0, headroom: 1 }).current).toBeUndefined();
  });
});

describe('LayerSelector by size', () => {
  it('gives a small tile q, a medium one h and a large one f, whatever the order of the layers', () => {
    expect(selector(320, 180).select(LAYERS, PLENTY, 0)).toBe('q');
    expect(selector(200, 112).select(LAYERS, PLENTY, 0)).toBe('q');
    expect(selector(321, 181).select(LAYERS, PLENTY, 0)).toBe('h');
    expect(selector(640, 360).select(LAYERS, PLENTY, 0)).toBe('h');
    expect(selector(1280, 720).select(LAYERS, PLENTY, 0)).toBe('f');
    expect(selector(1920, 1080).select(LAYERS, PLENTY, 0)).toBe('f'); // none covers it: the largest
    expect(selector(1280, 720).select([q, h, f], PLENTY, 0)).toBe('f');
  });

  it('takes a layer as covering when one side fills the box (letterboxed, no upscaling)', () => {
    expect(selector(640, 100).select(LAYERS, PLENTY, 0)).toBe('q'); // a wide strip: 180 rows fill its 100
    // A phone held upright sends 9:16 layers; in a 16:9 tile its height is what counts.
    const portrait = [
      { id: 'q', width: 180, height: 320, bitrate: 150_000, active: true },
      { id: 'h', width: 360, height: 640, bitrate: 500_000, active: true },
      { id: 'f', width: 720, height: 1280, bitrate: 1_500_000, active: true },
    ];
    expect(selector(640, 360).select(portrait, PLENTY, 0)).toBe('h');
    expect(selector(640, 320).select(portrait, PLENTY, 0)).toBe('q');
  });

  it('goes down at once when the tile shrinks, up only after the wait when it grows', () => {
    const s = selector(1280, 720);
    expect(s.select(LAYERS, PLENTY, 0)).toBe('f');
    s.setPreferredSize(320, 180);
    expect(s.select(LAYERS, PLENTY, 100)).toBe('q');
    s.setPreferredSize(1280, 720);
    expect(s.select(LAYERS, PLENTY, 200)).toBe('q');
    expect(s.select(LAYERS, PLENTY, 200 + WAIT - 1)).toBe('q');
    expect(s.select(LAYERS, PLENTY, 200 + WAIT)).toBe('f');
    expect(s.current).toBe('f');
  });

  it('starts with no size limit: the largest the bandwidth allows', () => {
    expect(new LayerSelector().select(LAYERS, PLENTY, 0)).toBe('f');
  });

  it('forwards nothing for a box without area', () => {
    for (const [width, height] of [
      [0, 0],
      [0, 720],
      [1280, 0],
      [-5, 720],
      [Number.NaN, 720],
    ] as const) {
      const s = selector();
      s.select(LAYERS, PLENTY, 0);
      s.setPreferredSize(width, height);
      expect(s.select(LAYERS, PLENTY, 10), `${width}×${height}`).toBeUndefined();
      expect(s.current).toBeUndefined();
    }
  });
});

describe('LayerSelector.forget', () => {
  it('makes the next choice a fresh one: an upgrade without the wait', () => {
    const s = selector();
    expect(s.select([q], PLENTY, 0)).toBe('q');
    expect(s.select(LAYERS, PLENTY, 10)).toBe('q'); // h and f appeared: an upgrade waits...
    s.forget();
    expect(s.current).toBeUndefined();
    expect(s.select(LAYERS, PLENTY, 20)).toBe('f'); // ...unless the layers changed, not the bandwidth
  });
});

describe('LayerSelector.demand', () => {
  it('is the smallest active layer’s bitrate and the one the box wants', () => {
    expect(selector(320, 180).demand(LAYERS)).toEqual({ lowest: 150_000, wanted: 150_000 });
    expect(selector(600, 300).demand(LAYERS)).toEqual({ lowest: 150_000, wanted: 500_000 });
    expect(new LayerSelector().demand(LAYERS)).toEqual({ lowest: 150_000, wanted: 1_500_000 }); // no box yet
    expect(selector(1280, 720).demand([f, without(q), h])).toEqual({ lowest: 500_000, wanted: 1_500_000 });
  });

  it('is nothing when paused, for an empty box, or without active layers', () => {
    const paused = selector();
    paused.setPaused(true);
    expect(paused.demand(LAYERS)).toEqual({ lowest: 0, wanted: 0 });
    expect(selector(0, 0).demand(LAYERS)).toEqual({ lowest: 0, wanted: 0 });
    expect(selector().demand([without(q)])).toEqual({ lowest: 0, wanted: 0 });
  });
});

describe('LayerSelector by bandwidth', () => {
  it('steps down until the layer fits, the first choice with headroom', () => {
    expect(selector().select(LAYERS, 1_800_000, 0)).toBe('f'); // 1.5M × 1.2
    expect(selector().select(LAYERS, 1_799_999, 0)).toBe('h');
    expect(selector().select(LAYERS, 600_000, 0)).toBe('h');
    expect(selector().select(LAYERS, 599_999, 0)).toBe('q');
  });

  it('always allows the smallest layer, even with no bandwidth at all', () => {
    expect(selector().select(LAYERS, 0, 0)).toBe('q');
    expect(selector().select(LAYERS, Number.NaN, 0)).toBe('q');
  });

  it('downgrades at once on a drop, upgrades after the wait on recovery and not before', () => {
    const s = selector();
    expect(s.select(LAYERS, 3_000_000, 0)).toBe('f');
    expect(s.select(LAYERS, 1_000_000, 1000)).toBe('h');
    expect(s.select(LAYERS, 300_000, 1500)).toBe('q');
    expect(s.select(LAYERS, 3_000_000, 2000)).toBe('q');
    expect(s.select(LAYERS, 3_000_000, 3000)).toBe('q');
    expect(s.select(LAYERS, 3_000_000, 2000 + WAIT - 1)).toBe('q');
    expect(s.select(LAYERS, 3_000_000, 2000 + WAIT)).toBe('f');
  });

  it('keeps the current layer between 1× and headroom× its bitrate', () => {
    const s = selector();
    expect(s.select(LAYERS, 3_000_000, 0)).toBe('f');
    expect(s.select(LAYERS, 1_500_000, 100)).toBe('f'); // fits without headroom: stays
    expect(s.select(LAYERS, 1_499_999, 200)).toBe('h');
    for (let t = 300; t < 20_000; t += 500) expect(s.select(LAYERS, 1_700_000, t)).toBe('h'); // not enough to go up
  });

  it('does not flap with a flapping estimate', () => {
    const s = selector();
    const outputs: (string | undefined)[] = [];
    for (let t = 0; t < 30_000; t += 500)
      outputs.push(s.select(LAYERS, (t / 500) % 2 === 0 ? 3_000_000 : 1_000_000, t));
    const switches = outputs.filter((id, i) => i > 0 && id !== outputs[i - 1]).length;
    expect(outputs[0]).toBe('f');
    expect(switches).toBe(1);
    expect(outputs.at(-1)).toBe('h');
  });

  it('restarts the wait when the higher layer stops fitting for a moment', () => {
    const s = selector();
    s.select(LAYERS, 700_000, 0); // h
    s.select(LAYERS, 3_000_000, 1000);
    s.select(LAYERS, 1_700_000, 3000); // f does not fit with headroom: its wait starts over
    expect(s.select(LAYERS, 3_000_000, 3500)).toBe('h');
    expect(s.select(LAYERS, 3_000_000, 3500 + WAIT - 1)).toBe('h');
    expect(s.select(LAYERS, 3_000_000, 3500 + WAIT)).toBe('f');
  });

  it('upgrades part of the way when only the nearer layer has waited long enough, and keeps the other’s wait', () => {
    const s = selector();
    expect(s.select(LAYERS, 300_000, 0)).toBe('q');
    s.select(LAYERS, 1_000_000, 1000); // h fits from here
    expect(s.select(LAYERS, 3_000_000, 2000)).toBe('q'); // f from here
    expect(s.select(LAYERS, 3_000_000, 1000 + WAIT)).toBe('h');
    expect(s.select(LAYERS, 3_000_000, 2000 + WAIT - 1)).toBe('h');
    expect(s.select(LAYERS, 3_000_000, 2000 + WAIT)).toBe('f');
  });

  it('counts a layer of unknown bitrate (0) as fitting', () => {
    const unknown = LAYERS.map((layer) => ({ ...layer, bitrate: 0 }));
    expect(selector().select(unknown, 0, 0)).toBe('f');
    expect(selector().select([q, h, { ...f, bitrate: 0 }], 700_000, 0)).toBe('f');
  });
});

describe('LayerSelector with layers starting and stopping', () => {
  it('never chooses an inactive layer', () => {
    expect(selector().select([without(f), h, q], PLENTY, 0)).toBe('h');
    expect(selector(500, 280).select([f, without(h), q], PLENTY, 0)).toBe('f'); // the smallest active that covers
    expect(selector(200, 100).select([f, h, without(q)], 0, 0)).toBe('h'); // the smallest active is always allowed
  });

  it('leaves a layer that stopped at once, and takes it back after the wait when it resumes', () => {
    const s = selector();
    expect(s.select(LAYERS, PLENTY, 0)).toBe('f');
    expect(s.select([without(f), h, q], PLENTY, 100)).toBe('h');
    expect(s.select(LAYERS, PLENTY, 200)).toBe('h');
    expect(s.select(LAYERS, PLENTY, 200 + WAIT)).toBe('f');
  });

  it('forwards nothing while no layer is active, and chooses at once when one is', () => {
    const s = selector();
    expect(s.select([], PLENTY, 0)).toBeUndefined();
    expect(s.select([without(q), without(h), without(f)], PLENTY, 100)).toBeUndefined();
    expect(s.select(LAYERS, PLENTY, 200)).toBe('f');
  });

  it('always forwards the one layer of a publisher without simulcast, unless paused', () => {
    const only: SimulcastLayer[] = [{ id: '', width: 640, height: 480, bitrate: 800_000, active: true }];
    const s = selector(160, 90);
    expect(s.select(only, PLENTY, 0)).toBe('');
    s.setPreferredSize(1920, 1080);
    expect(s.select(only, 0, 100)).toBe('');
    s.setPaused(true);
    expect(s.select(only, PLENTY, 200)).toBeUndefined();
    s.setPaused(false);
    expect(s.select(only, PLENTY, 300)).toBe('');
  });
});

describe('LayerSelector paused', () => {
  it('forwards nothing while paused and chooses at once on resume', () => {
    const s = selector();
    expect(s.select(LAYERS, PLENTY, 0)).toBe('f');
    s.setPaused(true);
    expect(s.select(LAYERS, PLENTY, 100)).toBeUndefined();
    expect(s.current).toBeUndefined();
    s.setPaused(false);
    expect(s.select(LAYERS, PLENTY, 200)).toBe('f'); // no wait: there is nothing to flap from
  });
});

describe('LayerSelector with nonsense from the peer', () => {
  it('reads NaN and negative sizes and bitrates as unknown, and never throws', () => {
    const odd: SimulcastLayer[] = [
      { id: 'a', width: Number.NaN, height: -1, bitrate: Number.NaN, active: true },
      { id: 'b', width: Number.POSITIVE_INFINITY, height: 0, bitrate: -5, active: true },
      { id: 'c', width: 640, height: 360, bitrate: Number.POSITIVE_INFINITY, active: true },
      { id: 'c', width: 640, height: 360, bitrate: 1, active: false },
    ];
    for (const available of [0, Number.NaN, -1, PLENTY, Number.POSITIVE_INFINITY]) {
      const id = selector().select(odd, available, 0);
      expect(['a', 'b', 'c']).toContain(id);
    }
  });
});

describe('LayerSelector properties', () => {
  const layer: fc.Arbitrary<SimulcastLayer> = fc.record({
    id: fc.constantFrom('q', 'h', 'f', 'x'),
    width: fc.oneof(fc.constantFrom(0, 160, 320, 640, 1280, 1920), fc.double()),
    height: fc.oneof(fc.constantFrom(0, 90, 180, 360, 720, 1080), fc.double()),
    bitrate: fc.oneof(fc.constantFrom(0, 100_000, 500_000, 2_000_000), fc.double()),
    active: fc.boolean(),
  });
  const size = fc.oneof(fc.constantFrom(0, 100, 320, 640, 1280, 4000), fc.double());
  const step = fc.oneof(
    fc.record({
      kind: fc.constant('select' as const),
      layers: fc.uniqueArray(layer, { selector: (l) => l.id, maxLength: 4 }),
      available: fc.oneof(fc.constantFrom(0, 200_000, 700_000, 3_000_000), fc.double()),
      advanceMs: fc.integer({ min: 0, max: 3000 }),
    }),
    fc.record({ kind: fc.constant('size' as const), width: size, height: size }),
    fc.record({ kind: fc.constant('pause' as const), paused: fc.boolean() }),
  );

  it('returns an active layer’s id, or undefined only when paused, with an empty box or no active layer', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const s = new LayerSelector();
        let paused = false;
        let empty = false;
        let now = 0;
        for (const st of steps) {
          if (st.kind === 'size') {
            s.setPreferredSize(st.width, st.height);
            empty = !(st.width > 0 && st.height > 0);
          } else if (st.kind === 'pause') {
            s.setPaused(st.paused);
            paused = st.paused;
          } else {
            now += st.advanceMs;
            const id = s.select(st.layers, st.available, now);
            const active = st.layers.filter((l) => l.active).map((l) => l.id);
            if (paused || empty || active.length === 0) expect(id).toBeUndefined();
            else expect(active).toContain(id);
            expect(s.current).toBe(id);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('settles on one layer and stays there when nothing changes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(layer, { selector: (l) => l.id, minLength: 1, maxLength: 4 }),
        fc.double({ min: 0, max: 5e6, noNaN: true }),
        (layers, available) => {
          const s = new LayerSelector();
          const outputs: (string | undefined)[] = [];
          for (let t = 0; t <= 4 * WAIT; t += 250) outputs.push(s.select(layers, available, t));
          const settled = outputs.slice(-Math.ceil(WAIT / 250));
          expect(new Set(settled).size).toBe(1);
        },
      ),
    );
  });
});
