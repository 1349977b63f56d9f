/** Room names: the rules are the protocol's (via the SDK); this module only makes and normalizes them. */
export { isValidRoomName, ROOM_NAME_PATTERN } from '@convene/client';

/**
 * What the user typed, as a room name: trimmed and lower-cased. A pasted meeting link
 * (`https://host/r/brave-otter-42`) becomes its room name.
 */
export function normalizeRoomInput(input: string): string {
  const value = input.trim().toLowerCase();
  const link = /\/r\/([^/?#]+)\/?(?:[?#].*)?$/.exec(value);
  return link?.[1] ?? value;
}

// Short, friendly, unambiguous words (lowercase a–z only, so every generated name matches the pattern).
const ADJECTIVES: readonly string[] = (
  'brave calm clever cosy eager fancy gentle happy jolly kind lively lucky merry mighty nimble noble ' +
  'polite proud quick quiet rapid shiny silly sunny swift tidy vivid warm wise witty zany bold'
).split(' ');

const NOUNS: readonly string[] = (
  'otter panda falcon badger heron koala lynx marmot moose narwhal owl parrot puffin rabbit raven salmon ' +
  'seal sparrow tiger turtle walrus whale wombat yak zebra beaver camel dolphin ferret gecko llama robin'
).split(' ');

/** A uniformly random integer in [0, max). */
export type RandomInt = (max: number) => number;

export const cryptoRandomInt: RandomInt = (max) => {
  const buffer = new Uint32Array(1);
  crypto.getRandomValues(buffer);
  return (buffer[0] ?? 0) % max;
};

function pick<T>(items: readonly T[], randomInt: RandomInt): T {
  const item = items[randomInt(items.length)];
  if (item === undefined) throw new RangeError('randomInt returned an index out of range');
  return item;
}

/** A readable room name like `brave-otter-42`: adjective-noun-number (number 1–99). */
export function randomRoomName(randomInt: RandomInt = cryptoRandomInt): string {
  return `${pick(ADJECTIVES, randomInt)}-${pick(NOUNS, randomInt)}-${randomInt(99) + 1}`;
}

export const ROOM_WORDS = { adjectives: ADJECTIVES, nouns: NOUNS } as const;
