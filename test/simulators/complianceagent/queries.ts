// The read side of ComplianceAgent's audit log: the seed's query parameters
// of "Get Audit Logs" (`repository_id`, `event_type`, `actor`, `from`, `to`,
// `page`, `limit`), its list and single-entry views, and "Get Audit
// Statistics".

import type { SimResponse } from '../common/server.js';
import type { ChainedEntry } from './chain.js';
import { caError } from './responses.js';

export interface PageSettings {
  /** Used when `limit` is absent (the seed's sample answers `"limit": 50`). */
  defaultLimit: number;
  /** Larger limits are cut down to this (inferred; the seed gives no maximum). */
  maxLimit: number;
}

/** A `datetime` query parameter as epoch ms; undefined when absent, an error when unreadable. */
export function dateParam(query: URLSearchParams, name: string): number | undefined | { error: SimResponse } {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? { error: caError(400, 'invalid_parameter', `${name} must be an ISO 8601 date or date-time.`) } : ms;
}

function positiveIntParam(query: URLSearchParams, name: string): number | undefined | { error: SimResponse } {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  return /^\d+$/.test(raw) && Number(raw) >= 1 ? Number(raw) : { error: caError(400, 'invalid_parameter', `${name} must be a positive integer.`) };
}

/** "Filter by actor (user or system)": an actor type, or one actor's id or e-mail. */
function actorMatches(entry: ChainedEntry, actor: string): boolean {
  return entry.actor.type === actor || entry.actor.id === actor || entry.actor.email === actor;
}

/** The entries the filters select, in chain (= time) order; or the 400 to answer. */
export function filterEntries(entries: readonly ChainedEntry[], query: URLSearchParams): ChainedEntry[] | { error: SimResponse } {
  const from = dateParam(query, 'from');
  if (typeof from === 'object') return from;
  const to = dateParam(query, 'to');
  if (typeof to === 'object') return to;
  const repository = query.get('repository_id');
  const eventType = query.get('event_type');
  const actor = query.get('actor');
  return entries.filter((entry) => {
    const at = Date.parse(entry.timestamp);
    if (from !== undefined && at < from) return false;
    if (to !== undefined && at > to) return false;
    if (repository && entry.repository.id !== repository) return false;
    if (eventType && entry.event_type !== eventType) return false;
    return !actor || actorMatches(entry, actor);
  });
}

/** One page (`page` from 1) and the seed's `pagination: {page, limit, total}`. */
export function pageOf<T>(items: readonly T[], query: URLSearchParams, settings: PageSettings): { items: T[]; pagination: { page: number; limit: number; total: number } } | { error: SimResponse } {
  const page = positiveIntParam(query, 'page');
  if (typeof page === 'object') return page;
  const limitParam = positiveIntParam(query, 'limit');
  if (typeof limitParam === 'object') return limitParam;
  const limit = Math.min(limitParam ?? settings.defaultLimit, settings.maxLimit);
  const current = page ?? 1;
  return { items: items.slice((current - 1) * limit, current * limit), pagination: { page: current, limit, total: items.length } };
}

/** An entry as the list shows it: the seed's list sample has ip_address and user_agent at the top and no hashes. */
export function listView(entry: ChainedEntry) {
  return {
    id: entry.id,
    event_type: entry.event_type,
    actor: { type: entry.actor.type, id: entry.actor.id, email: entry.actor.email },
    resource: entry.resource,
    repository: entry.repository,
    details: entry.details,
    ip_address: entry.metadata.ip_address,
    user_agent: entry.metadata.user_agent,
    timestamp: entry.timestamp,
  };
}

/** An entry as "Get Single Log Entry" shows it: the actor's name, `metadata`, `hash` and `previous_hash`. */
export function singleView(entry: ChainedEntry) {
  return {
    id: entry.id,
    event_type: entry.event_type,
    actor: entry.actor,
    resource: entry.resource,
    repository: entry.repository,
    details: entry.details,
    metadata: entry.metadata,
    timestamp: entry.timestamp,
    hash: entry.hash,
    previous_hash: entry.previous_hash,
  };
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** "Get Audit Statistics" over the entries in `[fromMs, toMs]`, shaped as the seed's sample. */
export function statistics(entries: readonly ChainedEntry[], fromMs: number, toMs: number) {
  const selected = entries.filter((entry) => {
    const at = Date.parse(entry.timestamp);
    return at >= fromMs && at <= toMs;
  });
  const byType: Record<string, number> = {};
  const byRepository: Record<string, number> = {};
  const byActorType: Record<string, number> = { user: 0, system: 0 };
  const byActor: Record<string, number> = {};
  for (const entry of selected) {
    increment(byType, entry.event_type);
    increment(byRepository, entry.repository.name);
    increment(byActorType, entry.actor.type);
    if (entry.actor.email) increment(byActor, entry.actor.email);
  }
  const topActors = Object.entries(byActor)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, 5)
    .map(([actor, count]) => ({ actor, event_count: count }));
  return {
    period: { from: new Date(fromMs).toISOString().replace('.000Z', 'Z'), to: new Date(toMs).toISOString().replace('.000Z', 'Z') },
    total_events: selected.length,
    events_by_type: byType,
    events_by_repository: byRepository,
    events_by_actor_type: byActorType,
    top_actors: topActors,
  };
}
