/**
 * Every PostgreSQL advisory lock the hub takes, in one list so that no two share a number.
 * (PGlite has one connection, where they are uncontended but harmless.)
 */
export const ADVISORY_LOCKS = {
  /** Migrations: processes starting together (API and workers) apply them one at a time. */
  migrations: 727_001,
  /** Bootstrap: API replicas starting together create at most one bootstrap key. */
  bootstrap: 727_002,
  /** Per workspace (with hashtext of its id): one audit chain head moves at a time. */
  auditChain: 727_003,
  /** Per workspace (with hashtext of its id): evidence package quota checks do not race. */
  packageQuota: 727_004,
} as const;
