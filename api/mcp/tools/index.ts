import type { ToolDefinition } from '../tool.js';
import { evidenceTools } from './evidence.js';
import { previewMapping, verifyAuditLog } from './mappings.js';
import { operationTools } from './operations.js';
import { postureTools } from './posture.js';

/** Every tool the hub's MCP server offers, in the order a client lists them. */
export const TOOLS: readonly ToolDefinition[] = [...postureTools, ...operationTools, ...evidenceTools, previewMapping, verifyAuditLog];
