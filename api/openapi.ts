import { openApiPath, pathParams, type HeaderSpec, type JsonSchema, type ResponseSpec, type RouteSpec } from './route.js';
import { componentSchemas } from './schemas.js';

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 7807 problem details.',
  required: ['type', 'title', 'status', 'detail', 'instance', 'request_id'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    request_id: { type: 'string', description: 'Also the X-Request-Id response header.' },
    errors: {
      type: 'array',
      description: 'For validation failures: every fault found, each with where it is.',
      items: {
        type: 'object', required: ['pointer', 'message'],
        properties: { pointer: { type: 'string', description: 'JSON Pointer into the request (query parameters under /query, headers under /headers)' }, message: { type: 'string' } },
      },
    },
    missing_scopes: { type: 'array', items: { type: 'string' }, description: 'For a 403 of a key without the scope: the scopes of which the key needs one.' },
  },
};

const header = (description: string, schema: JsonSchema = { type: 'string' }) => ({ description, required: true, schema });
/** Headers many responses carry, held once under components/headers. */
const SHARED_HEADERS = {
  'X-Request-Id': header('The request id (the caller’s X-Request-Id when it is safe to echo); problems carry it as request_id.'),
  'RateLimit-Limit': header('Requests allowed per one-minute window.', { type: 'integer', minimum: 0 }),
  'RateLimit-Remaining': header('Requests left in the current window.', { type: 'integer', minimum: 0 }),
  'RateLimit-Reset': header('Seconds until the window resets.', { type: 'integer', minimum: 1 }),
  'Retry-After': header('Seconds to wait before trying again.', { type: 'integer', minimum: 0 }),
  'WWW-Authenticate': header('Bearer realm="evidence-hub"'),
};
const refs = (...names: (keyof typeof SHARED_HEADERS)[]) => Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
const REQUEST_ID_HEADER = refs('X-Request-Id');
const RATE_LIMIT_HEADERS = refs('RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset');
/** Headers a problem of this status always carries. */
const PROBLEM_HEADERS: Record<number, Record<string, unknown>> = {
  401: refs('WWW-Authenticate'),
  429: refs('Retry-After'),
  503: refs('Retry-After'),
};

/** Liveness is served before authentication and rate limiting (see app.ts); everything else is counted. */
const rateLimited = (route: RouteSpec) => route.path !== '/healthz';

/** The problem statuses every operation of this kind may answer with, and when. */
function standardProblems(route: RouteSpec): Record<number, string> {
  const problems: Record<number, string> = {};
  const hasPathParams = pathParams(route.path).length > 0;
  if (route.body || route.query || route.idempotent || hasPathParams) {
    problems[400] = route.body
      ? 'The request is malformed (not JSON, nested too deep) or does not match the schema; `errors` points at every fault.'
      : 'A parameter is malformed or does not match its schema; `errors` points at every fault.';
  }
  if (route.auth !== 'public') {
    problems[401] = 'No valid API key (missing, invalid or revoked).';
    if (route.auth !== 'authenticated') problems[403] = 'The API key lacks the scope this operation needs.';
  }
  if (hasPathParams) problems[404] = 'No such resource in this workspace.';
  if (route.idempotent) problems[409] = 'The Idempotency-Key was used with another request, or its first request is still being processed (Retry-After).';
  if (route.body) {
    problems[413] = 'The request body is over the size limit (HUB_JSON_BODY_LIMIT_BYTES).';
    problems[415] = 'The request body is not application/json.';
  }
  if (rateLimited(route)) problems[429] = 'Rate limit exceeded; see Retry-After.';
  return problems;
}

function headerObjects(headers: Record<string, string | HeaderSpec> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, spec]) => {
    const { description, schema = { type: 'string' }, required = true } = typeof spec === 'string' ? { description: spec } : spec;
    return [name, { description, required, schema }];
  }));
}

