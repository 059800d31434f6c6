/**
 * How the MCP server reaches the hub: through its HTTP API, with the caller's own key, never
 * the database. The stdio server points it at the hub's URL; the /mcp endpoint at the API
 * process that took the request. Every tool therefore meets exactly the route it stands for:
 * the same scope check, the same validation, the same audit entry, the same rate limit.
 */

/** An RFC 7807 problem the API answered with. */
export class HubApiError extends Error {
  constructor(readonly status: number, readonly problem: { title?: string; detail?: string; type?: string; missing_scopes?: string[]; errors?: unknown[] }) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }

  /** The scopes the key lacks, when the API refused it for that. */
  get missingScopes(): string[] | null {
    return this.status === 403 && Array.isArray(this.problem.missing_scopes) ? this.problem.missing_scopes : null;
  }
}

export interface HubResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface HubClient {
  get<T = unknown>(path: string, query?: Query): Promise<HubResponse<T>>;
  post<T = unknown>(path: string, body?: unknown, headers?: Record<string, string>): Promise<HubResponse<T>>;
  /** The hub's public base URL, for links the assistant may show. */
  readonly baseUrl: string;
}

export interface HttpHubClientOptions {
  /** Where the requests go (an API process of the hub). */
  apiUrl: string;
  /** What links shown to the assistant start with (default: apiUrl). */
  publicUrl?: string;
  apiKey: string;
  /** Sent along for a workspaces:admin key acting in another workspace. */
  workspaceId?: string;
  userAgent: string;
  /** Bounds each call, so a stuck hub cannot hold a tool call forever. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function httpHubClient(options: HttpHubClientOptions): HubClient {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const baseHeaders: Record<string, string> = { authorization: `Bearer ${options.apiKey}`, accept: 'application/json', 'user-agent': options.userAgent };
  if (options.workspaceId) baseHeaders['x-workspace-id'] = options.workspaceId;

  async function call<T>(method: string, path: string, init: { query?: Query; body?: unknown; headers?: Record<string, string> }): Promise<HubResponse<T>> {
    const url = new URL(apiUrl + path);
    for (const [name, value] of Object.entries(init.query ?? {})) if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    const headers = { ...baseHeaders, ...init.headers };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, redirect: 'manual', signal });
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'did not answer in time' : 'could not be reached';
      throw new HubApiError(503, { title: 'Hub unavailable', detail: `The hub at ${apiUrl} ${reason}.` });
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (response.status >= 400) {
      const problem = parsed && typeof parsed === 'object' ? parsed as HubApiError['problem'] : { title: `HTTP ${response.status}` };
      throw new HubApiError(response.status, problem);
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  return {
    baseUrl: (options.publicUrl ?? apiUrl).replace(/\/+$/, ''),
    get: (path, query) => call('GET', path, { query }),
    post: (path, body, headers) => call('POST', path, { body, headers }),
  };
}
