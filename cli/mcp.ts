/**
 * `evidence-hub mcp --url <hub>`: the hub's MCP server over stdio, for desktop assistants.
 * It holds no data and opens no database: every tool is a call to the hub's HTTP API with the
 * key from EVIDENCE_HUB_API_KEY. Standard output carries only MCP messages; everything a person
 * should read goes to standard error.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { HubApiError, httpHubClient } from '../api/mcp/hub-client.js';
import { createMcpServer } from '../api/mcp/server.js';
import type { Scope } from '../store/api-keys.js';
import { packageVersion } from '../lib/package-version.js';
import { EXIT, type CliIo } from './io.js';

export interface McpStdioOptions {
  url: string;
  env: Record<string, string | undefined>;
  io: CliIo;
  /** The streams MCP speaks on (the process's own in real use). */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

export async function runMcpStdio(options: McpStdioOptions): Promise<number> {
  const { io, env } = options;
  let url: URL;
  try {
    url = new URL(options.url);
    if (!['http:', 'https:'].includes(url.protocol)) throw new Error('scheme');
  } catch {
    io.err(`--url must be the hub's http(s) URL, e.g. http://localhost:8080 (got "${options.url}")`);
    return EXIT.usage;
  }
  const apiKey = env.EVIDENCE_HUB_API_KEY?.trim();
  if (!apiKey) {
    io.err('Set EVIDENCE_HUB_API_KEY to an API key of the hub (ehk_…); a read-only assistant needs evidence:read, config:read and runs:read.');
    return EXIT.usage;
  }
  const version = await packageVersion();
  const hub = httpHubClient({ apiUrl: url.href, apiKey, workspaceId: env.EVIDENCE_HUB_WORKSPACE_ID || undefined, userAgent: `evidence-hub-mcp/${version} (stdio)` });
  const whoAmI = () => hub.get<{ scopes: Scope[]; name: string; workspace_id: string }>('/api/v1/me').then((r) => r.body);
  try {
    const me = await whoAmI();
    io.err(`evidence-hub mcp: serving ${url.origin} as key "${me.name}" (workspace ${me.workspace_id}; scopes ${me.scopes.join(', ')})`);
  } catch (error) {
    if (error instanceof HubApiError && (error.status === 401 || error.status === 403)) {
      io.err(`evidence-hub mcp: the hub refused the key in EVIDENCE_HUB_API_KEY: ${error.message}`);
      return EXIT.failed;
    }
    // A hub that is down now may be up by the first tool call: start, and let the calls say so.
    io.err(`evidence-hub mcp: ${error instanceof Error ? error.message : String(error)} Starting anyway.`);
  }
  const server = createMcpServer({ hub, scopes: async () => (await whoAmI()).scopes, version });
  const transport = new StdioServerTransport(options.stdin as never, options.stdout as never);
  const closed = new Promise<void>((resolve) => { transport.onclose = resolve; });
  (options.stdin ?? process.stdin).once('end', () => { void server.close(); });
  await server.connect(transport);
  await closed;
  return EXIT.ok;
}
