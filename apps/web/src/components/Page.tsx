import type { ComponentChildren } from 'preact';
import { useI18n } from '../i18n';
import type { Navigate } from '../navigation';
import { LanguageSelect } from './LanguageSelect';

/** The frame of every screen but the meeting itself: brand (a link home), language, content. */
export function Page({ navigate, children }: { navigate: Navigate; children: ComponentChildren }) {
  const { t } = useI18n();
  return (
    <div class="page">
      <header class="page-header">
        <HomeLink navigate={navigate} class="brand">
          <span class="brand-mark" aria-hidden="true" />
          {t('app.name')}
        </HomeLink>
        <LanguageSelect />
      </header>
      <main class="page-main">{children}</main>
    </div>
  );
}

/** A real link to `/` that navigates in-app on a plain click. */
export function HomeLink({
  navigate,
  class: className,
  children,
}: {
  navigate: Navigate;
  class?: string;
  children: ComponentChildren;
}) {
  return (
    <a
      href="/"
      class={className}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate('/');
      }}
    >
      {children}
    </a>
  );
}
