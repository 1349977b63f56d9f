import { describe, expect, it } from 'vitest';
import {
  cryptoRandomInt,
  isValidRoomName,
  normalizeRoomInput,
  ROOM_NAME_PATTERN,
  ROOM_WORDS,
  randomRoomName,
} from './room-name';

describe('randomRoomName', () => {
  it('makes adjective-noun-number names that match the room pattern', () => {
    for (let i = 0; i < 2000; i++) {
      const name = randomRoomName();
      expect(name).toMatch(ROOM_NAME_PATTERN);
      expect(name).toMatch(/^[a-z]+-[a-z]+-[1-9][0-9]?$/);
    }
  });

  it('covers the first and last word and number', () => {
    expect(randomRoomName(() => 0)).toBe(`${ROOM_WORDS.adjectives[0]}-${ROOM_WORDS.nouns[0]}-1`);
    const last = randomRoomName((max) => max - 1);
    expect(last).toBe(`${ROOM_WORDS.adjectives.at(-1)}-${ROOM_WORDS.nouns.at(-1)}-99`);
    expect(last).toMatch(ROOM_NAME_PATTERN);
  });

  it('only uses words that keep every name valid', () => {
    for (const word of [...ROOM_WORDS.adjectives, ...ROOM_WORDS.nouns]) expect(word).toMatch(/^[a-z]+$/);
  });

  it('draws integers in range', () => {
    for (let i = 0; i < 1000; i++) {
      const n = cryptoRandomInt(7);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(7);
    }
  });
});

describe('room names typed by the user', () => {
  it.each([
    ['  Brave-Otter-42 ', 'brave-otter-42'],
    ['https://meet.example.org/r/team_sync', 'team_sync'],
    ['http://localhost:8080/r/Standup/?relay=1', 'standup'],
  ])('%j → %s', (input, expected) => {
    expect(normalizeRoomInput(input)).toBe(expected);
  });

  it.each(['a', 'abc', 'a-b_c', '0', 'x'.repeat(64)])('accepts %j', (name) => {
    expect(isValidRoomName(name)).toBe(true);
  });

  it.each(['', '-a', 'a-', '_a', 'a b', 'A', 'x'.repeat(65), 'é', 'a/b'])('rejects %j', (name) => {
    expect(isValidRoomName(name)).toBe(false);
  });
});
