/**
 * The console's one way to the hub: the public /api/v1 routes, with the session cookie (sent by
 * the browser, HttpOnly), the session's CSRF token on every state-changing request, and the
 * workspace the bootstrap key acts in. Problems (RFC 7807) become ApiError.
 */

export interface FieldError { pointer: string; message: string }

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  missing_scopes?: string[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }
  get status(): number { return this.problem.status; }
  /** The message of the field at this JSON Pointer, if the API named one. */
  fieldError(pointer: string): string | undefined {
    return this.problem.errors?.find((e) => e.pointer === pointer)?.message;
  }
}

export interface Page<T> { data: T[]; next_cursor: string | null }

let csrfToken: string | null = null;
let actingWorkspace: string | null = sessionStorage.getItem('eh.workspace');
let onSignedOut: (reason: string) => void = () => undefined;

export function setCsrfToken(token: string | null): void { csrfToken = token; }
export function setActingWorkspace(id: string | null): void {
  actingWorkspace = id;
  if (id) sessionStorage.setItem('eh.workspace', id); else sessionStorage.removeItem('eh.workspace');
}
export function actingWorkspaceId(): string | null { return actingWorkspace; }
/** Called when the hub answers 401: the session ended (signed out elsewhere, key revoked, idle). */
export function whenSignedOut(handler: (reason: string) => void): void { onSignedOut = handler; }

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
  /** A 401 is the caller's to handle (the sign-in form) rather than a signed-out session. */
  expectUnauthorized?: boolean;
}

export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

export async function api<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (actingWorkspace) headers['X-Workspace-Id'] = actingWorkspace;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method, headers, credentials: 'same-origin', signal: options.signal,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError({ status: 0, title: 'The hub is not reachable', detail: 'The request did not reach the hub. Check that it is running, then try again.' });
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await response.json().catch(() => null) : await response.text();
  if (!response.ok && response.status !== 202) {
    const problem: Problem = typeof body === 'object' && body !== null ? { ...(body as Problem), status: response.status } : { status: response.status, title: response.statusText };
    if (response.status === 401 && !options.expectUnauthorized) onSignedOut(problem.detail ?? 'Your session has ended.');
    throw new ApiError(problem);
  }
  return body as T;
}

/** Every page of a listing (for pickers; bounded so a huge workspace cannot hang the page). */
export async function listAll<T>(path: string, query: RequestOptions['query'] = {}, maxPages = 10): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const page: Page<T> = await api<Page<T>>(path, { query: { ...query, limit: 500, cursor } });
    all.push(...page.data);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return all;
}
