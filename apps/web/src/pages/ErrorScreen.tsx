import { errorMessageKey, errorRecovery } from '../errors';
import { useI18n } from '../i18n';
import type { Navigate } from '../navigation';
import { MessagePage } from './Message';

/** A join that failed, or a meeting that was lost: what happened in plain words, and a way back. */
export function ErrorScreen({
  navigate,
  error,
  during,
  onRetry,
}: {
  navigate: Navigate;
  error: unknown;
  during: 'join' | 'call';
  onRetry: () => void;
}) {
  const { t } = useI18n();
  const recovery = errorRecovery(error);
  return (
    <MessagePage navigate={navigate} title={t(during === 'join' ? 'error.joinTitle' : 'error.lostTitle')} tone="error">
      <p class="error-text" role="alert">
        {t(errorMessageKey(error))}
      </p>
      <div class="actions">
        {recovery === 'retry' && (
          <button type="button" class="button primary" onClick={onRetry}>
            {t('error.retry')}
          </button>
        )}
        {recovery === 'reload' && (
          <button type="button" class="button primary" onClick={() => window.location.reload()}>
            {t('error.reload')}
          </button>
        )}
        <button type="button" class="button" onClick={() => navigate('/')}>
          {t('error.home')}
        </button>
      </div>
    </MessagePage>
  );
}
