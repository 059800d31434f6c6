import { EVENT_TYPES, EVENT_TYPE_NAMES } from '../../store/event-catalog.js';
import { buildOpenApi } from '../openapi.js';
import type { JsonSchema, RouteSpec } from '../route.js';
import { MAKER_OPERATIONS, TEST_CONNECTION_OPERATION, type MakerOperation, type ParameterOverride, type Picker } from './operations.js';
import { parameterFields, sentence, titleOf, toSwaggerSchema, type ConvertOptions, type SwaggerSchema } from './schema.js';

/** Where the connector sends its requests: Swagger 2.0's host, basePath and schemes. */
export interface ConnectorTarget {
  host: string;
  basePath: string;
  schemes: ['https'] | ['http'];
}

/**
 * The target from a public URL (HUB_PUBLIC_URL, or the URL a request came in on): a bare
 * `name[:port]` host, the URL's path as basePath (default `/`), and https unless the URL is
 * http.
 */
export function connectorTarget(publicUrl: string): ConnectorTarget {
  const url = new URL(publicUrl);
  const basePath = url.pathname.replace(/\/+$/, '') || '/';
  return { host: url.host, basePath, schemes: url.protocol === 'http:' ? ['http'] : ['https'] };
}

export const CONNECTOR_TITLE = 'Evidence Hub';
export const CONNECTOR_DESCRIPTION =
  'Run compliance evidence jobs, follow their runs, read checks and posture, and push evidence items to GRC platforms from your flows, through your self-hosted Evidence Hub.';

type OpenApiParameter = { name: string; in: string; required?: boolean; description?: string; schema: JsonSchema };
type OpenApiOperation = {
  parameters: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; headers?: Record<string, { description: string; schema?: JsonSchema; $ref?: string }>; content?: Record<string, { schema?: JsonSchema }> } | { $ref: string }>;
};

function dynamicValues(picker: Picker): Record<string, unknown> {
  return {
    operationId: picker.operationId,
    'value-collection': picker.collection,
    'value-path': picker.value,
    'value-title': picker.title,
    ...(picker.parameters ? { parameters: picker.parameters } : {}),
  };
}

function visibilityOf(override: ParameterOverride | undefined, required: boolean): string {
  return override?.visibility ?? (required ? 'important' : 'advanced');
}

/** A top-level body property dressed as the maker sees it (summary, visibility, picker). */
function dressProperty(name: string, property: SwaggerSchema, override: ParameterOverride | undefined, required: boolean): SwaggerSchema {
  return {
    ...property,
    'x-ms-summary': override?.summary ?? titleOf(name),
    ...(override?.description ? { description: sentence(override.description) } : {}),
    'x-ms-visibility': visibilityOf(override, required),
    ...(override?.picker ? { 'x-ms-dynamic-values': dynamicValues(override.picker) } : {}),
  };
}

function swaggerOperation(op: MakerOperation, source: OpenApiOperation, finalSource: OpenApiOperation | undefined, options: ConvertOptions): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  for (const param of source.parameters) {
    const override = op.parameters?.[param.name];
    if (override?.omit) continue;
    const required = param.required || override?.required || false;
    parameters.push({
      name: param.name,
      in: param.in,
      required,
      ...parameterFields(param.schema, options),
      'x-ms-summary': override?.summary ?? titleOf(param.name),
      description: sentence(override?.description ?? param.description ?? (typeof param.schema.description === 'string' ? param.schema.description : undefined) ?? `The ${titleOf(param.name)} of the call`),
      'x-ms-visibility': visibilityOf(override, required),
      ...(override?.picker ? { 'x-ms-dynamic-values': dynamicValues(override.picker) } : {}),
      ...(param.in === 'path' ? { 'x-ms-url-encoding': 'single' } : {}),
    });
  }
  const body = source.requestBody?.content['application/json']?.schema;
  if (body) {
    const schema = toSwaggerSchema(body, options);
    const required = new Set((schema.required ?? []) as string[]);
    const properties = Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, SwaggerSchema>)
      .filter(([name]) => !op.parameters?.[name]?.omit)
      .map(([name, property]) => [name, dressProperty(name, property, op.parameters?.[name], required.has(name))]));
    // A trigger's callback URL: Power Automate fills it in (x-ms-notification-url), the maker never sees it.
    if (op.trigger) {
      const field = properties[op.trigger.notificationUrl];
      if (!field || !required.has(op.trigger.notificationUrl)) throw new Error(`power-automate: ${op.operationId} has no required body property ${op.trigger.notificationUrl}`);
      properties[op.trigger.notificationUrl] = { ...field, 'x-ms-notification-url': true, 'x-ms-visibility': 'internal' };
    }
    parameters.push({
      name: 'body',
      in: 'body',
      required: source.requestBody!.required,
      'x-ms-summary': 'Request',
      description: 'The request body.',
      schema: { ...schema, properties },
    });
  }

  const responses: Record<string, unknown> = {};
  const addResponse = (status: string, response: OpenApiOperation['responses'][string], description?: string) => {
    if ('$ref' in response) return;
    const schema = response.content?.['application/json']?.schema;
    const headers = Object.fromEntries(Object.entries(response.headers ?? {})
      .filter(([, header]) => !header.$ref)
      .map(([name, header]) => [name, { description: sentence(header.description), 'x-ms-summary': titleOf(name), ...parameterFields(header.schema ?? { type: 'string' }, options) }]));
    responses[status] = {
      description: sentence(description ?? response.description),
      ...(schema ? { schema: toSwaggerSchema(schema, options) } : {}),
      ...(Object.keys(headers).length ? { headers } : {}),
    };
  };
  for (const [status, response] of Object.entries(source.responses)) {
    if (Number(status) >= 200 && Number(status) < 300) addResponse(status, response);
  }
  if (op.finalResponse && finalSource) {
    const final = finalSource.responses[String(op.finalResponse.status)];
    if (final) addResponse(String(op.finalResponse.status), final, op.finalResponse.description);
  }
  // Failures are RFC 7807 problems; Power Automate shows their detail without a schema.
  responses.default = { description: 'The call failed: the body is an RFC 7807 problem that says why.' };
  const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => (a === 'default' ? 1 : b === 'default' ? -1 : Number(a) - Number(b))));

  return {
    operationId: op.operationId,
    summary: op.summary,
    description: op.description,
    'x-ms-visibility': op.visibility,
    ...(op.trigger ? { 'x-ms-trigger': 'single' } : {}),
    ...(body ? { consumes: ['application/json'] } : {}),
    produces: ['application/json'],
    parameters,
    responses: sorted,
  };
}

