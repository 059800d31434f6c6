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
  {
    version: 4,
    name: 'destinations-jobs-runs-evidence',
    sql: `
      CREATE TABLE destinations (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        name text NOT NULL,
        type text NOT NULL,
        config jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX destinations_workspace ON destinations (workspace_id, id);

      CREATE TABLE jobs (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        name text NOT NULL,
        connection_id text NOT NULL,
        datasets text[] NOT NULL,
        mapping_id text NOT NULL,
        -- null: the mapping's latest version when a run starts; else pinned
        mapping_version integer,
        destination_id text NOT NULL,
        target jsonb NOT NULL,
        schedule jsonb,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX jobs_workspace ON jobs (workspace_id, id);

      CREATE TABLE runs (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        job_id text,
        trigger text NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled')),
        workflow_id text NOT NULL UNIQUE,
        mapping_id text,
        mapping_version integer,
        snapshot_ids text[] NOT NULL DEFAULT '{}',
        counts jsonb NOT NULL DEFAULT '{}',
        error text,
        input_sha256 text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        ended_at timestamptz
      );
      CREATE INDEX runs_workspace ON runs (workspace_id, id);
      CREATE INDEX runs_job ON runs (job_id, id);

      -- The evidence ledger: every item, what the destination said, and when.
      CREATE TABLE evidence (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        run_id text,
        job_id text,
        rule_id text,
        dataset text,
        control_ref text NOT NULL,
        question_match text,
        question_id text,
        title text NOT NULL,
        source text NOT NULL,
        result text NOT NULL CHECK (result IN ('pass', 'fail', 'info', 'error')),
        payload jsonb NOT NULL,
        payload_sha256 text NOT NULL,
        collected_at timestamptz NOT NULL,
        allow_multiple boolean NOT NULL DEFAULT false,
        destination_id text,
        target jsonb,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'rejected', 'ambiguous', 'failed')),
        destination_evidence_ids jsonb,
        candidates jsonb,
        error text,
        attempts integer NOT NULL DEFAULT 0,
        delivered_at timestamptz,
        -- one item per run and rule (or per push): a retried activity writes no second row
        identity text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX evidence_workspace ON evidence (workspace_id, id);
      CREATE INDEX evidence_run ON evidence (run_id, id);
    `,
  },
  {
    version: 5,
    name: 'events-webhooks',
    sql: `
      -- Every event the hub emits, written in the transaction of what caused it (an outbox).
      CREATE TABLE events (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        type text NOT NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX events_workspace ON events (workspace_id, id);
      CREATE INDEX events_run ON events (workspace_id, type, (data->>'run_id'));

      CREATE TABLE webhooks (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        url text NOT NULL,
        -- empty: every event type
        events text[] NOT NULL DEFAULT '{}',
        description text,
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        disabled_at timestamptz,
        -- first failure since the last success: the continuous-failure window starts here
        failing_since timestamptz,
        last_success_at timestamptz,
        -- the secret before the last rotation is still used to sign until then
        previous_secret_expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      );
      CREATE INDEX webhooks_workspace ON webhooks (workspace_id, id);

      -- One event to one endpoint. Fanned out with the event, in the same transaction.
      CREATE TABLE webhook_deliveries (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        webhook_id text NOT NULL REFERENCES webhooks(id),
        event_id text NOT NULL REFERENCES events(id),
        status text NOT NULL CHECK (status IN ('pending', 'retrying', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_status_code integer,
        last_error text,
        -- set when a dispatcher claims it; the batch id is the delivery workflow's id
        batch_id text,
        dispatched_at timestamptz,
        redelivery_of text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
      );
      CREATE INDEX webhook_deliveries_unclaimed ON webhook_deliveries (id) WHERE batch_id IS NULL;
      CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (batch_id) WHERE batch_id IS NOT NULL AND dispatched_at IS NULL;
      CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

      CREATE TABLE webhook_attempts (
        id text PRIMARY KEY,
        delivery_id text NOT NULL REFERENCES webhook_deliveries(id),
        webhook_id text NOT NULL,
        attempted_at timestamptz NOT NULL,
        status_code integer,
        latency_ms integer NOT NULL,
        -- the first 4 KB of what the receiver answered
        response_body text,
        error text
      );
      CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
    `,
  },
  {
    version: 6,
    name: 'audit_log',
    sql: `
      -- The hub's own tamper-evident audit log: one hash chain per workspace (lib/audit-chain.ts).
      -- seq runs 1..n per workspace without gaps; each row's previous_hash is the hash of seq - 1.
      CREATE TABLE audit_log (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        seq bigint NOT NULL CHECK (seq > 0),
        occurred_at timestamptz NOT NULL,
        -- {type: api_key | system | valet, id, name}
        actor jsonb NOT NULL,
        action text NOT NULL,
        resource_type text NOT NULL,
        resource_id text,
        -- secret values removed before they get here
        changes jsonb,
        ip text,
        user_agent text,
        request_id text,
        previous_hash text NOT NULL,
        hash text NOT NULL,
        UNIQUE (workspace_id, seq)
      );
      CREATE INDEX audit_log_occurred ON audit_log (workspace_id, occurred_at);
      CREATE INDEX audit_log_action ON audit_log (workspace_id, action, seq);
      CREATE INDEX audit_log_resource ON audit_log (workspace_id, resource_type, resource_id, seq);
      CREATE INDEX audit_log_actor ON audit_log (workspace_id, (actor->>'id'), seq);

      -- Entries past the workspace's retention move here (same columns), never dropped.
      CREATE TABLE audit_log_archive (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        seq bigint NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor jsonb NOT NULL,
        action text NOT NULL,
        resource_type text NOT NULL,
        resource_id text,
        changes jsonb,
        ip text,
        user_agent text,
        request_id text,
        previous_hash text NOT NULL,
        hash text NOT NULL,
        archived_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workspace_id, seq)
      );
      CREATE INDEX audit_log_archive_occurred ON audit_log_archive (workspace_id, occurred_at);

      -- One row per archive batch: the last archived entry, so the live log stays anchored.
      CREATE TABLE audit_log_checkpoints (
        workspace_id text NOT NULL REFERENCES workspaces(id),
        seq bigint NOT NULL,
        hash text NOT NULL,
        archived_count integer NOT NULL,
        cutoff timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, seq)
      );

      CREATE TABLE audit_log_settings (
        workspace_id text PRIMARY KEY REFERENCES workspaces(id),
        -- null: keep every entry live
        retention_days integer CHECK (retention_days > 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 7,
    name: 'evidence_packages',
    sql: `
      -- Evidence packages for auditors: a ZIP of a period's evidence, snapshots, runs and audit
      -- log with a manifest of SHA-256 hashes, built by a workflow and kept in the blob store.
      CREATE TABLE evidence_packages (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        status text NOT NULL CHECK (status IN ('queued', 'building', 'ready', 'failed')),
        -- the period, inclusive at both ends, on the evidence's collected_at
        period_from timestamptz NOT NULL,
        period_to timestamptz NOT NULL CHECK (period_to >= period_from),
        -- {job_ids?, control_refs?}
        filters jsonb NOT NULL DEFAULT '{}',
        workflow_id text NOT NULL UNIQUE,
        requested_by text,
        item_count integer,
        file_count integer,
        -- the ZIP: its size and SHA-256 (also its name in the blob store)
        bytes bigint,
        sha256 text,
        manifest_sha256 text,
        verification_hash text,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        completed_at timestamptz
      );
      CREATE INDEX evidence_packages_workspace ON evidence_packages (workspace_id, id);

      -- A package pages through a period's evidence in (collected_at, id) order.
      CREATE INDEX evidence_period ON evidence (workspace_id, collected_at, id);
    `,
  },
  {
    version: 8,
    name: 'hardening_bindings',
    sql: `
      -- A connection's or destination's secrets are bound to the URL fields they were entered
      -- with: a hash of those values, also part of the sealing context, so that a secret is never
      -- opened for a config that points elsewhere. NULL: sealed before bindings existed.
      ALTER TABLE secrets ADD COLUMN bound_to text;

      -- An Idempotency-Key belongs to the API key that sent it: the same key from another API
      -- key is another request. 'unstored': the request was processed but its response could not
      -- be kept, so it can be neither replayed nor run again.
      ALTER TABLE idempotency_keys ADD COLUMN api_key_id text NOT NULL DEFAULT '';
      ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
      ALTER TABLE idempotency_keys ADD PRIMARY KEY (workspace_id, api_key_id, idempotency_key);
      ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_state_check;
      ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_progress', 'completed', 'unstored'));

      -- Runs left queued by a process that died before starting their workflow are found by age.
      CREATE INDEX runs_queued ON runs (created_at) WHERE status = 'queued';
    `,
  },
  {
    version: 9,
    name: 'collection_cursors_and_http_header_secrets',
    sql: `
      -- Where the next collection of an incremental dataset (okta.system_log, …) starts, per
      -- collector: a job's runs read and advance the job's own cursor, collections on their own
      -- (POST /connections/:id/collect) share job_id '' per connection and dataset. Until now the
      -- cursor was the connection's last snapshot, so any collection moved it for every job.
      CREATE TABLE collection_cursors (
        workspace_id text NOT NULL REFERENCES workspaces(id),
        connection_id text NOT NULL,
        dataset text NOT NULL,
        job_id text NOT NULL,
        -- the start of the collector's last successful collection
        since timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, connection_id, dataset, job_id)
      );
      -- Each job from its own runs' snapshots (collection key <run id>:<dataset>), collections on
      -- their own from theirs (<collection id>:<dataset>).
      INSERT INTO collection_cursors (workspace_id, connection_id, dataset, job_id, since)
        SELECT s.workspace_id, s.connection_id, s.dataset, r.job_id, max(s.collected_at)
          FROM snapshots s JOIN runs r ON s.collection_key = r.id || ':' || s.dataset
         WHERE r.job_id IS NOT NULL
         GROUP BY s.workspace_id, s.connection_id, s.dataset, r.job_id;
      INSERT INTO collection_cursors (workspace_id, connection_id, dataset, job_id, since)
        SELECT s.workspace_id, s.connection_id, s.dataset, '', max(s.collected_at)
          FROM snapshots s JOIN collections c ON s.collection_key = c.id || ':' || s.dataset
         GROUP BY s.workspace_id, s.connection_id, s.dataset;

      -- The generic HTTP connector's custom headers are secrets now (header:<Name>): config is
      -- returned by the API and written to the audit log, and headers often carry tokens. SQL
      -- cannot seal them (sealing is the application's), so their values leave config and only
      -- their names stay, in legacy_header_names; the connector then refuses to run, naming the
      -- secrets to set, until each is set again.
      UPDATE connections
         SET config = (config - 'headers') || jsonb_build_object('legacy_header_names', (SELECT jsonb_agg(h ORDER BY h) FROM jsonb_object_keys(config->'headers') AS h)),
             updated_at = now()
       WHERE type = 'http' AND jsonb_typeof(config->'headers') = 'object' AND config->'headers' <> '{}'::jsonb;
      UPDATE connections SET config = config - 'headers', updated_at = now() WHERE type = 'http' AND config ? 'headers';
    `,
  },
  {
    version: 10,
    name: 'evidence_package_lifecycle',
    sql: `
      -- A ready package expires (its file is deleted, the record stays as 'expired') at
      -- expires_at, set when it becomes ready; packages ready before this get theirs from the
      -- first expiry pass (completed_at + the configured time to live).
      ALTER TABLE evidence_packages ADD COLUMN expires_at timestamptz;
      ALTER TABLE evidence_packages ADD COLUMN expired_at timestamptz;
      ALTER TABLE evidence_packages DROP CONSTRAINT evidence_packages_status_check;
      ALTER TABLE evidence_packages ADD CONSTRAINT evidence_packages_status_check CHECK (status IN ('queued', 'building', 'ready', 'failed', 'expired'));
      CREATE INDEX evidence_packages_expiry ON evidence_packages (expires_at, id) WHERE status = 'ready';
    `,
  },
  {
    version: 11,
    name: 'evidence_payload_json',
    sql: `
      -- Payloads are what sources sent: jsonb cannot hold a NUL (\\u0000) or a lone surrogate,
      -- and refused the whole item. json keeps the text as written; nothing queries into payloads.
      ALTER TABLE evidence ALTER COLUMN payload TYPE json USING payload::json;
    `,
  },
  {
    version: 12,
    name: 'checks',
    sql: `
      -- When the data an item describes was observed (the collection), apart from when the item
      -- was recorded (created_at) and delivered (delivered_at).
      ALTER TABLE evidence ADD COLUMN observed_at timestamptz;
      UPDATE evidence SET observed_at = collected_at;
      CREATE INDEX evidence_check_history ON evidence (workspace_id, job_id, rule_id, id);
      -- How long a job's results stay fresh: as the admin set it (fresh_for), and in effect
      -- (fresh_for_ms: that, else twice the schedule's interval; null: the 7-day default).
      ALTER TABLE jobs ADD COLUMN fresh_for text;
      ALTER TABLE jobs ADD COLUMN fresh_for_ms bigint;
      -- A check is a rule of a job's mapping; its row holds its latest result, kept in the
      -- transaction that records each new item (the items themselves are its history).
      CREATE TABLE checks (
        workspace_id text NOT NULL REFERENCES workspaces(id),
        id text NOT NULL,
        job_id text NOT NULL,
        rule_id text NOT NULL,
        connection_id text,
        control_ref text NOT NULL,
        question_match text,
        title text NOT NULL,
        refs jsonb NOT NULL DEFAULT '{}',
        -- The framework ids refs cite, for counts per framework in one pass over the checks.
        frameworks text[] NOT NULL DEFAULT '{}',
        result text NOT NULL CHECK (result IN ('pass', 'fail', 'info', 'error')),
        evidence_id text NOT NULL,
        observed_at timestamptz NOT NULL,
        failing_count integer,
        fresh_until timestamptz NOT NULL,
        changed_at timestamptz NOT NULL,
        stale_notified_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, id)
      );
      CREATE INDEX checks_result ON checks (workspace_id, result, id);
      CREATE INDEX checks_fresh_until ON checks (workspace_id, fresh_until);
      CREATE INDEX checks_job ON checks (workspace_id, job_id, id);
      -- Which framework requirements each check cites, for filters and coverage.
      CREATE TABLE check_requirements (
        workspace_id text NOT NULL,
        check_id text NOT NULL,
        framework text NOT NULL,
        requirement text NOT NULL,
        -- The check's latest result and freshness, copied with each result: coverage counts
        -- per requirement read this table alone.
        result text NOT NULL,
        fresh_until timestamptz NOT NULL,
        PRIMARY KEY (workspace_id, check_id, framework, requirement),
        FOREIGN KEY (workspace_id, check_id) REFERENCES checks (workspace_id, id) ON DELETE CASCADE
      );
      CREATE INDEX check_requirements_framework ON check_requirements (workspace_id, framework, requirement, check_id) INCLUDE (result, fresh_until);
      -- Risk acceptance: a check's finding (or some of its records) accepted until an expiry.
      CREATE TABLE exceptions (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        check_id text NOT NULL,
        job_id text NOT NULL,
        rule_id text NOT NULL,
        record_ids text[],
        reason text NOT NULL,
        owner text NOT NULL,
        expires_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
        workflow_id text NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz
      );
      CREATE INDEX exceptions_workspace ON exceptions (workspace_id, id);
      CREATE INDEX exceptions_active ON exceptions (workspace_id, job_id) WHERE status = 'active';
    `,
  },
  {
    version: 13,
    name: 'console sessions and run steps',
    sql: `
      -- A console sign-in: the cookie names the row (sealed); signing out or idling past the
      -- timeout ends it here, for every API process at once. The key itself is re-checked on
      -- every request, so revoking it or narrowing its scopes ends or narrows the session too.
      CREATE TABLE console_sessions (
        id text PRIMARY KEY,
        workspace_id text NOT NULL REFERENCES workspaces(id),
        key_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        ip text,
        user_agent text
      );
      CREATE INDEX console_sessions_key ON console_sessions (key_id) WHERE ended_at IS NULL;
      -- What a run did, step by step (collect per dataset, evaluate, deliver), as the
      -- activities record it: the run page's timeline.
      CREATE TABLE run_steps (
        run_id text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name text NOT NULL,
        position integer NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
        started_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        snapshot_ids text[] NOT NULL DEFAULT '{}',
        detail text,
        PRIMARY KEY (run_id, name)
      );
      -- A connection's snapshots newest first, all datasets or one (GET /connections/:id/snapshots).
      CREATE INDEX snapshots_connection_newest ON snapshots (workspace_id, connection_id, id DESC);
    `,
  },
  {
    version: 14,
    name: 'mapping version source text and message',
    sql: `
      -- A version keeps the text it was written as (YAML comments included) beside the parsed
      -- rules, and the message it was published with.
      ALTER TABLE mapping_versions ADD COLUMN source text;
      ALTER TABLE mapping_versions ADD COLUMN source_format text CHECK (source_format IN ('yaml', 'json'));
      ALTER TABLE mapping_versions ADD COLUMN message text;
    `,
  },
  {
    version: 15,
    name: 'power automate flow subscriptions',
    sql: `
      -- A webhook endpoint is either one a person set up ('endpoint') or a Power Automate flow's
      -- trigger subscription ('power_automate'), created and deleted by the flow. A flow's callback
      -- URL carries a signature in its query: it is sealed in the secrets table, and the row keeps
      -- only its origin (url) and the SHA-256 of its path and query (url_sha256).
      ALTER TABLE webhooks ADD COLUMN kind text NOT NULL DEFAULT 'endpoint' CHECK (kind IN ('endpoint', 'power_automate'));
      ALTER TABLE webhooks ADD COLUMN url_sha256 text;
    `,
  },
  {
    version: 16,
    name: 'limits shared across processes',
    sql: `
      -- The API rate limit's fixed windows, per bucket (an API key, a client IP): the quota the
      -- API processes have leased from each (api/rate-limit.ts, SharedRateLimiter).
      CREATE TABLE rate_limit_windows (
        bucket text NOT NULL,
        window_start timestamptz NOT NULL,
        taken integer NOT NULL CHECK (taken >= 0),
        last_grant integer NOT NULL DEFAULT 0,
        PRIMARY KEY (bucket, window_start)
      );
      CREATE INDEX rate_limit_windows_start ON rate_limit_windows (window_start);
      -- The slots of each webhook endpoint's in-flight cap held by worker processes, each
      -- until given back or its lease expires (webhooks/endpoint-gate.ts, SharedEndpointGate).
      CREATE TABLE webhook_inflight_slots (
        webhook_id text NOT NULL,
        slot integer NOT NULL,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (webhook_id, slot)
      );
      CREATE INDEX webhook_inflight_slots_holder ON webhook_inflight_slots (holder);
    `,
  },
  {
    version: 17,
    name: 'audit chain head under its lock in one call',
    sql: `
      -- Takes a workspace chain's lock and reads its head (store/audit-log/append.ts): one
      -- round trip instead of two on every append. The read is a statement of its own after
      -- the lock: in a VOLATILE function each statement takes a new snapshot (READ COMMITTED),
      -- so it sees the commit of the lock's previous holder, as the separate statement did.
      -- The head is the last live entry or, when retention archived them all, the last checkpoint;
      -- the database clock, read under the lock, keeps occurred_at in seq order across processes.
      CREATE FUNCTION audit_chain_head(lock_class integer, chain_workspace text, OUT head_now timestamptz, OUT head_seq bigint, OUT head_hash text)
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(lock_class, hashtext(chain_workspace));
        SELECT date_trunc('milliseconds', clock_timestamp()), head.seq, head.hash INTO head_now, head_seq, head_hash
        FROM (SELECT 1) AS one LEFT JOIN LATERAL (
          (SELECT l.seq, l.hash FROM audit_log l WHERE l.workspace_id = chain_workspace ORDER BY l.seq DESC LIMIT 1)
          UNION ALL
          (SELECT c.seq, c.hash FROM audit_log_checkpoints c WHERE c.workspace_id = chain_workspace ORDER BY c.seq DESC LIMIT 1)
          ORDER BY seq DESC LIMIT 1
        ) AS head ON true;
      END
      $$;
    `,
  },
  {
    version: 18,
    name: 'room on ledger pages for an item\'s updates',
    sql: `
      -- Every item is updated twice after it is recorded (its attempt counted, its outcome
      -- settled) and no updated column is indexed: with room left on its page, each new
      -- version is a heap-only tuple (no entry in the ledger's six indexes) and pruned on the
      -- page itself. Pages written from now on keep 30 % free; existing pages are unchanged.
      ALTER TABLE evidence SET (fillfactor = 70);
    `,
  },
];
