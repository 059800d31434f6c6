import type { Response } from 'express';
import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import { compileRules, mappingRulesSchema, readRulesSource, validateMappingDocument, type CompiledMapping } from '../../mappings/engine.js';
import { getPack, listPacks, mergeWithPack } from '../../mappings/packs.js';
import type { Rule, RuleOverride } from '../../mappings/types.js';
import type { CollectionStore } from '../../store/collections.js';
import { MappingStore, type MappingSet, type MappingVersion } from '../../store/mappings.js';
import { JobStore } from '../../store/jobs.js';
import type { SnapshotStore } from '../../store/snapshots.js';
import { audited, type AuditDeps, type AuditRecord } from '../audit.js';
import { hasScope, principalOf } from '../auth.js';
import type { PreviewPool } from '../preview/pool.js';
import type { PreviewTask } from '../preview/task.js';
import { exact, linksTo, listOf, name, pageQuery, pageRequest, ruleProperties, ruleRef, timestamp } from '../schemas.js';

export interface MappingDeps extends AuditDeps {
  mappings: MappingStore;
  jobs: JobStore;
  snapshots: SnapshotStore;
  collections: CollectionStore;
  preview: PreviewPool;
}

const rulesField: JsonSchema = {
  type: 'array', maxItems: 500, items: ruleRef,
  description: 'Mapping rules (the JSON Schema of GET /api/v1/mappings/rule-schema). Beyond the schema, rules must compile: JSONPaths and filters parse, referenced params are declared, title variables exist, rule ids are unique.',
};
const sourceField: JsonSchema = {
  type: 'object', additionalProperties: false, required: ['text', 'format'],
  description: 'The rules as text, kept as written (YAML comments survive publish and restore): a list of rules or {rules: [...]}. Faults come back with pointer /source/text, the document_pointer into the text’s document, and the line and column.',
  properties: { text: { type: 'string', maxLength: 1_000_000 }, format: { enum: ['yaml', 'json'], description: 'How the text is written (JSON is read as the YAML subset it is).' } },
};
const messageField: JsonSchema = { type: 'string', maxLength: 2000, description: 'What changed and why, shown in the version list.' };
const mappingFields = {
  id: { type: 'string' }, name: { type: 'string' }, description: { type: ['string', 'null'] }, version: { type: 'integer', minimum: 1 },
};
const mappingView: JsonSchema = exact({
  ...mappingFields,
  pack: { type: ['string', 'null'], description: 'The built-in pack the version started from.' },
  restored_from: { type: ['integer', 'null'], description: 'The version this one restored.' },
  rules: { type: 'array', items: { type: 'object' } },
  source: { type: ['string', 'null'], description: 'The text the version was written as (null when it was sent as parsed rules).' },
  source_format: { enum: ['yaml', 'json', null] },
  message: { type: ['string', 'null'] },
  created_by: { type: ['string', 'null'], description: 'The API key that published the version.' },
  created_at: timestamp, updated_at: timestamp,
});
const mappingSummary: JsonSchema = exact({ ...mappingFields, version: { ...mappingFields.version, description: 'The latest version.' }, created_at: timestamp, updated_at: timestamp });
const versionView: JsonSchema = exact({
  version: { type: 'integer', minimum: 1 }, pack: { type: ['string', 'null'] }, restored_from: { type: ['integer', 'null'] }, created_by: { type: ['string', 'null'], description: 'The API key that published it.' }, created_at: timestamp,
  message: { type: ['string', 'null'] },
  pinned_jobs: { type: 'array', items: exact({ id: { type: 'string' }, name: { type: 'string' } }), description: 'Jobs pinned to this version (mapping_version).' },
});
/** A rule's fields to replace in a pack, by rule id: any of a rule's fields (an id not in the pack adds a whole rule). */
const ruleOverride: JsonSchema = { type: 'object', additionalProperties: false, required: ['id'], properties: ruleProperties };
const evidenceDraft: JsonSchema = {
  type: 'object',
  required: ['rule_id', 'dataset', 'control_ref', 'title', 'source', 'result', 'payload', 'payload_sha256', 'references'],
  properties: {
    rule_id: { type: 'string' }, dataset: { type: 'string' }, control_ref: { type: 'string' }, question_match: { type: 'string' }, question_id: { type: 'string' },
    title: { type: 'string' }, source: { type: 'string' }, result: { enum: ['pass', 'fail', 'info', 'error'] }, payload: { type: 'object' },
    payload_sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, references: { type: 'object' },
  },
};
const previewResult: JsonSchema = exact({
  evidence: { type: 'array', items: evidenceDraft, description: 'One item per enabled rule, as a run would deliver it.' },
  errors: {
    type: 'array', description: 'Rules that could not be evaluated on this data (their items have result error).',
    items: { type: 'object', required: ['rule_id', 'dataset', 'message'], properties: { rule_id: { type: 'string' }, dataset: { type: 'string' }, pointer: { type: 'string' }, message: { type: 'string' } } },
  },
  stats: {
    type: 'array',
    items: exact({ rule_id: { type: 'string' }, selected: { type: 'integer', minimum: 0 }, matched: { type: 'integer', minimum: 0 }, excluded: { type: 'integer', minimum: 0 } }),
  },
});
// Only with compare_with: not among the always-present fields.
(previewResult.properties as Record<string, JsonSchema>).comparison = {
  type: 'array', description: 'With compare_with: per rule, its result under the published version (before) and the edited rules (after), and the records that flip.',
  items: exact({
    rule_id: { type: 'string' }, before: { enum: ['pass', 'fail', 'info', 'error', null] }, after: { enum: ['pass', 'fail', 'info', 'error', null] }, changed: { type: 'boolean' },
    now_failing: { type: 'array', description: 'Ids of records failing now that did not before.' }, now_passing: { type: 'array', description: 'Ids of records no longer failing.' },
  }),
};
const mappingLinks = () => ({
  ...linksTo(['getMapping', 'updateMapping', 'deleteMapping', 'listMappingVersions']),
  getThisVersion: { operationId: 'getMappingVersion', parameters: { id: '$response.body#/id', version: '$response.body#/version' } },
  restoreThisVersion: { operationId: 'restoreMappingVersion', parameters: { id: '$response.body#/id', version: '$response.body#/version' } },
  createJobWithMapping: { operationId: 'createJob', requestBody: { mapping_id: '$response.body#/id' } },
  previewMapping: { operationId: 'previewMapping', requestBody: { mapping_id: '$response.body#/id' } },
});

