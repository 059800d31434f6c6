import type { Request, Response } from 'express';
import type { JsonSchema } from '../lib/json-schema.js';
import type { Scope } from '../store/api-keys.js';

export type { JsonSchema };

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One API operation, declared once: Express mounts it, Ajv validates its input with these
 * schemas, and the OpenAPI document is generated from the same declaration.
 */
export interface RouteSpec {
  method: HttpMethod;
  /** Express-style path, e.g. `/api/v1/api-keys/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /**
   * `public`; `authenticated` (any valid key); or the scope(s) of which the caller needs
   * one (`admin` covers all workspace scopes).
   */
  auth: 'public' | 'authenticated' | Scope | Scope[];
  body?: JsonSchema;
  /** The body may be omitted entirely (e.g. an optional `{input}`). */
  bodyOptional?: boolean;
  query?: JsonSchema;
  /** POSTs that create or trigger honour `Idempotency-Key`. */
  idempotent?: boolean;
  responses: Record<number, ResponseSpec>;
  /**
   * Problem statuses this operation answers with besides the ones every operation of its kind
   * may (400, 401, 403, 404, 413, 415, 429: see api/openapi.ts), each with when it happens.
   */
  problems?: Record<number, string>;
  handler: (req: Request, res: Response) => Promise<void> | void;
}

/** An OpenAPI link: the operation a response leads to, and the values it takes from the response. */
export interface LinkSpec {
  operationId: string;
  description?: string;
  /** Parameter name → runtime expression, e.g. `{ id: '$response.body#/id' }`. */
  parameters?: Record<string, string>;
  /** A request body, or body fields, built from runtime expressions. */
  requestBody?: unknown;
}

export interface HeaderSpec {
  description: string;
  schema?: JsonSchema;
  /** Sent with every response of its status (default true). */
  required?: boolean;
}

export interface ResponseSpec {
  description: string;
  schema?: JsonSchema;
  /** The body's media type when it is not `application/json` (a 4xx or 5xx without one is a problem). */
  contentType?: string;
  /** Header name → description (a string header sent with every such response), or its full spec. */
  headers?: Record<string, string | HeaderSpec>;
  links?: Record<string, LinkSpec>;
}

export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_]+)/g, '{$1}');
}

export function pathParams(expressPath: string): string[] {
  return [...expressPath.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
}
