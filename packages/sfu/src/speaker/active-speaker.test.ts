import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ActiveSpeakerDetector,
  type ActiveSpeakerOptions,
  DEFAULT_ACTIVE_SPEAKER_OPTIONS,
  type SpeakerChange,
} from './active-speaker.js';

/*
 * Scenarios feed 20 ms Opus packets (50/s per source) and call update() every 100 ms, on a clock
 * moved by hand. A source's behaviour is a function of time: the packet it sends then, or nothing
 * (muted, DTX, packets lost).
 */
const PACKET_MS = 20;
const UPDATE_MS = 100;

type Packet = { level: number; voiceActivity: boolean | undefined } | undefined;
type Behaviour = (t: number) => Packet;

// Deterministic jitter for levels: 0..n-1 from the time.
const jitter = (t: number, n: number) => Math.floor(t / PACKET_MS) % n;

/**
 * Speech as a sender's VAD sees it: in each 200 ms syllable, 40 ms of gap (level 60-62) then 160 ms
 * of voice (level 22-38), V set throughout (VADs hang over the gaps). 80% of the time is voice.
 * `phase` shifts the syllables, so two talkers are not in lockstep.
 */
const SYLLABLE = [62, 60, 24, 30, 27, 35, 22, 31, 38, 26];
const talk =
  (phase = 0, voiceActivity: boolean | undefined = true): Behaviour =>
  (t) => ({ level: SYLLABLE[Math.floor(((t + phase) % 200) / PACKET_MS)] ?? 127, voiceActivity });
/** A quiet room through an open microphone without DTX: every packet, level 88-92, no voice. */
const room: Behaviour = (t) => ({ level: 88 + jitter(t, 5), voiceActivity: false });
/** Nothing at all: muted, DTX, or the packets stopped. */
const nothing: Behaviour = () => undefined;
/** A fan or a busy street: every packet, level 60-70, no voice (brief's example). */
const noise: Behaviour = (t) => ({ level: 60 + ((t * 7) % 11), voiceActivity: false });
/** A loud hum from a sender without a VAD: level 38-44, V unknown. */
const hum: Behaviour = (t) => ({ level: 38 + jitter(t, 7), voiceActivity: undefined });

/** `during` between `from` and `to` (ms, from inclusive), `otherwise` before and after. */
const between =
  (from: number, to: number, during: Behaviour, otherwise: Behaviour = room): Behaviour =>
  (t) =>
    t >= from && t < to ? during(t) : otherwise(t);

/** Talks in bursts of `onMs` every `periodMs`, the room otherwise. */
const bursts =
  (onMs: number, periodMs: number, phase = 0): Behaviour =>
  (t) =>
    (t + phase) % periodMs < onMs ? talk()(t) : room(t);

interface Timed extends SpeakerChange {
  at: number;
}

class Room {
  readonly detector: ActiveSpeakerDetector;
  now = 0;
  readonly changes: Timed[] = [];

  constructor(
    ids: string[],
    options: Partial<ActiveSpeakerOptions> = {},
    readonly updateMs = UPDATE_MS,
  ) {
    this.detector = new ActiveSpeakerDetector(options);
    for (const id of ids) this.detector.addSource(id);
  }

  /** Runs until `untilMs` with each listed source behaving as given (unlisted sources send nothing). */
  run(untilMs: number, behaviours: Record<string, Behaviour>, packetMs: Record<string, number> = {}): Timed[] {
    const before = this.changes.length;
    for (; this.now < untilMs; this.now += PACKET_MS / 2) {
      for (const [id, behaviour] of Object.entries(behaviours)) {
        if (this.now % (packetMs[id] ?? PACKET_MS) !== 0) continue;
        const p = behaviour(this.now);
        if (p) this.detector.onAudioLevel(id, p.level, p.voiceActivity, this.now);
      }
      if (this.now % this.updateMs === 0) {
        const change = this.detector.update(this.now);
        if (change) this.changes.push({ ...change, at: this.now });
      }
    }
    return this.changes.slice(before);
  }
}

/** A room where `a` has talked and is dominant, then everybody is quiet until 5 s. */
function afterAHasSpoken(ids = ['a', 'b', 'c']): Room {
  const r = new Room(ids);
  const quiet = Object.fromEntries(ids.map((id) => [id, room]));
  r.run(3000, { ...quiet, a: between(1000, 3000, talk()) });
  r.run(5000, quiet);
  expect(r.detector.dominant).toBe('a');
  return r;
}

