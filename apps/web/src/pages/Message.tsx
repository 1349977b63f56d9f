import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { Page } from '../components/Page';
import type { Navigate } from '../navigation';

/** A screen with a title, some words and a way on (left the meeting, errors, bad links). */
export function MessagePage({
  navigate,
  title,
  children,
  tone = 'neutral',
}: {
  navigate: Navigate;
  title: string;
  children: ComponentChildren;
  tone?: 'neutral' | 'error';
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // Move focus to the new screen's heading so screen readers announce it.
    heading.current?.focus();
  }, []);
  return (
    <Page navigate={navigate}>
      <section class={`card message ${tone}`}>
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {children}
      </section>
    </Page>
  );
}
