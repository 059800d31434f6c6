import type { HubClient } from './hub-client.js';

type Json = Record<string, unknown>;

export const RULE_SCHEMA_URI = 'evidence-hub://schemas/mapping-rules';
const PACK_URI = 'evidence-hub://packs/';

export interface ResourceEntry {
  uri: string;
  name: string;
  title: string;
  description: string;
  mimeType: string;
}

/** What an assistant can read besides the tools: the rule language and the built-in packs (both need config:read, as their routes do). */
export async function listResources(hub: HubClient): Promise<ResourceEntry[]> {
  const packs = (await hub.get<{ data: Json[] }>('/api/v1/mapping-packs')).body.data;
  return [
    {
      uri: RULE_SCHEMA_URI, name: 'mapping-rules-schema', title: 'Mapping rule schema', mimeType: 'application/schema+json',
      description: 'The JSON Schema (2020-12) of mapping rules: what preview_mapping takes as rules, and what a published mapping holds.',
    },
    ...packs.map((pack) => ({
      uri: `${PACK_URI}${encodeURIComponent(String(pack.id))}`, name: `pack-${pack.id}`, title: `Pack: ${pack.name}`, mimeType: 'application/json',
      description: `${String(pack.description ?? '').slice(0, 300)} (${(pack.rules as unknown[]).length} rules)`,
    })),
  ];
}

/** One resource's contents, or null when the URI names none. */
export async function readResource(hub: HubClient, uri: string): Promise<{ uri: string; mimeType: string; text: string } | null> {
  if (uri === RULE_SCHEMA_URI) {
    const schema = (await hub.get('/api/v1/mappings/rule-schema')).body;
    return { uri, mimeType: 'application/schema+json', text: JSON.stringify(schema, null, 2) };
  }
  if (uri.startsWith(PACK_URI)) {
    const id = decodeURIComponent(uri.slice(PACK_URI.length));
    const pack = (await hub.get<{ data: Json[] }>('/api/v1/mapping-packs')).body.data.find((p) => p.id === id);
    return pack ? { uri, mimeType: 'application/json', text: JSON.stringify(pack, null, 2) } : null;
  }
  return null;
}
