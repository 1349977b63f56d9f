import { useI18n } from '../i18n';
import type { Navigate } from '../navigation';
import { MessagePage } from './Message';

/** After "Leave" (or when the page was hidden): rejoin the same room, or go home. */
export function Left({ navigate, onRejoin }: { navigate: Navigate; onRejoin: () => void }) {
  const { t } = useI18n();
  return (
    <MessagePage navigate={navigate} title={t('left.title')}>
      <div class="actions">
        <button type="button" class="button primary" onClick={onRejoin}>
          {t('left.rejoin')}
        </button>
        <button type="button" class="button" onClick={() => navigate('/')}>
          {t('left.home')}
        </button>
      </div>
    </MessagePage>
  );
}