/** Rules sent as text: 400 naming each fault's place in the text (document pointer, line, column). */
function rulesFromSource(source: { text: string; format: 'yaml' | 'json' }): unknown[] {
  const read = readRulesSource(source.text);
  if (read.ok) return read.rules;
  throw HubError.validation(read.errors.map((e) => ({ pointer: '/source/text', message: e.message, document_pointer: e.pointer, line: e.line, column: e.column })), 'The mapping rules are not valid.');
}

/** Rules as the engine sees them: 400 with pointers into the request when they do not compile. */
function checkRules(rules: unknown[], pointerPrefix = ''): CompiledMapping {
  const errors: FieldError[] = validateMappingDocument({ rules }).map((e) => ({ ...e, pointer: pointerPrefix + e.pointer }));
  if (errors.length) throw HubError.validation(errors, 'The mapping rules are not valid.');
  return compileRules({ rules });
}

function view(set: MappingSet, version: MappingVersion) {
  return {
    id: set.id, name: set.name, description: set.description, version: version.version, pack: version.pack,
    restored_from: version.restored_from, rules: version.rules, source: version.source, source_format: version.source_format, message: version.message,
    created_by: version.created_by, created_at: set.created_at, updated_at: set.updated_at,
  };
}

/** A published version as the audit log records it: the rules by count and digest, not in full. */
function versionRecord(action: string, { set, version }: { set: MappingSet; version: MappingVersion }, extra: Record<string, unknown> = {}): AuditRecord {
  return {
    action, resourceType: 'mapping', resourceId: set.id,
    changes: { ...extra, version: version.version, pack: version.pack, restored_from: version.restored_from, rule_count: version.rules.length, rules_sha256: canonicalSha256(version.rules) },
  };
}

