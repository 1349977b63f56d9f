/** What a person does in a meeting, and what they would notice, read from the web app's debug hook. */
import type { Person } from './people.js';

export interface RemoteView {
  participantId: string;
  name: string;
  connectionState: string;
  localCandidateType: string | null;
  videoWidth: number;
  videoHeight: number;
  video: { framesDecoded: number; frameWidth: number; frameHeight: number } | null;
  audio: { packetsReceived: number } | null;
}

export interface ParticipantView {
  id: string;
  name: string;
  audioMuted: boolean;
  videoMuted: boolean;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a room link, types a name, clicks Join, and waits until the in-room controls appear. */
export async function joinMeeting(person: Person, roomUrl: string, name: string): Promise<void> {
  await person.goto(roomUrl);
  await person.fill('Your name', name);
  await person.clickButton('Join');
  await person.waitForButton('Leave');
}

export function remoteViews(person: Person): Promise<RemoteView[]> {
  return person.evaluate(
    () =>
      (window as unknown as { __convene?: { stats(): Promise<RemoteView[]> } }).__convene?.stats() ??
      Promise.resolve([]),
  );
}

export function participants(person: Person): Promise<ParticipantView[]> {
  return person.evaluate(
    () => (window as unknown as { __convene?: { participants(): ParticipantView[] } }).__convene?.participants() ?? [],
  );
}

/** Polls until `check` passes (returns a value) or the time is up; the last failure explains the timeout. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastState: unknown;
  // Checks at least once, so a deadline that is already (nearly) spent still gets an answer.
  do {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastState = error;
    }
    await sleep(intervalMs);
  } while (Date.now() < deadline);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(lastState)}`);
}

function isFlowing(view: RemoteView, expectVideo: boolean): boolean {
  const audioOk = (view.audio?.packetsReceived ?? 0) > 0;
  const videoOk = !expectVideo || (view.videoWidth > 0 && (view.video?.framesDecoded ?? 0) > 0);
  return audioOk && videoOk;
}

/**
 * Waits until `person` sees and hears each named participant: a decoded video frame on the tile
 * (videoWidth > 0, framesDecoded > 0) and audio packets; then checks both still rise 1.5 s later.
 */
export async function expectSeesAndHears(
  person: Person,
  names: string[],
  options: { timeoutMs?: number; withoutVideoFrom?: string[] } = {},
): Promise<RemoteView[]> {
  const noVideo = new Set(options.withoutVideoFrom ?? []);
  const first = await eventually(
    `${names.join(', ')} to be seen and heard`,
    async () => {
      const views = await remoteViews(person);
      const all = names.map((name) => views.find((view) => view.name === name));
      if (all.every((view) => view && isFlowing(view, !noVideo.has(view.name)))) return all as RemoteView[];
      throw new Error(JSON.stringify(views));
    },
    options.timeoutMs ?? 20_000,
    200,
  );
  await sleep(1_500);
  const later = await remoteViews(person);
  for (const before of first) {
    const after = later.find((view) => view.participantId === before.participantId);
    if (!after) throw new Error(`${before.name} vanished while media was flowing`);
    if (!((after.audio?.packetsReceived ?? 0) > (before.audio?.packetsReceived ?? 0))) {
      throw new Error(`audio from ${before.name} stopped: ${JSON.stringify([before.audio, after.audio])}`);
    }
    if (!noVideo.has(before.name) && !((after.video?.framesDecoded ?? 0) > (before.video?.framesDecoded ?? 0))) {
      throw new Error(`video from ${before.name} froze: ${JSON.stringify([before.video, after.video])}`);
    }
  }
  return later;
}

/** Frames decoded from `name` must rise over `windowMs` (video is live, not frozen). */
export async function expectVideoRising(person: Person, name: string, windowMs = 1_500): Promise<void> {
  const frames = async () => (await remoteViews(person)).find((view) => view.name === name)?.video?.framesDecoded ?? 0;
  const before = await frames();
  await sleep(windowMs);
  const after = await frames();
  if (!(after > before)) throw new Error(`video from ${name} is not live: ${before} → ${after} frames`);
}

/** Resolves once the page shows `text` (what a person reads); fails with what the page did show. */
export async function expectPageText(person: Person, text: string, timeoutMs = 10_000): Promise<void> {
  let shown = '';
  await eventually(
    `"${text}" on the page`,
    async () => {
      shown = await person.text();
      return shown.includes(text) ? true : undefined;
    },
    timeoutMs,
    50,
  ).catch(() => {
    throw new Error(`expected "${text}" on the page within ${timeoutMs} ms; it shows:\n${shown}`);
  });
}
