import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Page as ApiPage, type RequestOptions } from './api.js';

/** Shared pieces of every page: title, loading/empty/error states, tables, times, badges, forms. */

export function Page(props: { title: string; actions?: ComponentChildren; children: ComponentChildren; description?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => { document.title = `${props.title} · Evidence Hub`; }, [props.title]);
  // After a navigation, focus moves to the new page's heading so screen readers announce it.
  useEffect(() => { heading.current?.focus({ preventScroll: true }); }, []);
  return (
    <div class="page">
      <header class="page-header">
        <div>
          <h1 ref={heading} tabIndex={-1}>{props.title}</h1>
          {props.description && <p class="page-description">{props.description}</p>}
        </div>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </div>
  );
}

export function Section(props: { title: string; actions?: ComponentChildren; children: ComponentChildren; id?: string }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id} id={props.id}>
      <div class="card-header">
        <h2 id={id}>{props.title}</h2>
        {props.actions && <div class="card-actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}

export function Loading(props: { label?: string }) {
  return <p class="state loading" role="status"><span class="spinner" aria-hidden="true" />{props.label ?? 'Loading…'}</p>;
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="state empty">{props.children}</div>;
}

/** A problem as a user reads it: what failed, and for a 403 which scope the key lacks. */
export function ProblemMessage(props: { error: unknown; action?: string }) {
  const error = props.error;
  if (!(error instanceof ApiError)) return <div class="state error" role="alert"><strong>Something went wrong.</strong> {String((error as Error)?.message ?? error)}</div>;
  const p = error.problem;
  return (
    <div class="state error" role="alert">
      <strong>{p.status === 403 ? 'Not allowed with this key.' : (props.action ? `Could not ${props.action}.` : (p.title ?? 'Request failed.'))}</strong>{' '}
      {p.detail}
      {p.errors && p.errors.length > 0 && (
        <ul>{p.errors.map((e) => <li key={e.pointer}><code>{e.pointer || '(body)'}</code> {e.message}</li>)}</ul>
      )}
    </div>
  );
}

export interface Fetched<T> { data: T | undefined; error: unknown; loading: boolean; reload: () => void }

/**
 * Reads a resource; re-reads it on `reload()`, when `path` changes, and every `pollMs` while
 * `pollWhile(data)` holds (live run pages). A stale answer never overwrites a newer one.
 */
export function useApi<T>(path: string | null, options: { query?: RequestOptions['query']; pollMs?: number; pollWhile?: (data: T) => boolean } = {}): Fetched<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  const queryKey = JSON.stringify(options.query ?? {});
  const pollRef = useRef(options.pollWhile);
  pollRef.current = options.pollWhile;
  useEffect(() => {
    if (path === null) { setState({ data: undefined, error: null, loading: false }); return; }
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (first: boolean) => {
      if (first) setState((s) => ({ ...s, loading: true }));
      try {
        const data = await api<T>(path, { query: options.query, signal: controller.signal });
        if (controller.signal.aborted) return;
        setState({ data, error: null, loading: false });
        if (options.pollMs && pollRef.current?.(data)) timer = setTimeout(() => { void load(false); }, options.pollMs);
      } catch (error) {
        if (controller.signal.aborted) return;
        setState((s) => ({ data: s.data, error, loading: false }));
      }
    };
    void load(true);
    return () => { controller.abort(); clearTimeout(timer); };
  }, [path, queryKey, tick, options.pollMs]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

/** A listing with "Load more" over the API's cursor. */
export function usePaged<T>(path: string | null, query: RequestOptions['query'] = {}): Fetched<T[]> & { more: (() => void) | null; loadingMore: boolean } {
  const first = useApi<ApiPage<T>>(path, { query });
  const [extra, setExtra] = useState<{ rows: T[]; cursor: string | null | undefined }>({ rows: [], cursor: undefined });
  const [loadingMore, setLoadingMore] = useState(false);
  useEffect(() => { setExtra({ rows: [], cursor: undefined }); }, [first.data]);
  const cursor = extra.cursor === undefined ? first.data?.next_cursor ?? null : extra.cursor;
  const more = cursor && path ? () => {
    setLoadingMore(true);
    api<ApiPage<T>>(path, { query: { ...query, cursor } })
      .then((page) => setExtra((e) => ({ rows: [...e.rows, ...page.data], cursor: page.next_cursor })))
      .catch(() => undefined)
      .finally(() => setLoadingMore(false));
  } : null;
  return { data: first.data ? [...first.data.data, ...extra.rows] : undefined, error: first.error, loading: first.loading, reload: first.reload, more, loadingMore };
}

const LIVE_PAGE_SIZE = 50;
const LIVE_MAX_PAGE = 500;

/**
 * A listing that stays live: the loaded rows are re-read together (one request of up to 500)
 * every `pollMs` while `pollWhile` holds for them, so every row shown updates, not only the first
 * page. "Load more" widens that request; past 500 rows it pages on by cursor (those rows are not
 * re-read).
 */
export function useLiveList<T>(path: string | null, query: RequestOptions['query'], options: { pollMs: number; pollWhile: (rows: T[]) => boolean }) {
  const [limit, setLimit] = useState(LIVE_PAGE_SIZE);
  const [extra, setExtra] = useState<{ rows: T[]; cursor: string | null | undefined }>({ rows: [], cursor: undefined });
  const [loadingMore, setLoadingMore] = useState(false);
  const queryKey = JSON.stringify(query ?? {});
  useEffect(() => { setLimit(LIVE_PAGE_SIZE); setExtra({ rows: [], cursor: undefined }); }, [path, queryKey]);
  const extraRef = useRef<T[]>([]);
  extraRef.current = extra.rows;
  const first = useApi<ApiPage<T>>(path, {
    query: { ...query, limit }, pollMs: options.pollMs,
    pollWhile: (page) => options.pollWhile([...page.data, ...extraRef.current]),
  });
  const cursor = extra.cursor === undefined ? first.data?.next_cursor ?? null : extra.cursor;
  const more = !cursor || !path ? null : limit < LIVE_MAX_PAGE ? () => setLimit((n) => Math.min(LIVE_MAX_PAGE, n + LIVE_PAGE_SIZE)) : () => {
    setLoadingMore(true);
    api<ApiPage<T>>(path, { query: { ...query, limit: LIVE_PAGE_SIZE, cursor } })
      .then((page) => setExtra((e) => ({ rows: [...e.rows, ...page.data], cursor: page.next_cursor })))
      .catch(() => undefined)
      .finally(() => setLoadingMore(false));
  };
  const fetched: Fetched<T[]> = { data: first.data ? [...first.data.data, ...extra.rows] : undefined, error: first.error, loading: first.loading, reload: first.reload };
  return { ...fetched, more, loadingMore: loadingMore || (first.loading && first.data !== undefined) };
}

/** Loading, error, empty or the content: the four states every list and detail has. */
export function Resource<T>(props: { fetched: Fetched<T>; empty?: (data: T) => boolean; emptyText?: ComponentChildren; children: (data: T) => ComponentChildren; label?: string }) {
  const { data, error, loading } = props.fetched;
  if (loading && data === undefined) return <Loading label={props.label} />;
  if (error && data === undefined) return <ProblemMessage error={error} />;
  if (data === undefined) return null;
  if (props.empty?.(data)) return <Empty>{props.emptyText ?? 'Nothing here yet.'}</Empty>;
  return <>{error ? <ProblemMessage error={error} /> : null}{props.children(data)}</>;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const secondsFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A time in the browser's locale, with the UTC time on hover (and for screen readers' details). */
export function Time(props: { value: string | null | undefined; seconds?: boolean; empty?: string }) {
  if (!props.value) return <span class="muted">{props.empty ?? '—'}</span>;
  const date = new Date(props.value);
  if (Number.isNaN(date.getTime())) return <span>{props.value}</span>;
  const utc = date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return <time dateTime={date.toISOString()} title={utc}>{(props.seconds ? secondsFormat : dateFormat).format(date)}</time>;
}

export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from) return '—';
  const ms = (to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime();
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const BADGE_TONES: Record<string, string> = {
  pass: 'good', succeeded: 'good', delivered: 'good', ok: 'good', enabled: 'good', intact: 'good', active: 'good',
  fail: 'bad', failed: 'bad', error: 'bad', rejected: 'bad', broken: 'bad', revoked: 'bad',
  partial: 'warn', ambiguous: 'warn', stale: 'warn', pending: 'warn', paused: 'warn', disabled: 'muted',
  running: 'info', queued: 'info', info: 'info', cancelled: 'muted', exception: 'muted', accepted_risk: 'muted',
};

export function Badge(props: { value: string; label?: string }) {
  return <span class={`badge tone-${BADGE_TONES[props.value] ?? 'muted'}`}>{props.label ?? props.value.replace(/_/g, ' ')}</span>;
}

/** A table that scrolls sideways on a narrow screen instead of breaking the page. */
export function Table(props: { caption: string; head: ComponentChildren[]; children: ComponentChildren; captionHidden?: boolean }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.caption}>
      <table>
        <caption class={props.captionHidden === false ? '' : 'visually-hidden'}>{props.caption}</caption>
        <thead><tr>{props.head.map((h, i) => <th key={i} scope="col">{h}</th>)}</tr></thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

export function MoreButton(props: { more: (() => void) | null; loading: boolean }) {
  if (!props.more) return null;
  return <div class="more"><button type="button" class="secondary" onClick={props.more} disabled={props.loading}>{props.loading ? 'Loading…' : 'Load more'}</button></div>;
}

/** A labelled form field; `error` (from the API's pointers) is announced with the field. */
export function Field(props: { label: string; hint?: ComponentChildren; error?: string; children: (id: string, describedBy: string | undefined) => ComponentChildren; required?: boolean }) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : '';
  const errorId = props.error ? `${id}-error` : '';
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' has-error' : ''}`}>
      <label for={id}>{props.label}{props.required && <span class="required" aria-hidden="true"> *</span>}</label>
      {props.children(id, describedBy)}
      {props.hint && <p class="hint" id={hintId}>{props.hint}</p>}
      {props.error && <p class="field-error" id={errorId}>{props.error}</p>}
    </div>
  );
}

export function TextInput(props: { label: string; value: string; onInput: (value: string) => void; hint?: ComponentChildren; error?: string; type?: string; required?: boolean; placeholder?: string; autoComplete?: string; name?: string }) {
  return (
    <Field label={props.label} hint={props.hint} error={props.error} required={props.required}>
      {(id, describedBy) => (
        <input id={id} name={props.name} type={props.type ?? 'text'} value={props.value} required={props.required} placeholder={props.placeholder}
          autoComplete={props.autoComplete} aria-invalid={props.error ? 'true' : undefined} aria-describedby={describedBy}
          onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)} />
      )}
    </Field>
  );
}

export function Select(props: { label: string; value: string; onChange: (value: string) => void; options: { value: string; label: string }[]; hint?: ComponentChildren; error?: string; required?: boolean }) {
  return (
    <Field label={props.label} hint={props.hint} error={props.error} required={props.required}>
      {(id, describedBy) => (
        <select id={id} value={props.value} required={props.required} aria-invalid={props.error ? 'true' : undefined} aria-describedby={describedBy}
          onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}>
          {props.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      )}
    </Field>
  );
}

export function Checkbox(props: { label: string; checked: boolean; onChange: (checked: boolean) => void; hint?: ComponentChildren }) {
  const id = useId();
  return (
    <div class="checkbox">
      <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)} />
      <label for={id}>{props.label}</label>
      {props.hint && <p class="hint">{props.hint}</p>}
    </div>
  );
}

/** Copies text to the clipboard and says so (for keys and secrets shown once). */
export function CopyButton(props: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button type="button" class="secondary" onClick={() => {
      void navigator.clipboard?.writeText(props.text).then(() => { setCopied(true); setTimeout(() => setCopied(false), 2000); }, () => setCopied(false));
    }}>{copied ? 'Copied' : (props.label ?? 'Copy')}<span class="visually-hidden" aria-live="polite">{copied ? ' to the clipboard' : ''}</span></button>
  );
}

/** A value shown once (a new API key, a webhook secret): it is gone when the user leaves. */
export function ShownOnce(props: { label: string; value: string; children?: ComponentChildren }) {
  return (
    <div class="shown-once" role="status">
      <p><strong>{props.label}</strong> — copy it now: it is not shown again.</p>
      <div class="secret-row"><code class="secret" aria-label={props.label}>{props.value}</code><CopyButton text={props.value} /></div>
      {props.children}
    </div>
  );
}

/**
 * Runs an action from a button: disables it while it runs, shows the problem if it fails, and
 * announces the outcome.
 */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>): { run: (...args: A) => Promise<R | undefined>; busy: boolean; error: unknown; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      return await action(...args);
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(null) };
}

export function Notice(props: { tone?: 'good' | 'bad' | 'info'; children: ComponentChildren }) {
  return <div class={`notice tone-${props.tone ?? 'info'}`} role="status">{props.children}</div>;
}

export function Json(props: { value: unknown; label: string }) {
  return <pre class="json" tabIndex={0} aria-label={props.label}>{JSON.stringify(props.value, null, 2)}</pre>;
}

export function KeyValues(props: { items: [string, ComponentChildren][] }) {
  return <dl class="kv">{props.items.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>;
}

export type FormEvent = JSX.TargetedEvent<HTMLFormElement, Event>;
