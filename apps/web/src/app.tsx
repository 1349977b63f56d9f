import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { HomeLink } from './components/Page';
import { detectLocale, type I18n, I18nContext, isLocale, type Locale, translator, useI18n } from './i18n';
import { type Navigate, parseRoute, usePathname } from './navigation';
import { Home } from './pages/Home';
import { MessagePage } from './pages/Message';
import { RoomSession } from './pages/RoomSession';
import { loadSetting, saveSetting } from './storage';

function initialLocale(): Locale {
  const saved = loadSetting('lang');
  return isLocale(saved) ? saved : detectLocale(navigator.languages ?? [navigator.language]);
}

/** The whole app: language, and which screen the URL asks for. */
export function App() {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const setLocale = useCallback((next: Locale) => {
    saveSetting('lang', next);
    setLocaleState(next);
  }, []);
  const i18n = useMemo<I18n>(() => ({ locale, t: translator(locale), setLocale }), [locale, setLocale]);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const [pathname, navigate] = usePathname();

  return (
    <I18nContext.Provider value={i18n}>
      <Screen pathname={pathname} navigate={navigate} />
    </I18nContext.Provider>
  );
}

function Screen({ pathname, navigate }: { pathname: string; navigate: Navigate }) {
  const route = parseRoute(pathname);
  switch (route.page) {
    case 'home':
      return <Home navigate={navigate} />;
    case 'room': {
      const relay = new URLSearchParams(window.location.search).get('relay') === '1';
      return <RoomSession key={route.room} roomName={route.room} relay={relay} navigate={navigate} />;
    }
    case 'invalid-room':
      return <Problem navigate={navigate} title="room.invalidTitle" body="room.invalidBody" />;
    case 'not-found':
      return <Problem navigate={navigate} title="app.notFound" />;
  }
}

function Problem({
  navigate,
  title,
  body,
}: {
  navigate: Navigate;
  title: 'room.invalidTitle' | 'app.notFound';
  body?: 'room.invalidBody';
}) {
  const { t } = useI18n();
  useEffect(() => {
    document.title = t('app.name');
  }, [t]);
  return (
    <MessagePage navigate={navigate} title={t(title)} tone="error">
      {body && <p>{t(body)}</p>}
      <p>
        <HomeLink navigate={navigate} class="button primary">
          {t('app.goHome')}
        </HomeLink>
      </p>
    </MessagePage>
  );
}
