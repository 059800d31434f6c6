import { openApiPath, pathParams, type JsonSchema, type RouteSpec } from './route.js';

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 7807 problem details.',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    request_id: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['pointer', 'message'], properties: { pointer: { type: 'string', description: 'JSON Pointer into the request' }, message: { type: 'string' } } },
    },
  },
};

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': { description: 'Requests allowed per one-minute window.', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window resets.', schema: { type: 'integer' } },
};

function parameters(route: RouteSpec): unknown[] {
  const params: unknown[] = pathParams(route.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
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
      schema: { type: 'string', maxLength: 255 },
    });
  }
  return params;
}

function operation(route: RouteSpec): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] = {
      description: response.description,
      headers: {
        ...(route.auth === 'public' ? {} : RATE_LIMIT_HEADERS),
        ...Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: 'string' } }])),
      },
      ...(response.schema ? { content: { 'application/json': { schema: response.schema } } } : {}),
    };
  }
  if (route.body || route.query) responses['400'] ??= problemResponse('The request is malformed or does not match the schema.');
  if (route.auth !== 'public') {
    responses['401'] ??= problemResponse('No valid API key.');
    responses['403'] ??= problemResponse('The API key lacks the required scope.');
    responses['429'] ??= problemResponse('Rate limit exceeded; see Retry-After.');
  }
  if (pathParams(route.path).length) responses['404'] ??= problemResponse('No such resource in this workspace.');
  responses.default = problemResponse('Any other error.');

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
    responses,
    ...(route.auth === 'public'
      ? { security: [] }
      : { security: [{ ApiKey: [] }, { Bearer: [] }], 'x-required-scopes': scopes }),
  };
}

/** The OpenAPI 3.1 document, built from the same route declarations and schemas that validate requests. */
export function buildOpenApi(routes: RouteSpec[], info: { version: string; serverUrl?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Evidence Hub API',
      version: info.version,
      description:
        'Connect sources, map collected data to evidence with JSONPath rules, deliver it durably to GRC platforms, and subscribe to signed webhooks. ' +
        'Authenticate with `X-API-Key: ehk_…` or `Authorization: Bearer ehk_…`. Errors are RFC 7807 problems.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: info.serverUrl ?? '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA },
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        Bearer: { type: 'http', scheme: 'bearer', description: 'The same API key as a bearer token.' },
      },
    },
  };
}
