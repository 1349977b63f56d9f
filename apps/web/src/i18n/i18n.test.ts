import { describe, expect, it } from 'vitest';
import { detectLocale, dictionaries, format, LOCALES, translator } from './index';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe('dictionaries', () => {
  const english = dictionaries.en;
  const keys = Object.keys(english).sort();

  it.each(LOCALES)('%s has exactly the English keys', (locale) => {
    expect(Object.keys(dictionaries[locale]).sort()).toEqual(keys);
  });

  it.each(LOCALES)('%s has no empty string', (locale) => {
    const empty = Object.entries(dictionaries[locale]).filter(([, text]) => text.trim() === '');
    expect(empty).toEqual([]);
  });

  it.each(LOCALES)('%s uses the same {parameters} as English', (locale) => {
    for (const key of keys) {
      const k = key as keyof typeof english;
      expect([key, placeholders(dictionaries[locale][k])]).toEqual([key, placeholders(english[k])]);
    }
  });
});

describe('detectLocale', () => {
  it.each([
    [['zh-CN'], 'zh-CN'],
    [['zh-TW', 'en'], 'zh-CN'],
    [['zh'], 'zh-CN'],
    [['en-US', 'zh-CN'], 'en'],
    [['fr-FR', 'zh-CN'], 'zh-CN'],
    [['fr-FR', 'de'], 'en'],
    [[], 'en'],
  ] as const)('%j → %s', (languages, expected) => {
    expect(detectLocale(languages)).toBe(expected);
  });
});

describe('format', () => {
  it('fills parameters and leaves unknown ones visible', () => {
    expect(format('{name} joined', { name: 'Ada' })).toBe('Ada joined');
    expect(format('{name} joined {room}', { name: 'Ada' })).toBe('Ada joined {room}');
    expect(translator('zh-CN')('toast.left', { name: 'Ada' })).toBe('Ada 离开了会议');
  });
});
