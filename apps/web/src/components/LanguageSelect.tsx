import { useId } from 'preact/hooks';
import { isLocale, LOCALE_NAMES, LOCALES, useI18n } from '../i18n';

/** "Language" / "语言" picker; the choice is persisted by the app. */
export function LanguageSelect() {
  const { locale, setLocale, t } = useI18n();
  const id = useId();
  return (
    <div class="language-select">
      <label for={id}>{t('lang.label')}</label>
      <select
        id={id}
        value={locale}
        onChange={(event) => {
          const value = event.currentTarget.value;
          if (isLocale(value)) setLocale(value);
        }}
      >
        {LOCALES.map((code) => (
          <option key={code} value={code} lang={code}>
            {LOCALE_NAMES[code]}
          </option>
        ))}
      </select>
    </div>
  );
}