describe('ActiveSpeakerDetector: who becomes dominant', () => {
  it('makes a continuous talker dominant within a second, reported once', () => {
    const r = new Room(['a', 'b']);
    expect(r.run(2000, { a: room, b: room })).toEqual([]);
    expect(r.detector.dominant).toBeUndefined();
    const changes = r.run(6000, { a: room, b: between(2000, 6000, talk()) });
    expect(changes).toEqual([{ dominant: 'b', previous: undefined, at: expect.any(Number) }]);
    const at = changes[0]?.at ?? 0;
    expect(at - 2000).toBeGreaterThanOrEqual(500); // not on the first syllables
    expect(at - 2000).toBeLessThanOrEqual(1000);
  });

  it('hands over from a dominant speaker gone quiet within a second', () => {
    const r = afterAHasSpoken();
    const changes = r.run(9000, { a: room, b: between(5000, 9000, talk()), c: room });
    expect(changes).toEqual([{ dominant: 'b', previous: 'a', at: expect.any(Number) }]);
    expect((changes[0]?.at ?? 0) - 5000).toBeLessThanOrEqual(1000);
  });

  it('hands over within a second when the new talker’s silence sent no packets (DTX)', () => {
    const r = new Room(['a', 'b']);
    r.run(3000, { a: between(1000, 3000, talk()), b: nothing });
    expect(r.detector.dominant).toBe('a');
    const changes = r.run(8000, { a: nothing, b: between(5000, 8000, talk(), nothing) });
    expect(changes).toHaveLength(1);
    expect((changes[0]?.at ?? 0) - 5000).toBeLessThanOrEqual(1000);
  });

  it('follows turn-taking: the next talker takes over within about 1.5 s of the last one stopping', () => {
    const r = new Room(['a', 'b']);
    const changes = r.run(12_000, {
      a: between(0, 6000, talk()),
      b: between(6000, 12_000, talk(70)),
    });
    expect(changes.map((c) => c.dominant)).toEqual(['a', 'b']);
    const handover = (changes[1]?.at ?? 0) - 6000;
    expect(handover).toBeGreaterThan(500);
    expect(handover).toBeLessThanOrEqual(1500);
  });

  it('counts voice time, not packets: 60 ms packets weigh like 20 ms packets', () => {
    const timing = (packetMs: number) => {
      const r = new Room(['a', 'b']);
      const changes = r.run(8000, { a: room, b: between(2000, 8000, talk(), room) }, { a: packetMs, b: packetMs });
      return changes[0]?.at;
    };
    const at20 = timing(20);
    const at60 = timing(60);
    expect(at20).toBeDefined();
    expect(at60).toBeDefined();
    expect(Math.abs((at60 ?? 0) - (at20 ?? 0))).toBeLessThanOrEqual(200);
  });
});