function parseVersion(raw: unknown): number {
  const version = Number(raw);
  if (!Number.isInteger(version) || version < 1 || version > 2_147_483_647) throw HubError.notFound('Versions are numbered from 1.');
  return version;
}

/** The preview's request: the rules (inline, as text, or stored) and the data (inline, snapshots, a collection). */
function previewBody(extra: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  const schema: JsonSchema = {
    type: 'object', additionalProperties: false,
    properties: {
      rules: rulesField,
      source: sourceField,
      mapping_id: { type: 'string', description: 'A mapping set of this workspace.' },
      version: { type: 'integer', minimum: 1, maximum: 2_147_483_647, description: 'With mapping_id: the version to preview (1 to the latest; default the latest).' },
      data: { type: 'object', additionalProperties: { type: 'array' }, description: 'Records by dataset name, e.g. {"okta.users": [...]}.' },
      snapshot_ids: { type: 'array', maxItems: 50, items: { type: 'string' }, description: 'Snapshots of this workspace (needs runs:read).' },
      collection_id: { type: 'string', description: 'A collection of this workspace: its snapshots (needs runs:read).' },
      now: { type: 'string', format: 'date-time', description: 'The evaluation time (default: now), for age thresholds.' },
    },
    // The rules: inline or stored; the data: inline, snapshots or a collection's snapshots.
    allOf: [
      { oneOf: [{ required: ['rules'] }, { required: ['mapping_id'] }, { required: ['source'] }] },
      { oneOf: [{ required: ['data'] }, { required: ['snapshot_ids'] }, { required: ['collection_id'] }] },
    ],
  };
  return { ...schema, properties: { ...(schema.properties as object), ...extra }, ...(required.length ? { required } : {}) };
}

