import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { BlobStore } from '../../store/blobs.js';
import { CollectionStore, type Collection } from '../../store/collections.js';
import type { ConnectionStore } from '../../store/connections.js';
import type { Snapshot, SnapshotStore } from '../../store/snapshots.js';
import { PART_RECORDS } from '../../store/snapshot-reader.js';
import { SnapshotPager, type SnapshotPosition } from '../../store/snapshot-cache.js';
import type { ConnectorRegistry } from '../../connectors/registry.js';
import { datasetsOf } from '../../connectors/types.js';
import { workflowIds, type WorkflowStarter } from '../../temporal/starters.js';
import { audited, type AuditDeps } from '../audit.js';
import { principalOf } from '../auth.js';
import { exact, linksTo, listOf, nullableTimestamp, pageQuery, pageRequest, timestamp } from '../schemas.js';

export interface CollectionDeps extends AuditDeps {
  connections: ConnectionStore;
  collections: CollectionStore;
  snapshots: SnapshotStore;
  blobs: BlobStore;
  registry: ConnectorRegistry;
  starter: WorkflowStarter;
  /** Shared by the routes of one app; one is made when not given. */
  snapshotPager?: SnapshotPager;
}

const snapshotFields: Record<string, JsonSchema> = {
  id: { type: 'string' }, connection_id: { type: 'string' }, dataset: { type: 'string' }, record_count: { type: 'integer', minimum: 0 },
  sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, bytes: { type: 'integer', minimum: 0 }, collected_at: timestamp, metadata: { type: 'object' },
};
const snapshotView: JsonSchema = exact(snapshotFields);
const collectionView: JsonSchema = exact({
  id: { type: 'string' }, connection_id: { type: 'string' }, datasets: { type: 'array', items: { type: 'string' } },
  status: { enum: ['running', 'succeeded', 'failed'] }, error: { type: ['string', 'null'] },
  snapshots: { type: 'array', items: snapshotView }, created_at: timestamp, completed_at: nullableTimestamp,
});
const collectionLinks = {
  ...linksTo(['getCollection']),
  getFirstSnapshot: { operationId: 'getSnapshot', parameters: { id: '$response.body#/snapshots/0/id' } },
  previewOnCollection: { operationId: 'previewMapping', requestBody: { collection_id: '$response.body#/id' } },
};
const GONE = 'The stored snapshot data is no longer available (its blob was deleted or lost).';

const MAX_SNAPSHOT_PAGE = 1000;

/**
 * Snapshot page cursors are opaque: base64url JSON of the position of the next record (part
 * and offset in it, see SnapshotPager) and a prefix of the snapshot's hash, so that a cursor
 * is refused on another snapshot and never points past the last record.
 */
function encodeSnapshotCursor(snapshot: Snapshot, at: SnapshotPosition): string {
  return Buffer.from(JSON.stringify({ s: snapshot.sha256.slice(0, 16), p: at.part, o: at.offset })).toString('base64url');
}

