import { useEffect, useState } from 'preact/hooks';

/**
 * History-API routing: every console page has a real URL (the hub serves index.html for any
 * GET that accepts HTML outside the API), so links can be opened in a new tab and shared.
 */

const listeners = new Set<() => void>();

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (href === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', () => { for (const listener of listeners) listener(); });

export interface Location { path: string; query: URLSearchParams }

export function useLocation(): Location {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => { listeners.delete(listener); };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** `/runs/:id` against `/runs/run_123` → `{ id: 'run_123' }`, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(got[i]!);
    else if (part !== got[i]) return null;
  }
  return params;
}

/** Same-page navigation for plain links (modifier clicks still open a new tab). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as HTMLElement).closest('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download') || anchor.origin !== location.origin) return;
    const href = anchor.getAttribute('href') ?? '';
    if (!href.startsWith('/') || href.startsWith('/api/') || href.startsWith('/docs')) return;
    event.preventDefault();
    navigate(anchor.pathname + anchor.search);
  });
}