describe('ActiveSpeakerDetector: what does not take it', () => {
  it('keeps the dominant speaker through coughs, clicks and short interjections while all are quiet', () => {
    const r = afterAHasSpoken();
    const changes = r.run(20_000, {
      a: room,
      b: (t) => (t % 3000 >= 1000 && t % 3000 < 1350 ? talk()(t) : room(t)), // a 350 ms "yeah" every 3 s
      c: (t) => (t % 1500 < 40 ? { level: 20, voiceActivity: true } : room(t)), // a 40 ms click every 1.5 s
    });
    expect(changes).toEqual([]);
    expect(r.detector.dominant).toBe('a');
  });

  it('makes nobody dominant for coughs and clicks in a room where nobody has spoken', () => {
    const r = new Room(['a', 'b']);
    const cough = (t: number) => (t % 2500 < 350 ? talk()(t) : room(t));
    const click = (t: number) => (t % 700 < 40 ? { level: 18, voiceActivity: true } : room(t));
    expect(r.run(30_000, { a: cough, b: click })).toEqual([]);
    expect(r.detector.dominant).toBeUndefined();
  });

  it('keeps a talking dominant speaker through another’s interjections', () => {
    const r = afterAHasSpoken();
    const changes = r.run(20_000, { a: talk(), b: bursts(300, 2000), c: bursts(400, 3000, 1500) });
    expect(changes).toEqual([]);
  });

  it('keeps the last dominant speaker when everybody is silent, with or without packets', () => {
    const r = afterAHasSpoken();
    expect(r.run(65_000, { a: room, b: room, c: room })).toEqual([]);
    expect(r.run(125_000, {})).toEqual([]);
    expect(r.detector.dominant).toBe('a');
    expect(r.detector.speaking(r.now)).toEqual([]);
  });

  it('does not flap while two people talk at once, each pausing briefly', () => {
    const r = afterAHasSpoken(['a', 'b']);
    // Both talk for 30 s; each pauses 400 ms now and then, at different times.
    const pausing = (phase: number, everyMs: number) => (t: number) =>
      (t + phase) % everyMs < 400 ? room(t) : talk(phase)(t);
    const changes = r.run(35_000, { a: pausing(0, 2300), b: pausing(90, 3100) });
    expect(changes).toEqual([]);
    expect(r.detector.dominant).toBe('a');
  });

  it('does not hand over to a challenger only a little more active', () => {
    const r = afterAHasSpoken(['a', 'b']);
    // a talks 70% of the time in 1 s bursts, b 90%: b has more voice, not clearly more.
    const changes = r.run(35_000, { a: bursts(700, 1000), b: bursts(900, 1000, 300) });
    expect(changes).toEqual([]);
  });

  it('hands over once to a clearly more active challenger, and not back', () => {
    const r = afterAHasSpoken(['a', 'b']);
    // a mumbles (300 ms in each 1.5 s) while b talks on.
    const changes = r.run(35_000, { a: bursts(300, 1500), b: talk(50) });
    expect(changes).toEqual([{ dominant: 'b', previous: 'a', at: expect.any(Number) }]);
    expect((changes[0]?.at ?? 0) - 5000).toBeLessThanOrEqual(1500);
  });
});

describe('ActiveSpeakerDetector: noise and stopped packets', () => {
  it('does not take steady background noise for speech (level 60-70, no voice activity)', () => {
    const r = new Room(['noisy', 'talker']);
    expect(r.run(10_000, { noisy: noise, talker: room })).toEqual([]);
    expect(r.detector.speaking(r.now)).toEqual([]);
    const behaviours = { noisy: noise, talker: bursts(3000, 6000) };
    r.run(26_000, behaviours);
    expect(r.detector.speaking(r.now)).toEqual(['talker']); // in a burst
    r.run(30_000, behaviours);
    expect(r.detector.speaking(r.now)).toEqual([]); // in a pause, the noise goes on
    expect(r.changes.map((c) => c.dominant)).toEqual(['talker']);
  });

  it('does not take a loud hum for speech even without a VAD (the noise floor alone)', () => {
    const r = new Room(['hum', 'talker']);
    expect(r.run(10_000, { hum, talker: room })).toEqual([]);
    expect(r.detector.speaking(r.now)).toEqual([]);
    const changes = r.run(30_000, { hum, talker: bursts(3000, 6000, 1000) });
    expect(changes.map((c) => c.dominant)).toEqual(['talker']);
  });

  it('does not take distant sound for speech, however far above a very quiet floor', () => {
    const r = new Room(['a']);
    const studio: Behaviour = (t) => ({ level: 116 + jitter(t, 4), voiceActivity: undefined });
    const tv: Behaviour = (t) => ({ level: 62 + jitter(t, 6), voiceActivity: undefined }); // 50 dB above the floor
    expect(r.run(20_000, { a: (t) => (t < 3000 || t % 400 < 100 ? studio(t) : tv(t)) })).toEqual([]);
  });

  it('hears speech over the speaker’s own background noise', () => {
    const r = new Room(['a']);
    const noisyTalk: Behaviour = (t) => (t % 200 < 40 ? noise(t) : talk()(t));
    r.run(3000, { a: noise });
    expect(r.run(5000, { a: noisyTalk })).toHaveLength(1);
  });

  it('trusts a clear V bit only from a source that has set it', () => {
    const r = afterAHasSpoken(['a', 'b', 'c']);
    // b's VAD said "voice" once (a short cough), so its loud, unvoiced sound (typing, music) is not speech.
    r.run(6000, { a: room, b: between(5000, 5100, talk()), c: room });
    const typing = talk(0, false);
    expect(r.run(12_000, { a: room, b: typing, c: room })).toEqual([]);
    expect(r.detector.speaking(r.now)).toEqual([]);
    // c has never set it (no VAD): the same packets are speech.
    expect(r.run(18_000, { a: room, b: room, c: typing }).map((c) => c.dominant)).toEqual(['c']);
  });

  it('counts a source whose packets stopped as silent, by the clock', () => {
    const r = afterAHasSpoken(['a', 'b']);
    r.run(8000, { a: talk(), b: room });
    // a's packets stop mid-word (last ones loud); b starts talking.
    const seen = r.changes.length;
    r.run(8700, { b: talk(40) });
    expect(r.detector.speaking(r.now)).toEqual(['b']);
    r.run(12_000, { b: talk(40) });
    const changes = r.changes.slice(seen);
    expect(changes).toEqual([{ dominant: 'b', previous: 'a', at: expect.any(Number) }]);
    expect((changes[0]?.at ?? 0) - 8000).toBeLessThanOrEqual(1500);
  });

  it('lists speakers loudest first, and nobody in silence', () => {
    const d = new ActiveSpeakerDetector();
    for (const id of ['soft', 'loud', 'quiet']) d.addSource(id);
    for (let t = 0; t < 3000; t += PACKET_MS) {
      const gap = t % 200 < 40;
      d.onAudioLevel('soft', gap ? 80 : 45, true, t);
      d.onAudioLevel('loud', gap ? 80 : 20, true, t);
      d.onAudioLevel('quiet', 90, false, t);
    }
    expect(d.speaking(3000)).toEqual(['loud', 'soft']);
    expect(d.speaking(4000)).toEqual([]); // packets stopped a second ago
    expect(d.speaking(-10_000)).toEqual([]); // long before anything the rings hold
  });
});

