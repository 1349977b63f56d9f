import type { Toast } from '../hooks/use-toasts';

/** The polite live region: screen readers announce each toast ("Ada joined", "Link copied"). */
export function Toasts({ toasts }: { toasts: readonly Toast[] }) {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.map((toast) => (
        <p key={toast.id} class="toast">
          {toast.text}
        </p>
      ))}
    </div>
  );
}