/**
 * What a trigger's flow receives: the event envelope the hub POSTs to every endpoint
 * (activities/webhooks.ts webhookBody), with `data` from the event catalog. Swagger 2.0 has no
 * oneOf and the event type is chosen in the flow, so `data` is the union of the event types'
 * data properties (none required); a property whose schema differs between types keeps only
 * its description.
 */
function notificationSchema(options: ConvertOptions): SwaggerSchema {
  const data: Record<string, SwaggerSchema> = {};
  for (const event of EVENT_TYPES) {
    const converted = toSwaggerSchema(event.schema, options);
    for (const [name, property] of Object.entries((converted.properties ?? {}) as Record<string, SwaggerSchema>)) {
      const known = data[name];
      if (!known) data[name] = property;
      else if (JSON.stringify(known) !== JSON.stringify(property) && 'type' in known) {
        data[name] = { description: sentence(`Depends on the event type: see GET /api/v1/event-types for the schema of ${name}`), 'x-ms-summary': titleOf(name) };
      }
    }
  }
  const sorted = Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    type: 'object',
    required: ['id', 'type', 'timestamp', 'data'],
    properties: {
      id: { type: 'string', description: 'The event ID, also the webhook-id header: the same on every attempt.', 'x-ms-summary': 'Event ID' },
      type: { type: 'string', enum: EVENT_TYPE_NAMES, description: 'The event type, for example run.completed.', 'x-ms-summary': 'Event Type' },
      timestamp: { type: 'string', format: 'date-time', description: 'When the event occurred.', 'x-ms-summary': 'Event Time' },
      data: { type: 'object', description: 'What the event is about: its fields depend on the event type.', 'x-ms-summary': 'Event Data', properties: sorted },
    },
  };
}

/**
 * The connector's `apiDefinition.swagger.json`: the maker operations of operations.ts, taken
 * from the same route declarations (through the OpenAPI document api/openapi.ts builds) and
 * converted to Swagger 2.0 with Power Automate's extensions.
 */
export function buildSwagger(routes: RouteSpec[], info: { version: string; target: ConnectorTarget }): Record<string, unknown> {
  const openApi = buildOpenApi(routes, { version: info.version }) as {
    paths: Record<string, Record<string, OpenApiOperation & { operationId: string }>>;
    components: { schemas: Record<string, JsonSchema> };
  };
  const byId = new Map<string, { path: string; method: string; operation: OpenApiOperation }>();
  for (const [path, item] of Object.entries(openApi.paths)) {
    for (const [method, operation] of Object.entries(item)) byId.set(operation.operationId, { path, method, operation });
  }
  const options: ConvertOptions = {
    summaries: true,
    resolve: (ref) => (ref.startsWith('#/components/schemas/') ? openApi.components.schemas[ref.slice('#/components/schemas/'.length)] : undefined),
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of MAKER_OPERATIONS) {
    const found = byId.get(op.source);
    if (!found) throw new Error(`power-automate: no route with operationId ${op.source}`);
    const final = op.finalResponse ? byId.get(op.finalResponse.source) : undefined;
    if (op.finalResponse && !final) throw new Error(`power-automate: no route with operationId ${op.finalResponse.source}`);
    paths[found.path] ??= {};
    paths[found.path]![found.method] = swaggerOperation(op, found.operation, final?.operation, options);
    if (op.trigger) paths[found.path]!['x-ms-notification-content'] = { description: sentence(op.trigger.description), schema: notificationSchema(options) };
  }
  const sortedPaths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

  return {
    swagger: '2.0',
    info: { title: CONNECTOR_TITLE, description: CONNECTOR_DESCRIPTION, version: info.version },
    host: info.target.host,
    basePath: info.target.basePath,
    schemes: info.target.schemes,
    consumes: [],
    produces: ['application/json'],
    paths: sortedPaths,
    definitions: {},
    parameters: {},
    responses: {},
    securityDefinitions: { api_key: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
    security: [{ api_key: [] }],
    tags: [],
    'x-ms-capabilities': { testConnection: { operationId: TEST_CONNECTION_OPERATION, parameters: {} } },
  };
}