describe('ActiveSpeakerDetector: sources', () => {
  it('hands over to whoever is speaking when the dominant speaker leaves', () => {
    const r = afterAHasSpoken();
    r.run(5600, { a: talk(), b: talk(60), c: room }); // b not yet clearly ahead of a
    expect(r.detector.dominant).toBe('a');
    expect(r.detector.removeSource('a', r.now)).toEqual({ dominant: 'b', previous: 'a' });
    expect(r.detector.dominant).toBe('b');
  });

  it('hands over to whoever spoke most recently, or to nobody, when the dominant speaker leaves in silence', () => {
    const r = afterAHasSpoken();
    r.run(6000, { a: room, b: between(5000, 5300, talk()), c: room }); // b coughed
    expect(r.detector.removeSource('a', r.now)).toEqual({ dominant: 'b', previous: 'a' });

    const s = afterAHasSpoken();
    s.run(20_000, { a: room, b: room, c: room });
    expect(s.detector.removeSource('a', s.now)).toEqual({ dominant: undefined, previous: 'a' });
    expect(s.detector.dominant).toBeUndefined();
    expect(s.run(25_000, { b: between(21_000, 25_000, talk()), c: room }).map((c) => c.dominant)).toEqual(['b']);
  });

  it('changes nothing when another source leaves, and forgets what the leaver said', () => {
    const r = afterAHasSpoken();
    r.run(8000, { a: room, b: talk(), c: room });
    expect(r.detector.dominant).toBe('b');
    expect(r.detector.removeSource('a', r.now)).toBeUndefined();
    expect(r.detector.removeSource('a', r.now)).toBeUndefined();
    expect(r.detector.removeSource('nobody', r.now)).toBeUndefined();
    expect(r.detector.dominant).toBe('b');
    // a's packets now go nowhere; added again, it starts from nothing.
    r.run(9000, { a: talk(), b: talk() });
    r.detector.addSource('a');
    expect(r.detector.speaking(r.now)).toEqual(['b']);
  });

  it('keeps what a source heard when it is added again', () => {
    const r = afterAHasSpoken();
    r.run(6000, { a: talk(), b: room, c: room });
    r.detector.addSource('a');
    expect(r.detector.speaking(r.now)).toEqual(['a']);
  });

  it('ignores unknown ids, levels outside 0-127 and times that are not finite', () => {
    const d = new ActiveSpeakerDetector();
    d.addSource('a');
    for (let t = 0; t < 5000; t += PACKET_MS) {
      d.onAudioLevel('ghost', 20, true, t);
      for (const level of [-1, 128, 30.5, Number.NaN, Number.POSITIVE_INFINITY]) d.onAudioLevel('a', level, true, t);
      d.onAudioLevel('a', 20, true, Number.NaN);
      d.onAudioLevel('a', 20, true, Number.POSITIVE_INFINITY);
      d.onAudioLevel('a', 20, true, 2 ** 60);
      if (t % 100 === 0) expect(d.update(t)).toBeUndefined();
    }
    expect(d.speaking(5000)).toEqual([]);
    expect(d.update(Number.NaN)).toBeUndefined();
    expect(d.speaking(Number.POSITIVE_INFINITY)).toEqual([]);
    expect(d.dominant).toBeUndefined();
  });
});

