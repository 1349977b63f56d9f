/** localStorage that never throws (it can in private modes or with storage disabled). */
const PREFIX = 'convene.';

export function loadSetting(key: 'name' | 'lang'): string | null {
  try {
    return window.localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

export function saveSetting(key: 'name' | 'lang', value: string): void {
  try {
    window.localStorage.setItem(PREFIX + key, value);
  } catch {
    // Not persisted; the app works the same for this visit.
  }
}
