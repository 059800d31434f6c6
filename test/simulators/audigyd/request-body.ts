// Request bodies as bytes, for the destination simulators (AUDIGYD and
// AUDITDEX). common/server.ts hands a handler the body only as UTF-8 text of
// at most 1 MB (`SimRequest.text()`), but AUDIGYD takes files "up to 100MB"
// and AUDITDEX returns the SHA-256 of the exact bytes it received, so these
// simulators read the IncomingMessage itself, as a stream.
//
// They find it through Node's built-in `http.server.request.start`
// diagnostics channel, which every node:http server publishes just before it
// emits 'request'. SimRequest shares its `headers` object with the
// IncomingMessage, so that object is the key.

import { subscribe } from 'node:diagnostics_channel';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { SimRequest } from '../common/server.js';

const incoming = new WeakMap<IncomingHttpHeaders, IncomingMessage>();

subscribe('http.server.request.start', (message) => {
  const { request } = message as { request: IncomingMessage };
  incoming.set(request.headers, request);
});

/** The raw body of a request, unread. */
export function bodyStream(req: SimRequest): Readable {
  const message = incoming.get(req.headers);
  if (!message) throw new Error(`no IncomingMessage seen for ${req.method} ${req.path}`);
  return message;
}

/**
 * Reads whatever a handler left of the body and throws it away, so that a
 * client still sending (a 100 MB upload answered 404 or 413) finishes and
 * reads the answer instead of meeting a reset socket. For the same reason the
 * readers below read to the end even past a limit: leaving a `for await` loop
 * early would destroy the request, and the socket with it.
 */
export async function discardUnread(req: SimRequest): Promise<void> {
  const stream = bodyStream(req);
  if (stream.readableEnded) return;
  for await (const _chunk of stream) {
    // discarded
  }
}

/** The whole body, or `undefined` when it is over `maxBytes` (read to its end all the same). */
export async function readBodyUpTo(stream: Readable, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
    else chunks.length = 0;
  }
  return size <= maxBytes ? Buffer.concat(chunks, size) : undefined;
}