describe('ActiveSpeakerDetector options', () => {
  it('fills defaults and takes overrides', () => {
    expect(() => new ActiveSpeakerDetector()).not.toThrow();
    expect(() => new ActiveSpeakerDetector({ ...DEFAULT_ACTIVE_SPEAKER_OPTIONS })).not.toThrow();
    expect(
      () => new ActiveSpeakerDetector({ binMs: 20, speakingWindowMs: 300, speakingMinVoiceMs: 100 }),
    ).not.toThrow();
    expect(() => new ActiveSpeakerDetector({ binMs: undefined } as Partial<ActiveSpeakerOptions>)).not.toThrow();

    // An override takes effect: 160 ms of voice after a quiet room is not speaking with the
    // defaults (200 ms of voice needed) and is with speakingMinVoiceMs 100.
    const voiceAfterRoom = (options: Partial<ActiveSpeakerOptions>) => {
      const r = new Room(['a'], options);
      r.run(2000, { a: room });
      r.run(2160, { a: () => ({ level: 20, voiceActivity: true }) });
      return r.detector.speaking(r.now);
    };
    expect(voiceAfterRoom({})).toEqual([]);
    expect(voiceAfterRoom({ speakingMinVoiceMs: 100 })).toEqual(['a']);
  });

  it.each<[Partial<ActiveSpeakerOptions>, RegExp]>([
    [{ binMs: 0 }, /binMs/],
    [{ binMs: 5 }, /binMs/],
    [{ binMs: 2000 }, /binMs/],
    [{ binMs: 50.5 }, /binMs/],
    [{ binMs: Number.NaN }, /binMs/],
    [{ speakingWindowMs: 50 }, /speakingWindowMs/],
    [{ activationWindowMs: 120_000 }, /activationWindowMs/],
    [{ comparisonWindowMs: Number.POSITIVE_INFINITY }, /comparisonWindowMs/],
    [{ speakingMinVoiceMs: 0 }, /speakingMinVoiceMs/],
    [{ speakingMinVoiceMs: 600 }, /speakingMinVoiceMs/],
    [{ activationMinVoiceMs: 1001 }, /activationMinVoiceMs/],
    [{ activationMinVoiceMs: -1 }, /activationMinVoiceMs/],
    [{ switchLeadMs: 0 }, /switchLeadMs/],
    [{ switchLeadMs: 1600 }, /switchLeadMs/],
    [{ switchLeadMs: Number.NaN }, /switchLeadMs/],
    [{ maxSpeechLevel: 128 }, /maxSpeechLevel/],
    [{ maxSpeechLevel: 40.5 }, /maxSpeechLevel/],
    [{ noiseMarginDb: -1 }, /noiseMarginDb/],
    [{ noiseFloorWindowMs: 0 }, /noiseFloorWindowMs/],
    [{ noiseFloorWindowMs: 1e9 }, /noiseFloorWindowMs/],
    [{ binMs: '100' as unknown as number }, /binMs/],
  ])('refuses %j with a RangeError', (options, message) => {
    expect(() => new ActiveSpeakerDetector(options)).toThrow(RangeError);
    expect(() => new ActiveSpeakerDetector(options)).toThrow(message);
  });
});

