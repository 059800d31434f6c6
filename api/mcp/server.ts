/**
 * The hub's MCP server: tools, resources and a prompt over the hub's HTTP API. Built on the
 * SDK's low-level Server because every schema here is JSON Schema (the hub's own, the rule
 * language's), not Zod. The same server runs behind /mcp (one per request: stateless) and
 * over stdio (`evidence-hub mcp`).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema, ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema,
  McpError, ReadResourceRequestSchema, type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import type { FormatsPlugin } from 'ajv-formats';
import { WORKSPACE_SCOPES, type Scope } from '../../store/api-keys.js';
import { toFieldErrors } from '../validation.js';
import { HubApiError, type HubClient } from './hub-client.js';
import { EXPLAIN_FAILING_CHECKS, explainFailingChecks } from './prompts.js';
import { listResources, readResource } from './resources.js';
import type { ToolDefinition } from './tool.js';
import { TOOLS } from './tools/index.js';

const addFormats = createRequire(import.meta.url)('ajv-formats') as FormatsPlugin;
const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>(TOOLS.map((tool) => [tool.name, ajv.compile(tool.inputSchema)]));

export interface McpServerOptions {
  hub: HubClient;
  /** The calling key's scopes; asked once per server (the /mcp endpoint knows them, stdio asks GET /api/v1/me). */
  scopes: () => Promise<readonly Scope[]>;
  version: string;
}

/** `admin` holds every workspace scope, as in the API. */
function holds(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed) || (scopes.includes('admin') && (WORKSPACE_SCOPES as readonly string[]).includes(needed));
}

const scopeSentence = (tool: ToolDefinition) => `Needs the API key scope${tool.scopes.length > 1 ? 's' : ''} ${tool.scopes.join(' and ')}.`;

function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function missingScopesError(tool: ToolDefinition, missing: readonly string[]): CallToolResult {
  return toolError(`${tool.name} needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}, which this API key lacks. Ask an admin for a key with ${tool.scopes.join(' and ')}.`);
}

/** What a refused API call tells the model: the problem's own words, never a stack. */
function apiError(tool: ToolDefinition, error: HubApiError): CallToolResult {
  if (error.missingScopes) return missingScopesError(tool, error.missingScopes);
  const p = error.problem;
  const fields = Array.isArray(p.errors) ? (p.errors as { pointer?: string; message?: string }[]).slice(0, 10).map((e) => `${e.pointer ?? ''} ${e.message ?? ''}`.trim()).join('; ') : '';
  return toolError(`${p.title ?? `HTTP ${error.status}`}: ${p.detail ?? ''}${fields ? ` (${fields})` : ''}`.trim());
}

export function createMcpServer(options: McpServerOptions): Server {
  const server = new Server(
    { name: 'evidence-hub', title: 'Evidence Hub', version: options.version },
    {
      capabilities: { tools: {}, resources: {}, prompts: {} },
      instructions:
        'Evidence Hub collects compliance evidence from identity, cloud, device and code systems and evaluates it against controls (SOC 2, ISO 27001, NIST 800-53, CIS AWS). ' +
        'Start with list_checks (status=fail) or get_framework_coverage; get_check explains one check with its failing records. trigger_run starts a job; poll get_run until ended.',
    },
  );
  let scopes: Promise<readonly Scope[]> | null = null;
  const callerScopes = () => (scopes ??= options.scopes());

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    // Every key sees every tool: what a tool needs is in its description, and a call without it says so.
    tools: TOOLS.map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: `${tool.description} ${scopeSentence(tool)}`,
      inputSchema: tool.inputSchema as { type: 'object' },
      outputSchema: tool.outputSchema as { type: 'object' },
      annotations: { title: tool.title, readOnlyHint: tool.readOnly, destructiveHint: false, idempotentHint: tool.readOnly, openWorldHint: false },
    })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const tool = TOOLS.find((t) => t.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    const args = structuredClone(request.params.arguments ?? {}) as Record<string, unknown>;
    const validate = validators.get(tool.name)!;
    if (!validate(args)) {
      return toolError(`Invalid arguments for ${tool.name}: ${toFieldErrors(validate.errors).map((e) => `${e.pointer || '(arguments)'} ${e.message}`).join('; ')}`);
    }
    try {
      const held = await callerScopes();
      const missing = tool.scopes.filter((scope) => !holds(held, scope));
      if (missing.length) return missingScopesError(tool, missing);
      const result = await tool.run(options.hub, args);
      return { content: [{ type: 'text', text: result.text }], structuredContent: result.structured };
    } catch (error) {
      if (error instanceof HubApiError) return apiError(tool, error);
      throw error;
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    try {
      return { resources: await listResources(options.hub) };
    } catch (error) {
      if (error instanceof HubApiError) throw new McpError(ErrorCode.InvalidRequest, `Resources need the config:read scope: ${error.message}`);
      throw error;
    }
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    let contents: Awaited<ReturnType<typeof readResource>>;
    try {
      contents = await readResource(options.hub, request.params.uri);
    } catch (error) {
      if (error instanceof HubApiError) throw new McpError(ErrorCode.InvalidRequest, error.message);
      throw error;
    }
    if (!contents) throw new McpError(ErrorCode.InvalidParams, `No resource ${request.params.uri}`);
    return { contents: [contents] };
  });

  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: [EXPLAIN_FAILING_CHECKS] }));

  server.setRequestHandler(GetPromptRequestSchema, async (request) => {
    if (request.params.name !== EXPLAIN_FAILING_CHECKS.name) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    try {
      return await explainFailingChecks(options.hub, request.params.arguments ?? {});
    } catch (error) {
      if (error instanceof HubApiError) throw new McpError(ErrorCode.InvalidRequest, error.message);
      throw error;
    }
  });
  return server;
}
