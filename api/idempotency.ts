import type { RequestHandler } from 'express';
import { HubError } from '../lib/errors.js';
import { canonicalSha256 } from '../lib/canonical-json.js';
import type { IdempotencyStore } from '../store/idempotency.js';
import type { Logger } from '../lib/logger.js';
import { principalOf } from './auth.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Response headers worth replaying: a replayed trigger must point at the same run. */
const REPLAYED_HEADERS = ['location', 'retry-after', 'content-location'];

/**
 * `Idempotency-Key` on a POST that creates or triggers: the first request's response is
 * stored and replayed for 24 h to the same key with the same body; another body → 409. A key
 * belongs to the API key that sent it: another API key's same Idempotency-Key is a new request,
 * and never sees the first one's response (which may hold a secret shown once).
 * The stored response is written before the first response is sent, so a client that
 * retries the moment it hears back always gets the replay.
 */
export function idempotency(store: IdempotencyStore, logger: Logger): RequestHandler {
  return async (req, res, next) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      throw HubError.badRequest('Idempotency-Key must be 1 to 255 visible ASCII characters.', [{ pointer: '/headers/idempotency-key', message: 'invalid' }]);
    }
    const { workspaceId, keyId } = principalOf(res);
    const scope = { workspaceId, apiKeyId: keyId, key };
    const path = req.originalUrl.split('?')[0]!;
    const requestHash = canonicalSha256({ method: req.method, path, body: req.body ?? null });
    const reservation = await store.reserve({ ...scope, method: req.method, path, requestHash });
    switch (reservation.outcome) {
      case 'unstored':
        throw HubError.conflict('The first request with this Idempotency-Key was processed, but its response could not be kept for replay: look up what it made (e.g. GET the list) instead of retrying; use a new key for a new request.');
      case 'mismatch':
        throw HubError.conflict('This Idempotency-Key was already used with a different request; use a new key for a new request.');
      case 'in_progress':
        throw new HubError(409, 'Conflict', 'A request with this Idempotency-Key is still being processed; retry shortly.', { headers: { 'Retry-After': '1' } });
      case 'replay': {
        const { status, headers, body } = reservation.response;
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
        res.setHeader('Idempotent-Replayed', 'true');
        res.status(status).json(body);
        return;
      }
      case 'reserved':
        break;
    }

    let completed = false;
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      if (res.statusCode >= 400) return send(body);
      const headers: Record<string, string> = {};
      for (const name of REPLAYED_HEADERS) {
        const value = res.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      store
        .complete(scope, { status: res.statusCode, headers, body })
        .then(() => { completed = true; })
        .catch(async (err: unknown) => {
          logger.error({ err }, 'could not store idempotent response');
          // Processed, but not replayable: a retry is told so rather than handed a replay or run twice.
          await store.markUnstored(scope, res.statusCode).then(() => { completed = true; }, () => undefined);
          res.setHeader('Idempotency-Replayable', 'false');
        })
        .finally(() => send(body));
      return res;
    };
    // Errors release the key so that the same request can be retried.
    res.on('finish', () => {
      if (!completed && res.statusCode >= 400) store.release(scope).catch(() => undefined);
    });
    next();
  };
}