describe('ActiveSpeakerDetector memory', () => {
  it('behaves the same after ten minutes of packets as after a few seconds', () => {
    // The same ending, after a long history and after a short one: windows are fixed-size rings, so
    // once the history is older than every window, nothing of it remains.
    const ending = (r: Room, start: number) => {
      const trace: unknown[] = [];
      const behaviours = {
        a: between(start + 20_000, start + 24_000, talk()),
        b: (t: number) => (t >= start + 23_000 ? talk(30)(t) : room(t)),
        c: bursts(300, 2000),
      };
      for (let end = start + 500; end <= start + 30_000; end += 500) {
        const changes = r.run(end, behaviours).map((c) => ({ ...c, at: c.at - start }));
        trace.push(changes, r.detector.speaking(r.now), r.detector.dominant);
      }
      return trace;
    };

    const long = new Room(['a', 'b', 'c']);
    const tenMinutes = 600_000;
    long.run(tenMinutes, { a: bursts(4000, 9000), b: room, c: noise }); // 90 000 packets
    expect(long.detector.dominant).toBe('a');

    const short = new Room(['a', 'b', 'c']);
    short.now = tenMinutes - 5000;
    short.run(tenMinutes, { a: between(tenMinutes - 4000, tenMinutes, talk()), b: room, c: noise });
    expect(short.detector.dominant).toBe('a');

    expect(ending(long, tenMinutes)).toEqual(ending(short, tenMinutes));
  });
});

describe('ActiveSpeakerDetector properties', () => {
  const ids = ['a', 'b', 'c', 'd'];
  const id = fc.constantFrom(...ids, 'ghost');
  const step = fc.oneof(
    { weight: 1, arbitrary: fc.record({ op: fc.constant('add' as const), id }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('remove' as const), id, dt: fc.integer({ min: -50, max: 500 }) }),
    },
    {
      weight: 12,
      arbitrary: fc.record({
        op: fc.constant('level' as const),
        id,
        level: fc.oneof(fc.integer({ min: 0, max: 127 }), fc.integer({ min: -5, max: 140 }), fc.double()),
        voiceActivity: fc.constantFrom(true, false, undefined),
        dt: fc.oneof(fc.constant(20), fc.integer({ min: -100, max: 3000 })),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('update' as const), dt: fc.integer({ min: -100, max: 3000 }) }),
    },
    {
      // Someone talks for a while (20 ms packets, an update every 100 ms): random levels alone
      // never add up to enough voice, and the speaker-change checks would never run.
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('talk' as const), id, ms: fc.integer({ min: 200, max: 3000 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('speaking' as const), dt: fc.integer({ min: -100, max: 3000 }) }),
    },
  );

  it('never throws, and the dominant speaker is always a registered source or undefined', () => {
    let changes = 0;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400 }), fc.integer({ min: -1e6, max: 1e12 }), (steps, start) => {
        const d = new ActiveSpeakerDetector();
        const registered = new Set<string>(['a', 'b', 'c', 'd']);
        for (const source of registered) d.addSource(source);
        let now = start;
        /** What must hold after every step that could change the dominant speaker. */
        const check = (before: string | undefined, change: SpeakerChange | undefined) => {
          const dominant = d.dominant;
          expect(dominant === undefined || registered.has(dominant)).toBe(true);
          if (change) {
            changes++;
            expect(change).toEqual({ dominant, previous: before });
            expect(change.dominant).not.toBe(change.previous);
          } else {
            expect(dominant).toBe(before);
          }
        };
        for (const s of steps) {
          const before = d.dominant;
          let change: SpeakerChange | undefined;
          if (s.op === 'talk') {
            const voice = talk();
            for (let t = 0; t < s.ms; t += PACKET_MS) {
              const sample = voice(t);
              if (sample) d.onAudioLevel(s.id, sample.level, sample.voiceActivity, now + t);
              if (t % 100 === 0) {
                const beforeUpdate = d.dominant;
                check(beforeUpdate, d.update(now + t));
              }
            }
            now += s.ms;
            continue;
          }
          if (s.op === 'add') {
            d.addSource(s.id);
            registered.add(s.id);
          } else if (s.op === 'remove') {
            now += s.dt;
            change = d.removeSource(s.id, now);
            expect(change === undefined || change.previous === s.id).toBe(true);
            registered.delete(s.id);
          } else if (s.op === 'level') {
            now += s.dt;
            d.onAudioLevel(s.id, s.level, s.voiceActivity, now);
            expect(d.dominant).toBe(before);
          } else if (s.op === 'update') {
            now += s.dt;
            change = d.update(now);
          } else {
            now += s.dt;
            const speaking = d.speaking(now);
            expect(new Set(speaking).size).toBe(speaking.length);
            for (const x of speaking) expect(registered.has(x)).toBe(true);
          }
          check(before, change);
        }
      }),
      { numRuns: 300 },
    );
    // The change checks ran: talk steps make speakers dominant and others take over.
    expect(changes).toBeGreaterThan(0);
  });
});
