import type { Request, Response } from 'express';
import type { Scope } from '../store/api-keys.js';

export type JsonSchema = Record<string, unknown>;
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
  responses: Record<number, { description: string; schema?: JsonSchema; headers?: Record<string, string> }>;
  handler: (req: Request, res: Response) => Promise<void> | void;
}

export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_]+)/g, '{$1}');
}

export function pathParams(expressPath: string): string[] {
  return [...expressPath.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
}
