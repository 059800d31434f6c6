import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { HubError, type FieldError } from '../lib/errors.js';
import { BlobUnreadable } from '../store/blobs.js';
import type { Logger } from '../lib/logger.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://evidence-hub.dev/problems/';

/** The RFC 7807 body every error of the API takes. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id?: string;
  errors?: FieldError[];
  /** A 403 for a missing scope names the scopes of which the key needs one. */
  missing_scopes?: string[];
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function sendProblem(res: Response, error: HubError, instance: string): void {
  const problem: Problem = {
    type: TYPE_BASE + (error.extra.type ?? slug(error.title)),
    title: error.title,
    status: error.status,
    detail: error.detail ?? error.title,
    instance,
    request_id: res.locals.requestId as string | undefined,
    ...(error.extra.errors ? { errors: error.extra.errors } : {}),
    ...error.extra.fields,
  };
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) res.setHeader(name, value);
  res.status(error.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/** body-parser's errors carry a `type`; each becomes the 4xx it really is. */
function fromBodyParser(err: { type?: string; status?: number; limit?: number; message?: string }): HubError | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return new HubError(400, 'Malformed JSON', `The request body is not valid JSON: ${err.message ?? ''}`.trim(), { type: 'malformed-json', errors: [{ pointer: '', message: 'invalid JSON' }] });
    case 'entity.too.large':
      return new HubError(413, 'Payload Too Large', `The request body exceeds the limit of ${err.limit} bytes.`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HubError(415, 'Unsupported Media Type', err.message ?? 'Unsupported content encoding or charset.');
    case 'request.aborted':
      return new HubError(400, 'Request Aborted', 'The client closed the connection before the body was read.');
    case 'request.size.invalid':
      return new HubError(400, 'Bad Request', 'The request body length does not match Content-Length.');
    default:
      return null;
  }
}

/**
 * Errors that are the request's fault even though no handler said so: a 4xx status set by a
 * library (a malformed %-escape in the path), and PostgreSQL's data exceptions (class 22: a
 * NUL byte, a number out of range, an impossible date) raised by a value the caller sent.
 */
function fromClientError(err: { status?: number; statusCode?: number; code?: string; message?: string }): HubError | null {
  const status = err.status ?? err.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new HubError(status, 'Bad Request', 'The request could not be read (malformed URL or parameters).');
  if (typeof err.code === 'string' && err.code.startsWith('22')) {
    return HubError.badRequest(`A value in the request is not acceptable: ${(err.message ?? '').split('\n')[0]}.`);
  }
  return null;
}

/** The one place where errors become responses. Unknown errors are logged, never shown. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const instance = req.originalUrl.split('?')[0] ?? req.originalUrl;
    if (res.headersSent) {
      logger.error({ err, requestId: res.locals.requestId }, 'error after response started');
      res.end();
      return;
    }
    if (err instanceof HubError) return sendProblem(res, err, instance);
    // Stored data that is gone (a blob deleted or lost with a disk) fails this request only, and says so.
    if (err instanceof BlobUnreadable) {
      logger.error({ err, requestId: res.locals.requestId, path: instance }, 'stored data unreadable');
      return sendProblem(res, new HubError(410, 'Gone', `The stored data this request reads is no longer available: ${err.message}.`), instance);
    }
    const parsed = fromBodyParser(err as { type?: string }) ?? fromClientError(err as { status?: number; statusCode?: number; code?: string; message?: string });
    if (parsed) return sendProblem(res, parsed, instance);
    logger.error({ err, requestId: res.locals.requestId, method: req.method, path: instance }, 'unhandled error');
    sendProblem(res, new HubError(500, 'Internal Server Error', 'Something went wrong on our side; the request id identifies it in the logs.'), instance);
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(HubError.notFound(`No route ${req.method} ${req.path}.`));
};
