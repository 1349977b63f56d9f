import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { type Dictionary, en, type MessageKey } from './en';
import { zhCN } from './zh-CN';

export type { Dictionary, MessageKey } from './en';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

export const dictionaries: Readonly<Record<Locale, Dictionary>> = { en, 'zh-CN': zhCN };

/** Each language's own name, shown in the language selector whatever the current language is. */
export const LOCALE_NAMES: Readonly<Record<Locale, string>> = { en: 'English', 'zh-CN': '简体中文' };

export type MessageParams = Readonly<Record<string, string | number>>;
export type Translate = (key: MessageKey, params?: MessageParams) => string;

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The first language in the browser's preference list that we speak: zh* → zh-CN, en* → en; else en. */
export function detectLocale(languages: readonly string[]): Locale {
  for (const language of languages) {
    const lower = language.toLowerCase();
    if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
  }
  return 'en';
}

/** Replaces `{param}` markers; unknown markers stay as they are so a missing parameter is visible. */
export function format(template: string, params?: MessageParams): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (marker, name: string) => {
    const value = params[name];
    return value === undefined ? marker : String(value);
  });
}

export function translator(locale: Locale): Translate {
  const dictionary = dictionaries[locale];
  return (key, params) => format(dictionary[key], params);
}

export interface I18n {
  readonly locale: Locale;
  readonly t: Translate;
  setLocale(locale: Locale): void;
}

export const I18nContext = createContext<I18n>({ locale: 'en', t: translator('en'), setLocale: () => {} });

export function useI18n(): I18n {
  return useContext(I18nContext);
}