export function mappingRoutes(deps: MappingDeps): RouteSpec[] {
  const mustGet = async (workspaceId: string, id: string) => {
    const set = await deps.mappings.get(workspaceId, id);
    if (!set) throw HubError.notFound('No mapping set with this id in this workspace.');
    return set;
  };
  const mustGetVersion = async (set: MappingSet, version: number) => {
    const found = await deps.mappings.version(set.id, version);
    if (!found) throw HubError.notFound(`Mapping ${set.id} has versions 1 to ${set.latest_version}.`);
    return found;
  };

  /** The datasets a preview runs on: inline data, or snapshots (by id or of a collection), read by the preview thread. */
  async function previewData(workspaceId: string, body: { data?: Record<string, unknown>; snapshot_ids?: string[]; collection_id?: string }): Promise<Pick<PreviewTask, 'data' | 'snapshots'>> {
    if (body.data) return { data: body.data };
    let ids = body.snapshot_ids ?? [];
    if (body.collection_id) {
      const collection = await deps.collections.get(workspaceId, body.collection_id);
      if (!collection) throw HubError.validation([{ pointer: '/collection_id', message: 'no such collection in this workspace' }]);
      ids = collection.snapshot_ids;
    }
    const snapshots = await deps.snapshots.getMany(workspaceId, ids);
    const missing = ids.filter((id) => !snapshots.some((s) => s.id === id));
    if (missing.length) throw HubError.validation(missing.map((id) => ({ pointer: `/snapshot_ids/${ids.indexOf(id)}`, message: 'no such snapshot in this workspace' })));
    return { snapshots: snapshots.map((s) => ({ dataset: s.dataset, sha256: s.sha256 })) };
  }

  type PreviewRequest = { rules?: unknown[]; source?: { text: string; format: 'yaml' | 'json' }; mapping_id?: string; version?: number; data?: Record<string, unknown>; snapshot_ids?: string[]; collection_id?: string; now?: string };
  interface PreviewInput { workspaceId: string; rules: unknown[]; ruleIds: string[]; nowMs: number; data: Pick<PreviewTask, 'data' | 'snapshots'> }

  /** A stored version's rules (`pointer` names the field in the request when it does not exist). */
  async function storedRules(workspaceId: string, ref: { mapping_id: string; version?: number }, pointer: string): Promise<unknown[]> {
    const set = await deps.mappings.get(workspaceId, ref.mapping_id);
    if (!set) throw HubError.validation([{ pointer: `${pointer}/mapping_id`.replace(/^\/\//, '/'), message: 'no such mapping set in this workspace' }]);
    const version = await deps.mappings.version(set.id, ref.version ?? set.latest_version);
    if (!version) throw HubError.validation([{ pointer: `${pointer}/version`.replace(/^\/\//, '/'), message: `must be between 1 and ${set.latest_version}` }]);
    return version.rules as unknown[];
  }

  /** What a preview evaluates, checked: one source of rules, one of data, the scope stored data needs. */
  async function previewInput(body: PreviewRequest, res: Response): Promise<PreviewInput> {
    const { workspaceId } = principalOf(res);
    const ruleSources = [body.rules, body.mapping_id, body.source].filter((v) => v !== undefined).length;
    const dataSources = [body.data, body.snapshot_ids, body.collection_id].filter((v) => v !== undefined).length;
    const problems: FieldError[] = [];
    if (ruleSources !== 1) problems.push({ pointer: '/rules', message: 'give one of rules, source or mapping_id' });
    if (dataSources !== 1) problems.push({ pointer: '/data', message: 'give one of data, snapshot_ids or collection_id' });
    if (problems.length) throw HubError.validation(problems);
    // Stored data is what a run collected: reading it takes the scope that reading a snapshot does.
    if ((body.snapshot_ids || body.collection_id) && !hasScope(principalOf(res), 'runs:read')) {
      throw HubError.forbidden('Previewing stored snapshots or collections needs the runs:read scope (inline data needs config:read only).');
    }
    let rules: unknown[];
    if (body.mapping_id) rules = await storedRules(workspaceId, { mapping_id: body.mapping_id, version: body.version }, '');
    else if (body.source) rules = rulesFromSource(body.source); // faults with their place in the text
    else {
      checkRules(body.rules!); // validation errors with pointers, here; evaluation on a preview thread
      rules = body.rules!;
    }
    const now = body.now ? new Date(body.now) : new Date();
    if (Number.isNaN(now.getTime())) throw HubError.validation([{ pointer: '/now', message: 'is not a date-time this hub can use' }]);
    const data = await previewData(workspaceId, body);
    return { workspaceId, rules, ruleIds: rules.map((rule) => String((rule as { id?: unknown }).id)), nowMs: now.getTime(), data };
  }

  /** Evaluates on a preview thread; a client that goes away (an editor superseding it) stops it. */
  function runPreview(input: PreviewInput, res: Response, extra: Pick<PreviewTask, 'compareRules' | 'failing'>): Promise<string> {
    const gone = new AbortController();
    res.once('close', () => { if (!res.writableFinished) gone.abort(); });
    return deps.preview.run(input.workspaceId, { rules: input.rules, ...input.data, nowMs: input.nowMs, ...extra }, input.ruleIds, gone.signal);
  }

  return [
    {
      method: 'get', path: '/api/v1/mappings/rule-schema', operationId: 'getMappingRuleSchema', tag: 'mappings', auth: 'config:read',
      summary: 'The JSON Schema (2020-12) of a mapping’s rules, for editors and GitOps validation.',
      responses: { 200: { description: 'The schema.', schema: { type: 'object', required: ['$schema', '$defs'] } } },
      handler: (_req, res) => { res.json(mappingRulesSchema); },
    },
    {
      method: 'get', path: '/api/v1/mapping-packs', operationId: 'listMappingPacks', tag: 'mappings', auth: 'config:read',
      summary: 'The built-in rule packs (Okta, AWS CIS, Jamf, AuditComply), each rule citing the control it evidences.',
      responses: { 200: { description: 'All packs.', schema: exact({ data: { type: 'array', items: exact({ id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, rules: { type: 'array', items: { type: 'object' } } }) } }) } },
      handler: (_req, res) => { res.json({ data: listPacks() }); },
    },
    {
      method: 'post', path: '/api/v1/mappings', operationId: 'createMapping', tag: 'mappings', auth: 'config:write', idempotent: true,
      summary: 'Create a mapping set (version 1) from rules, or from a pack with overrides by rule id.',
      body: {
        type: 'object', additionalProperties: false, required: ['name'],
        properties: {
          name, description: { type: 'string', maxLength: 2000 }, rules: rulesField, source: sourceField, message: messageField,
          pack: { enum: listPacks().map((p) => p.id), description: 'Start from this built-in pack (GET /api/v1/mapping-packs).' },
          overrides: { type: 'array', maxItems: 500, items: ruleOverride, description: 'With `pack`: rule fields to replace by rule id; `enabled: false` drops a rule; unknown ids add rules. The merged rules must compile like `rules`.' },
        },
        oneOf: [{ required: ['rules'] }, { required: ['pack'] }, { required: ['source'] }],
        dependentRequired: { overrides: ['pack'] },
      },
      responses: { 201: { description: 'Created.', schema: mappingView, headers: { Location: 'The new mapping set.' }, links: mappingLinks() } },
      handler: async (req, res) => {
        const { workspaceId, keyId } = principalOf(res);
        const body = req.body as { name: string; description?: string; rules?: unknown[]; source?: { text: string; format: 'yaml' | 'json' }; message?: string; pack?: string; overrides?: RuleOverride[] };
        if ([body.rules, body.pack, body.source].filter((v) => v !== undefined).length !== 1) {
          throw HubError.validation([{ pointer: body.rules ? '/pack' : '/rules', message: 'give one of rules, source or a pack (with optional overrides)' }]);
        }
        if (body.overrides && !body.pack) throw HubError.validation([{ pointer: '/overrides', message: 'overrides apply to a pack' }]);
        let rules = body.source ? rulesFromSource(body.source) : body.rules;
        if (body.pack) {
          const pack = getPack(body.pack);
          if (!pack) throw HubError.validation([{ pointer: '/pack', message: `must be one of: ${listPacks().map((p) => p.id).join(', ')}` }]);
          rules = mergeWithPack(pack.rules as Rule[], body.overrides ?? []);
        }
        checkRules(rules!);
        const { set, version } = await audited(deps, req, res,
          (tx) => new MappingStore(tx).create({ id: newId('map'), workspaceId, name: body.name, description: body.description, rules: rules!, pack: body.pack, createdBy: keyId, source: body.source, message: body.message }),
          (created) => versionRecord('mapping.created', created, { name: created.set.name, description: created.set.description }));
        res.status(201).location(`/api/v1/mappings/${set.id}`).json(view(set, version));
      },
    },
    {
      method: 'get', path: '/api/v1/mappings', operationId: 'listMappings', tag: 'mappings', auth: 'config:read',
      summary: 'List mapping sets (latest versions, without rules).', query: pageQuery,
      responses: { 200: { description: 'A page of mapping sets.', schema: listOf(mappingSummary) } },
      handler: async (_req, res) => {
        const page = await deps.mappings.list(principalOf(res).workspaceId, pageRequest(res));
        res.json({ data: page.data.map((s) => ({ id: s.id, name: s.name, description: s.description, version: s.latest_version, created_at: s.created_at, updated_at: s.updated_at })), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: '/api/v1/mappings/:id', operationId: 'getMapping', tag: 'mappings', auth: 'config:read',
      summary: 'A mapping set at its latest version.',
      responses: { 200: { description: 'The mapping set.', schema: mappingView } },
      handler: async (req, res) => {
        const set = await mustGet(principalOf(res).workspaceId, String(req.params.id));
        res.json(view(set, await mustGetVersion(set, set.latest_version)));
      },
    },
    {
      method: 'put', path: '/api/v1/mappings/:id', operationId: 'updateMapping', tag: 'mappings', auth: 'config:write',
      summary: 'Save new rules as the next immutable version (n + 1); earlier versions stay readable.',
      body: {
        type: 'object', additionalProperties: false, properties: { rules: rulesField, source: sourceField, message: messageField, name, description: { type: 'string', maxLength: 2000 } },
        oneOf: [{ required: ['rules'] }, { required: ['source'] }],
      },
      responses: { 200: { description: 'The new version.', schema: mappingView } },
      handler: async (req, res) => {
        const { workspaceId, keyId } = principalOf(res);
        const body = req.body as { rules?: unknown[]; source?: { text: string; format: 'yaml' | 'json' }; message?: string; name?: string; description?: string };
        const set = await mustGet(workspaceId, String(req.params.id));
        // An edit of a set started from a pack still started from it (the studio shows its overrides).
        const pack = (await deps.mappings.version(set.id, set.latest_version))?.pack ?? null;
        if ((body.rules === undefined) === (body.source === undefined)) throw HubError.validation([{ pointer: '/rules', message: 'give either rules or source' }]);
        const rules = body.source ? rulesFromSource(body.source) : body.rules!;
        checkRules(rules);
        const saved = await audited(deps, req, res,
          async (tx) => {
            const appended = await new MappingStore(tx).append(workspaceId, String(req.params.id), { rules, pack, createdBy: keyId, name: body.name, description: body.description, source: body.source, message: body.message });
            if (!appended) throw HubError.notFound('No mapping set with this id in this workspace.');
            return appended;
          },
          (published) => versionRecord('mapping.version_published', published, { name: body.name, description: body.description }));
        res.json(view(saved.set, saved.version));
      },
    },
    {
      method: 'delete', path: '/api/v1/mappings/:id', operationId: 'deleteMapping', tag: 'mappings', auth: 'config:write',
      summary: 'Delete a mapping set no job uses (its versions are kept for the evidence that cites them); 409 while jobs use it.',
      responses: { 204: { description: 'Deleted.' } },
      problems: { 409: 'Jobs use the mapping set: change or delete them first.' },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const id = String(req.params.id);
        await audited(deps, req, res,
          async (tx) => {
            const users = await new JobStore(tx).usingMapping(workspaceId, id);
            if (users.length) throw HubError.conflict(`The mapping set is used by ${users.length} job(s) (${users.slice(0, 5).join(', ')}): change or delete them first.`);
            if (!(await new MappingStore(tx).delete(workspaceId, id))) throw HubError.notFound('No mapping set with this id in this workspace.');
          },
          () => ({ action: 'mapping.deleted', resourceType: 'mapping', resourceId: id }));
        res.status(204).end();
      },
    },
    {
      method: 'get', path: '/api/v1/mappings/:id/versions', operationId: 'listMappingVersions', tag: 'mappings', auth: 'config:read',
      summary: 'Every version of a mapping set, newest first.',
      responses: { 200: { description: 'The versions.', schema: exact({ data: { type: 'array', items: versionView } }) } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const set = await mustGet(workspaceId, String(req.params.id));
        const pinned = await deps.jobs.pinnedToMapping(workspaceId, set.id);
        res.json({ data: (await deps.mappings.versions(set.id)).map(({ mapping_id: _id, ...v }) => ({ ...v, pinned_jobs: pinned.filter((j) => j.mapping_version === v.version).map(({ id, name }) => ({ id, name })) })) });
      },
    },
    {
      method: 'get', path: '/api/v1/mappings/:id/versions/:version', operationId: 'getMappingVersion', tag: 'mappings', auth: 'config:read',
      summary: 'One version of a mapping set, with its rules.',
      responses: { 200: { description: 'The version.', schema: mappingView } },
      handler: async (req, res) => {
        const set = await mustGet(principalOf(res).workspaceId, String(req.params.id));
        res.json(view(set, await mustGetVersion(set, parseVersion(req.params.version))));
      },
    },
    {
      method: 'post', path: '/api/v1/mappings/:id/versions/:version/restore', operationId: 'restoreMappingVersion', tag: 'mappings', auth: 'config:write',
      summary: 'Make an old version’s rules the newest version again (as version n + 1; history is kept).',
      responses: {
        201: {
          description: 'The new version.', schema: mappingView, headers: { Location: 'The new version.' },
          links: { getThisVersion: { operationId: 'getMappingVersion', parameters: { id: '$response.body#/id', version: '$response.body#/version' } }, getMapping: { operationId: 'getMapping', parameters: { id: '$response.body#/id' } } },
        },
      },
      handler: async (req, res) => {
        const { workspaceId, keyId } = principalOf(res);
        const set = await mustGet(workspaceId, String(req.params.id));
        const old = await mustGetVersion(set, parseVersion(req.params.version));
        const saved = await audited(deps, req, res,
          async (tx) => {
            const appended = await new MappingStore(tx).append(workspaceId, set.id, {
              rules: old.rules, pack: old.pack, restoredFrom: old.version, createdBy: keyId,
              source: old.source && old.source_format ? { text: old.source, format: old.source_format } : null, message: `Restored version ${old.version}`,
            });
            if (!appended) throw HubError.notFound('No mapping set with this id in this workspace.');
            return appended;
          },
          (restored) => versionRecord('mapping.restored', restored));
        res.status(201).location(`/api/v1/mappings/${set.id}/versions/${saved.version.version}`).json(view(saved.set, saved.version));
      },
    },
    {
      method: 'post', path: '/api/v1/mappings/preview', operationId: 'previewMapping', tag: 'mappings', auth: 'config:read',
      summary: 'What rules produce on sample data or collected snapshots, with no side effect.',
      description: 'Rules inline (`rules`) or stored (`mapping_id`, optional `version`); data inline (`data`, keyed by dataset name), or snapshots (`snapshot_ids`, or `collection_id` for all of a collection’s). Snapshots are cached in memory, so previewing on every keystroke re-reads nothing.',
      body: previewBody({
        compare_with: {
          type: 'object', additionalProperties: false, required: ['mapping_id'],
          properties: { mapping_id: { type: 'string' }, version: { type: 'integer', minimum: 1, maximum: 2_147_483_647, description: 'Default: the latest (what jobs not pinned run).' } },
          description: 'Also evaluate this published version on the same data: the answer gains `comparison` (which rules change result, which records flip).',
        },
      }),
      responses: { 200: { description: 'Evidence items, rule errors and per-rule counts.', schema: previewResult } },
      problems: {
        403: 'Previewing stored snapshots or collections needs the runs:read scope (inline data needs config:read only).',
        413: 'The preview would answer more than HUB_PREVIEW_MAX_RESPONSE_BYTES, or needed more memory than a preview may use.',
        422: 'The preview was stopped past its deadline (HUB_PREVIEW_DEADLINE; the rule that ran long is named), or its snapshots could not be read.',
        429: 'The workspace already has HUB_PREVIEW_CONCURRENCY previews running (Retry-After).',
      },
      handler: async (req, res) => {
        const input = await previewInput(req.body as PreviewRequest, res);
        const compareWith = (req.body as { compare_with?: { mapping_id: string; version?: number } }).compare_with;
        const compareRules = compareWith ? await storedRules(input.workspaceId, compareWith, '/compare_with') : undefined;
        const json = await runPreview(input, res, { compareRules });
        res.type('application/json').send(json);
      },
    },
    {
      method: 'post', path: '/api/v1/mappings/preview/failing-records', operationId: 'previewFailingRecords', tag: 'mappings', auth: 'config:read',
      summary: 'One page of the records one rule fails on, in a preview: all of them, where a payload lists only the first ones.',
      description: 'The same rules and data as POST /api/v1/mappings/preview, plus `rule_id`, `offset` and `limit`. Each record comes with its label (the rule’s label_field) and the assertions it fails. A rule_id that names no enabled rule of these rules fails on nothing: `result` null, `total` 0.',
      body: previewBody({
        rule_id: { type: 'string', minLength: 1, maxLength: 200 },
        offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 },
        limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
      }, ['rule_id']),
      responses: {
        200: {
          description: 'A page of failing records.',
          schema: exact({
            rule_id: { type: 'string' }, result: { enum: ['pass', 'fail', 'info', 'error', null] }, total: { type: 'integer', minimum: 0 }, offset: { type: 'integer', minimum: 0 },
            records: { type: 'array', items: { type: 'object', required: ['id', 'fails'], properties: { id: {}, label: {}, fails: { type: 'array', items: { type: 'string' } } } } },
          }),
        },
      },
      problems: { 403: 'Previewing stored snapshots or collections needs the runs:read scope.', 413: 'The page would be too large.', 422: 'Stopped past the deadline, or the snapshots could not be read.', 429: 'Too many previews running in this workspace.' },
      handler: async (req, res) => {
        const body = req.body as PreviewRequest & { rule_id: string; offset?: number; limit?: number };
        const input = await previewInput(body, res);
        const json = await runPreview(input, res, { failing: { ruleId: body.rule_id, offset: body.offset ?? 0, limit: body.limit ?? 50 } });
        res.type('application/json').send(json);
      },
    },
  ];
}
