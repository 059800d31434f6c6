import type { RequestHandler } from 'express';
import type { Logger } from '../lib/logger.js';
import { redactUrl } from '../lib/redact.js';

/**
 * One JSON line per request, written when the response finishes: request id, method, URL
 * (credentials in the query removed), status and duration. Headers are never logged.
 * (A hand-written middleware: pino-http's per-request child logger cost a quarter of the
 * API's throughput in bench/api.ts.)
 */
export function requestLog(logger: Logger, options: { skip?: (path: string) => boolean } = {}): RequestHandler {
  return (req, res, next) => {
    if (options.skip?.(req.path)) return next();
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level]({
        request_id: res.locals.requestId,
        method: req.method,
        url: redactUrl(req.originalUrl),
        status,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        key_id: (res.locals.principal as { keyId?: string } | undefined)?.keyId,
      }, 'request');
    });
    next();
  };
}
