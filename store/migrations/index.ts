/**
 * Versioned schema migrations, applied in order at start-up (store/migrate.ts).
 * Never edit a released migration: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'foundation',
    sql: `
      CREATE TABLE workspaces (
        id text PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        name text NOT NULL,
        -- the first characters of the key's random part: a lookup handle, not a secret
        prefix text NOT NULL,
        -- sha256 of the whole key; the key itself is never stored
        key_hash text NOT NULL,
        scopes text[] NOT NULL,
        is_bootstrap boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      CREATE INDEX api_keys_prefix ON api_keys (prefix);
      CREATE INDEX api_keys_workspace ON api_keys (workspace_id, id);

      -- Sealed (AES-256-GCM) secret values of connections, destinations and webhooks.
      CREATE TABLE secrets (
        workspace_id text NOT NULL REFERENCES workspaces(id),
        owner_type text NOT NULL,
        owner_id text NOT NULL,
        name text NOT NULL,
        sealed text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, owner_type, owner_id, name)
      );

      CREATE TABLE idempotency_keys (
        workspace_id text NOT NULL,
        idempotency_key text NOT NULL,
        method text NOT NULL,
        path text NOT NULL,
        request_hash text NOT NULL,
        state text NOT NULL CHECK (state IN ('in_progress', 'completed')),
        status_code integer,
        response_headers jsonb,
        response_body jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, idempotency_key)
      );

      CREATE TABLE diagnostics (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        workflow_id text NOT NULL,
        message text,
        worker_identity text,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      );
      CREATE INDEX diagnostics_workspace ON diagnostics (workspace_id, id);
    `,
  },
  {
    version: 2,
    name: 'connections-and-snapshots',
    sql: `
      CREATE TABLE connections (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        name text NOT NULL,
        type text NOT NULL,
        config jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX connections_workspace ON connections (workspace_id, id);

      -- A dataset collected once: records as gzip NDJSON in the blob store under sha256.
      CREATE TABLE snapshots (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        connection_id text NOT NULL,
        dataset text NOT NULL,
        sha256 text NOT NULL,
        bytes bigint NOT NULL,
        record_count integer NOT NULL,
        collected_at timestamptz NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        -- the collection (workflow + dataset) that wrote it: a retried activity writes no second row
        collection_key text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX snapshots_connection ON snapshots (workspace_id, connection_id, dataset, collected_at DESC);

      CREATE TABLE collections (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        connection_id text NOT NULL,
        datasets text[] NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        workflow_id text NOT NULL,
        error text,
        snapshot_ids text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      );
      CREATE INDEX collections_workspace ON collections (workspace_id, id);
    `,
  },
  {
    version: 3,
    name: 'mapping-sets',
    sql: `
      CREATE TABLE mappings (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        name text NOT NULL,
        description text,
        latest_version integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        -- kept, not removed: evidence and jobs may still name its versions
        deleted_at timestamptz
      );
      CREATE INDEX mappings_workspace ON mappings (workspace_id, id);

      -- Versions are immutable: a change or a restore writes the next one.
      CREATE TABLE mapping_versions (
        mapping_id text NOT NULL REFERENCES mappings(id),
        version integer NOT NULL,
        rules jsonb NOT NULL,
        pack text,
        restored_from integer,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (mapping_id, version)
      );
    `,
  },
];
