/**
 * Streamable HTTP at /mcp, on the API's port. Stateless: every POST gets a fresh server and
 * transport, so any API process behind a load balancer can answer any request and nothing
 * lives in one process's memory. Mounted after key identification and the rate limiter, so an
 * MCP request spends the key's budget like any other; the tools then call this same process's
 * API with the caller's key, meeting each route's own scope check and audit entry.
 */
import type { Request, RequestHandler, Response } from 'express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { HubError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Principal } from '../auth.js';
import { httpHubClient } from './hub-client.js';
import { createMcpServer } from './server.js';

export interface McpEndpointOptions {
  logger: Logger;
  version: string;
  publicUrl: string | null;
  /** Browser origins allowed besides the hub's own (HUB_PUBLIC_URL) and loopback ones. */
  allowedOrigins: readonly string[];
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A browser page may only call /mcp from the hub's own origin, a loopback one, or one the admin
 * allowed: a foreign page (DNS rebinding included, whose Host header lies too) gets a 403.
 * Clients that are not browsers send no Origin.
 */
function originAllowed(origin: string, options: McpEndpointOptions): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (options.publicUrl && parsed.origin === new URL(options.publicUrl).origin) return true;
  if (options.allowedOrigins.includes(parsed.origin)) return true;
  return LOOPBACK_HOSTS.has(parsed.hostname) && ['http:', 'https:'].includes(parsed.protocol);
}

function presentedKey(req: Request): string | null {
  const header = req.get('x-api-key');
  if (header) return header.trim();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return match ? match[1]! : null;
}

/** The address this request came in on: the tools' API calls go back to the same process. */
function selfUrl(req: Request): string {
  const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return `http://${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}`;
}

export function mcpEndpoint(options: McpEndpointOptions): { guard: RequestHandler; handle: RequestHandler } {
  /** Before keys and limits: a foreign origin is refused before anything is spent on it. */
  const guard: RequestHandler = (req, _res, next) => {
    const origin = req.get('origin');
    if (origin !== undefined && !originAllowed(origin, options)) {
      throw new HubError(403, 'Forbidden', `Requests from the origin ${origin.slice(0, 200)} may not use the MCP endpoint (HUB_MCP_ALLOWED_ORIGINS lists the allowed ones).`);
    }
    next();
  };

  const handle: RequestHandler = async (req: Request, res: Response) => {
    if (req.method !== 'POST') {
      // Stateless: no session to resume and no server-initiated stream to open (the spec's 405 for GET).
      throw new HubError(405, 'Method Not Allowed', 'This MCP endpoint is stateless: send every message as a POST.', { headers: { Allow: 'POST' } });
    }
    const principal = res.locals.principal as Principal | undefined;
    const key = presentedKey(req);
    // A console cookie is not an MCP credential: only a key in the request itself is.
    if (!principal || !key) {
      throw new HubError(401, 'Unauthorized', res.locals.authFailed ? 'The API key is invalid or has been revoked.' : 'Send an API key as Authorization: Bearer ehk_….', {
        headers: { 'WWW-Authenticate': res.locals.authFailed ? 'Bearer realm="evidence-hub", error="invalid_token"' : 'Bearer realm="evidence-hub"' },
      });
    }
    const hub = httpHubClient({
      apiUrl: selfUrl(req),
      publicUrl: options.publicUrl ?? `${req.protocol}://${req.get('host')}`,
      apiKey: key,
      workspaceId: req.get('x-workspace-id') ?? undefined,
      userAgent: `evidence-hub-mcp/${options.version}`,
    });
    const server = createMcpServer({ hub, scopes: async () => principal.scopes, version: options.version });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
  return { guard, handle };
}