function problemResponse(route: RouteSpec, status: number, description: string, headers?: Record<string, string | HeaderSpec>) {
  return {
    description,
    headers: { ...REQUEST_ID_HEADER, ...(rateLimited(route) ? RATE_LIMIT_HEADERS : {}), ...PROBLEM_HEADERS[status], ...headerObjects(headers) },
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

function successResponse(route: RouteSpec, response: ResponseSpec) {
  const content = response.schema || response.contentType
    ? { content: { [response.contentType ?? 'application/json']: response.schema ? { schema: response.schema } : {} } }
    : {};
  return {
    description: response.description,
    headers: { ...REQUEST_ID_HEADER, ...(rateLimited(route) ? RATE_LIMIT_HEADERS : {}), ...headerObjects(response.headers) },
    ...content,
    ...(response.links ? { links: response.links } : {}),
  };
}

function parameters(route: RouteSpec): unknown[] {
  const params: unknown[] = pathParams(route.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string', minLength: 1 } }));
  const query = route.query as { properties?: Record<string, JsonSchema>; required?: string[] } | undefined;
  for (const [name, schema] of Object.entries(query?.properties ?? {})) {
    params.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema, ...(schema.description ? { description: schema.description } : {}) });
  }
  if (route.idempotent) {
    params.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Replays the original response for 24 h when the same key is sent with the same body; another body → 409.',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', description: '1 to 255 visible ASCII characters.' },
    });
  }
  return params;
}

/**
 * Problem responses many operations share verbatim, held once under components/responses:
 * `share` hands back a reference to the one copy.
 */
class SharedResponses {
  readonly components: Record<string, unknown> = {};
  private readonly names = new Map<string, string>();

  share(status: number, response: unknown): unknown {
    const key = JSON.stringify(response);
    let name = this.names.get(key);
    if (!name) {
      const taken = Object.keys(this.components).filter((n) => n === `Problem${status}` || n.startsWith(`Problem${status}_`)).length;
      name = taken ? `Problem${status}_${taken + 1}` : `Problem${status}`;
      this.names.set(key, name);
      this.components[name] = response;
    }
    return { $ref: `#/components/responses/${name}` };
  }
}

function operation(route: RouteSpec, shared: SharedResponses): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  const problems = standardProblems(route);
  const add = (code: number, description: string) => { problems[code] = problems[code] ? `${problems[code]} Or: ${description}` : description; };
  for (const [status, description] of Object.entries(route.problems ?? {})) add(Number(status), description);
  for (const [status, response] of Object.entries(route.responses)) {
    const code = Number(status);
    // A 4xx or 5xx declared without a body of its own is a problem like any other.
    if (code >= 400 && !response.schema) {
      add(code, response.description);
      continue;
    }
    responses[status] = successResponse(route, response);
  }
  for (const [status, description] of Object.entries(problems)) {
    const code = Number(status);
    if (responses[status]) continue;
    responses[status] = shared.share(code, problemResponse(route, code, description, route.responses[code]?.headers));
  }
  const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));

  const scopes = route.auth === 'public' || route.auth === 'authenticated' ? [] : Array.isArray(route.auth) ? route.auth : [route.auth];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    parameters: parameters(route),
    ...(route.body
      ? { requestBody: { required: !route.bodyOptional, content: { 'application/json': { schema: route.body } } } }
      : {}),
    responses: sorted,
    ...(route.auth === 'public'
      ? { security: [] }
      : { security: [{ ApiKey: [] }, { Bearer: [] }], 'x-required-scopes': scopes }),
  };
}

/** The OpenAPI 3.1 document, built from the same route declarations and schemas that validate requests. */
export function buildOpenApi(routes: RouteSpec[], info: { version: string; serverUrl?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const shared = new SharedResponses();
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route, shared);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Evidence Hub API',
      version: info.version,
      description:
        'Connect sources, map collected data to evidence with JSONPath rules, deliver it durably to GRC platforms, and subscribe to signed webhooks. ' +
        'Authenticate with `X-API-Key: ehk_…` or `Authorization: Bearer ehk_…`. Errors are RFC 7807 problems. ' +
        'Text cannot hold the NUL character (U+0000): a request with one in a stored string is refused with 400. ' +
        'References to other resources (`connection_id`, `mapping_id`, …) must name resources of the caller’s workspace; each create’s response links to the operations on what it made.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: info.serverUrl ?? '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA, ...componentSchemas },
      responses: shared.components,
      headers: SHARED_HEADERS,
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        Bearer: { type: 'http', scheme: 'bearer', description: 'The same API key as a bearer token.' },
      },
    },
  };
}
