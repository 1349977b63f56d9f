import { useEffect, useId, useState } from 'preact/hooks';
import { Page } from '../components/Page';
import { type MessageKey, useI18n } from '../i18n';
import { type Navigate, roomPath } from '../navigation';
import { isValidRoomName, normalizeRoomInput, randomRoomName } from '../room-name';

/** Start a new meeting, or join one by name. */
export function Home({ navigate }: { navigate: Navigate }) {
  const { t } = useI18n();
  const inputId = useId();
  const errorId = useId();
  const [value, setValue] = useState('');
  const [error, setError] = useState<MessageKey | null>(null);

  useEffect(() => {
    document.title = t('app.name');
  }, [t]);

  const onSubmit = (event: Event) => {
    event.preventDefault();
    const room = normalizeRoomInput(value);
    if (room === '') setError('home.errorEmpty');
    else if (!isValidRoomName(room)) setError('home.errorInvalid');
    else navigate(roomPath(room));
  };

  return (
    <Page navigate={navigate}>
      <section class="card home">
        <h1 class="home-title">{t('app.name')}</h1>
        <p class="home-tagline">{t('app.tagline')}</p>
        <button type="button" class="button primary large" onClick={() => navigate(roomPath(randomRoomName()))}>
          {t('home.newMeeting')}
        </button>
        <p class="divider">
          <span>{t('home.or')}</span>
        </p>
        <form class="join-form" onSubmit={onSubmit} noValidate>
          <label for={inputId}>{t('home.roomLabel')}</label>
          <div class="join-row">
            <input
              id={inputId}
              type="text"
              value={value}
              placeholder={t('home.roomPlaceholder')}
              autoComplete="off"
              autoCapitalize="none"
              spellcheck={false}
              aria-invalid={error !== null}
              aria-describedby={error ? errorId : undefined}
              onInput={(event) => {
                setValue(event.currentTarget.value);
                setError(null);
              }}
            />
            <button type="submit" class="button">
              {t('home.join')}
            </button>
          </div>
          {error && (
            <p id={errorId} class="field-error" role="alert">
              {t(error)}
            </p>
          )}
        </form>
      </section>
    </Page>
  );
}