function decodeSnapshotCursor(snapshot: Snapshot, cursor: string | undefined): SnapshotPosition {
  if (cursor === undefined) return { part: 0, offset: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const { s, p, o } = (parsed ?? {}) as { s?: unknown; p?: unknown; o?: unknown };
  const index = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (s === snapshot.sha256.slice(0, 16) && index(p) && index(o) && o < PART_RECORDS && p * PART_RECORDS + o < snapshot.record_count) return { part: p, offset: o };
  throw HubError.badRequest('The cursor is not one this API issued for this snapshot; use next_cursor from the previous page.', [
    { pointer: '/query/cursor', message: 'invalid cursor' },
  ]);
}

function viewSnapshot(s: Snapshot) {
  return { id: s.id, connection_id: s.connection_id, dataset: s.dataset, record_count: s.record_count, sha256: s.sha256, bytes: s.bytes, collected_at: s.collected_at, metadata: s.metadata };
}

export function collectionRoutes(deps: CollectionDeps): RouteSpec[] {
  const pager = deps.snapshotPager ?? new SnapshotPager(deps.blobs);
  const viewCollection = async (c: Collection) => ({
    id: c.id, connection_id: c.connection_id, datasets: c.datasets, status: c.status, error: c.error,
    snapshots: (await deps.snapshots.getMany(c.workspace_id, c.snapshot_ids)).map(viewSnapshot),
    created_at: c.created_at, completed_at: c.completed_at,
  });

  return [
    {
      method: 'post', path: '/api/v1/connections/:id/collect', operationId: 'collectConnection', tag: 'connections', auth: 'runs:write', idempotent: true,
      summary: 'Collect datasets now, outside any job, to look at real data before writing mappings.',
      description: 'Answers 200 with the snapshots when the collection ends within `wait` seconds (default 10), else 202 with Location of the collection to poll.',
      body: { type: 'object', additionalProperties: false, required: ['datasets'], properties: { datasets: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string' } } } },
      query: { type: 'object', properties: { wait: { type: 'integer', minimum: 0, maximum: 60, default: 10, description: 'Seconds to wait for the result before answering 202.' } } },
      responses: {
        200: { description: 'Finished (succeeded or failed).', schema: collectionView, links: collectionLinks },
        202: {
          description: 'Still collecting; poll Location.', schema: collectionView, links: collectionLinks,
          headers: { Location: 'The collection.', 'Retry-After': { description: 'Seconds to wait before polling.', schema: { type: 'integer', minimum: 0 } } },
        },
      },
      problems: { 503: 'Temporal is not reachable; the collection did not start and is recorded as failed (Retry-After).' },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const connection = await deps.connections.get(workspaceId, String(req.params.id));
        if (!connection) throw HubError.notFound('No connection with this id in this workspace.');
        const datasets = (req.body as { datasets: string[] }).datasets;
        const connector = deps.registry.source(connection.type);
        const known = connector ? datasetsOf(connector, connection.config) : {};
        const unknown = datasets.map((d, i) => ({ d, i })).filter(({ d }) => !Object.hasOwn(known, d));
        if (unknown.length) {
          throw HubError.validation(unknown.map(({ i }) => ({ pointer: `/datasets/${i}`, message: `must be one of: ${Object.keys(known).join(', ')}` })), `${connection.type} has no such dataset.`);
        }
        const id = newId('coll');
        const workflowId = workflowIds.collection(id);
        // Recorded with its row; the workflow starts after the commit (a failed start marks the row failed).
        const collection = await audited(deps, req, res,
          (tx) => new CollectionStore(tx).create({ id, workspaceId, connectionId: connection.id, datasets, workflowId }),
          () => ({ action: 'collection.started', resourceType: 'collection', resourceId: id, changes: { connection_id: connection.id, datasets } }));
        const { handle } = await deps.starter.collection({ workspaceId, connectionId: connection.id, datasets, collectionId: id }).catch(async (err: unknown) => {
          await deps.collections.finish(id, { status: 'failed', snapshotIds: [], error: 'Temporal was not reachable; the collection did not start.' });
          throw err;
        });
        const waitMs = ((res.locals.query as { wait: number }).wait ?? 10) * 1000;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          handle.result().catch(() => undefined),
          new Promise((resolve) => { timer = setTimeout(resolve, waitMs); }),
        ]);
        clearTimeout(timer);
        const current = (await deps.collections.get(workspaceId, id)) ?? collection;
        if (current.status === 'running') res.status(202).location(`/api/v1/collections/${id}`).setHeader('Retry-After', '2');
        res.json(await viewCollection(current));
      },
    },
    {
      method: 'get', path: '/api/v1/collections/:id', operationId: 'getCollection', tag: 'connections', auth: 'runs:read',
      summary: 'A collection’s status and snapshots.',
      responses: {
        200: {
          description: 'The collection.', schema: collectionView,
          headers: { 'Retry-After': { description: 'While it is running: seconds to wait before polling again.', schema: { type: 'integer', minimum: 0 }, required: false } },
        },
      },
      handler: async (req, res) => {
        const collection = await deps.collections.get(principalOf(res).workspaceId, String(req.params.id));
        if (!collection) throw HubError.notFound('No collection with this id in this workspace.');
        if (collection.status === 'running') res.setHeader('Retry-After', '2');
        res.json(await viewCollection(collection));
      },
    },
    {
      method: 'get', path: '/api/v1/connections/:id/snapshots', operationId: 'listConnectionSnapshots', tag: 'connections', auth: 'runs:read',
      summary: 'A connection’s snapshots, newest first: every dataset, one (`dataset`), or the latest of each (`latest=true`).',
      description: 'What a mapping preview reads by default is the latest snapshot of each dataset its rules use: `latest=true` lists exactly those (one per dataset, no paging).',
      query: {
        type: 'object',
        properties: {
          ...(pageQuery.properties as object),
          dataset: { type: 'string', maxLength: 200, description: 'Only this dataset’s snapshots.' },
          latest: { type: 'boolean', default: false, description: 'Only the newest snapshot of each dataset.' },
        },
      },
      responses: { 200: { description: 'Snapshots (metadata only; read records with GET /api/v1/snapshots/:id).', schema: listOf(snapshotView) } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const connection = await deps.connections.get(workspaceId, String(req.params.id));
        if (!connection) throw HubError.notFound('No connection with this id in this workspace.');
        const q = res.locals.query as { dataset?: string; latest?: boolean };
        if (q.latest) {
          const latest = await deps.snapshots.latestPerDataset(workspaceId, connection.id);
          res.json({ data: latest.filter((s) => !q.dataset || s.dataset === q.dataset).map(viewSnapshot), next_cursor: null });
          return;
        }
        const page = await deps.snapshots.listForConnection(workspaceId, connection.id, pageRequest(res), q.dataset);
        res.json({ data: page.data.map(viewSnapshot), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: '/api/v1/snapshots/:id', operationId: 'getSnapshot', tag: 'connections', auth: 'runs:read',
      summary: 'A snapshot’s metadata and a page of its records.',
      query: {
        type: 'object',
        properties: {
          limit: { type: 'integer', minimum: 0, maximum: MAX_SNAPSHOT_PAGE, default: 50, description: `Records per page (max ${MAX_SNAPSHOT_PAGE}; 0 for metadata only).` },
          cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,200}$', description: 'The next_cursor of the previous page (opaque).' },
        },
      },
      responses: {
        200: {
          description: 'Metadata and records.',
          schema: exact({ ...snapshotFields, records: { type: 'array' }, next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null after the last record.' } }),
        },
      },
      problems: { 410: GONE },
      handler: async (req, res) => {
        const snapshot = await deps.snapshots.get(principalOf(res).workspaceId, String(req.params.id));
        if (!snapshot) throw HubError.notFound('No snapshot with this id in this workspace.');
        const { limit, cursor } = res.locals.query as { limit: number; cursor?: string };
        const from = decodeSnapshotCursor(snapshot, cursor);
        // Seeks to the part the cursor names: a deep page reads that part, not every record before it.
        const page = limit > 0 ? await pager.page(snapshot.sha256, from, limit) : { records: [], next: null };
        res.json({ ...viewSnapshot(snapshot), records: page.records, next_cursor: page.next ? encodeSnapshotCursor(snapshot, page.next) : null });
      },
    },
  ];
}
