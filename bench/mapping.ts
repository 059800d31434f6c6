/**
 * Benchmark: every Okta and Jamf pack rule over 100 000 Okta users and 10 000 Jamf computers,
 * through the mapping engine and through the same checks written as a plain JavaScript loop,
 * in the same process. Also times a preview (compile + evaluate + serialise) of 10 000 records.
 *
 *   npx tsx -e "import('./bench/mapping.ts').then(m=>m.runMappingBench())"
 */
import { compileRules, evaluate, type EvidenceItem } from '../mappings/engine.js';
import { listPacks } from '../mappings/packs.js';
import type { Rule } from '../mappings/types.js';

const USERS = 100_000;
const COMPUTERS = 10_000;
const PREVIEW_RECORDS = 10_000;
const NOW = new Date('2025-06-01T00:00:00Z');
const DAY = 86_400_000;
const CAP = 1000;

/** mulberry32: a tiny seeded PRNG, so every run measures the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

function generateUsers(count: number, next: () => number) {
  const statuses = ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'DEPROVISIONED', 'SUSPENDED', 'STAGED'];
  return Array.from({ length: count }, (_, i) => {
    const status = statuses[Math.floor(next() * statuses.length)] as string;
    const mfa = next() < 0.95;
    const admin = next() < 0.01;
    const statusChangedDays = Math.floor(next() * 400);
    return {
      id: `00u${i.toString(36).padStart(8, '0')}`,
      login: `user${i}@example.com`,
      email: `user${i}@example.com`,
      first_name: `First${i}`,
      last_name: `Last${i}`,
      status,
      created: daysAgo(100 + Math.floor(next() * 1000)),
      activated: daysAgo(100 + Math.floor(next() * 900)),
      status_changed: daysAgo(statusChangedDays),
      last_login: next() < 0.05 ? null : daysAgo(Math.floor(next() * 200)),
      password_changed: daysAgo(Math.floor(next() * 300)),
      mfa_enrolled: mfa,
      mfa_factors: mfa ? [{ id: `fac${i}`, type: 'push', provider: 'OKTA', status: 'ACTIVE' }] : [],
      is_admin: admin,
      admin_roles: admin ? ['SUPER_ADMIN'] : [],
    };
  });
}

function generateComputers(count: number, next: () => number) {
  const versions = ['12.7.5', '13.6.7', '14.4.1', '14.5', '14.10', '15.0.1', '15.1'];
  return Array.from({ length: count }, (_, i) => ({
    id: String(i + 1),
    udid: `UDID-${i}`,
    name: `mac-${i}`,
    serial_number: `C02${i}`,
    managed: next() < 0.97,
    supervised: false,
    last_contact: next() < 0.01 ? null : daysAgo(Math.floor(next() * 60)),
    last_enrolled: daysAgo(400),
    model: 'MacBook Pro',
    os_name: 'macOS',
    os_version: versions[Math.floor(next() * versions.length)] as string,
    os_build: '23E224',
    filevault_enabled: next() < 0.96,
    filevault_status: 'ALL_ENCRYPTED',
    firewall_enabled: next() < 0.9,
    sip_status: 'ENABLED',
    gatekeeper_status: 'APP_STORE_AND_IDENTIFIED_DEVELOPERS',
    xprotect_version: '2193',
  }));
}

const passwordPolicies = [
  { id: 'pol1', name: 'Default Policy', status: 'ACTIVE', priority: 2, system: true, min_length: 12, lockout_max_attempts: 10 },
  { id: 'pol2', name: 'Admins', status: 'ACTIVE', priority: 1, system: false, min_length: 16, lockout_max_attempts: 5 },
];

type User = ReturnType<typeof generateUsers>[number];
type Computer = ReturnType<typeof generateComputers>[number];
type Policy = (typeof passwordPolicies)[number];

interface LoopOutcome {
  rule_id: string;
  result: 'pass' | 'fail';
  failing: number;
  failingIds: Array<{ id: unknown; label: unknown }>;
}

/**
 * The same checks as the Okta and Jamf packs, as a hand-written loop per rule: the baseline.
 * Like the engine, each rule selects its records, tests them, counts the failing ones and
 * keeps the first 1000 of them with their label.
 */
function handWrittenChecks(users: readonly User[], computers: readonly Computer[], policies: readonly Policy[], now: number): LoopOutcome[] {
  const outcomes: LoopOutcome[] = [];
  const check = <T extends { id: unknown }>(
    rule_id: string,
    records: readonly T[],
    select: (r: T) => boolean,
    fails: (r: T) => boolean,
    label: (r: T) => unknown,
    needsOne: boolean,
  ) => {
    let selected = 0;
    let failing = 0;
    const failingIds: LoopOutcome['failingIds'] = [];
    for (const record of records) {
      if (!select(record)) continue;
      selected++;
      if (fails(record)) {
        failing++;
        if (failingIds.length < CAP) failingIds.push({ id: record.id, label: label(record) });
      }
    }
    outcomes.push({ rule_id, result: failing === 0 && (!needsOne || selected > 0) ? 'pass' : 'fail', failing, failingIds });
  };
  const olderThan = (value: string | null, days: number) => value !== null && now - Date.parse(value) > days * DAY;
  const within = (value: string | null, days: number) => value !== null && now - Date.parse(value) <= days * DAY;
  const version = (value: string | null) => (value ?? '').split('.').map(Number);
  const atLeast = (value: string | null, minimum: number[]) => {
    if (!value) return false;
    const parts = version(value);
    for (let i = 0; i < Math.max(parts.length, minimum.length); i++) {
      const d = (parts[i] ?? 0) - (minimum[i] ?? 0);
      if (d !== 0) return d > 0;
    }
    return true;
  };
  const active = (u: User) => u.status === 'ACTIVE';
  const login = (u: User) => u.login;
  check('okta-mfa-active-users', users, active, (u) => u.mfa_enrolled !== true, login, false);
  check('okta-admin-mfa', users, (u) => u.is_admin && u.status === 'ACTIVE', (u) => u.mfa_enrolled !== true, login, true);
  check('okta-inactive-users', users, active, (u) => olderThan(u.last_login, 90) || (u.last_login === null && olderThan(u.created, 90)), login, false);
  check(
    'okta-deprovisioned-activity',
    users,
    (u) => u.status === 'DEPROVISIONED',
    (u) => within(u.last_login, 90) && u.last_login !== null && Date.parse(u.last_login) > Date.parse(u.status_changed),
    login,
    false,
  );
  check('okta-password-min-length', policies, (p) => p.status === 'ACTIVE', (p) => !(p.min_length >= 12), (p) => p.name, true);
  check('okta-password-lockout', policies, (p) => p.status === 'ACTIVE', (p) => !(p.lockout_max_attempts >= 1 && p.lockout_max_attempts <= 10), (p) => p.name, true);
  const managed = (c: Computer) => c.managed;
  const name = (c: Computer) => c.name;
  const minimum = version('14.0');
  check('jamf-filevault', computers, managed, (c) => c.filevault_enabled !== true, name, true);
  check('jamf-firewall', computers, managed, (c) => c.firewall_enabled !== true, name, true);
  check('jamf-os-version', computers, managed, (c) => !atLeast(c.os_version, minimum), name, true);
  check('jamf-recent-check-in', computers, managed, (c) => !within(c.last_contact, 30), name, true);
  return outcomes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function elapsedMs(run: () => unknown): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Median times of the contenders, measured in alternating rounds after a warm-up so that both
 * see the same machine state (this runs on a small shared VM where load drifts).
 */
function race(contenders: Record<string, () => unknown>, rounds: number): Record<string, number> {
  const entries = Object.entries(contenders);
  for (const [, run] of entries) for (let i = 0; i < 3; i++) run();
  const samples = Object.fromEntries(entries.map(([name]) => [name, [] as number[]]));
  for (let round = 0; round < rounds; round++) for (const [name, run] of entries) samples[name]?.push(elapsedMs(run));
  return Object.fromEntries(entries.map(([name]) => [name, median(samples[name] ?? [])]));
}

function failingCount(item: EvidenceItem): number {
  const evaluation = item.payload._evaluation as { counts: { failing: number } };
  return evaluation.counts.failing;
}

export async function runMappingBench(): Promise<void> {
  const next = random(42);
  const users = generateUsers(USERS, next);
  const computers = generateComputers(COMPUTERS, next);
  const datasets = { 'okta.users': users, 'jamf.computers': computers, 'okta.password_policies': passwordPolicies };

  // The preview an admin triggers from the console: compile the Okta pack, evaluate 10 000
  // records, serialise the response. Timed first, while nothing is JIT-compiled yet.
  const previewUsers = users.slice(0, PREVIEW_RECORDS);
  const okta = listPacks().find((pack) => pack.id === 'okta')?.rules ?? [];
  const preview = () => JSON.stringify(evaluate(compileRules(okta), { 'okta.users': previewUsers, 'okta.password_policies': passwordPolicies }, { now: NOW }));
  const previewColdMs = elapsedMs(preview);

  const rules: Rule[] = listPacks()
    .filter((pack) => pack.id === 'okta' || pack.id === 'jamf')
    .flatMap((pack) => pack.rules);
  const mapping = compileRules(rules);

  // Both contenders must agree before their speed means anything.
  const engineEvidence = evaluate(mapping, datasets, { now: NOW }).evidence;
  const loopOutcomes = handWrittenChecks(users, computers, passwordPolicies, NOW.getTime());
  for (const outcome of loopOutcomes) {
    const item = engineEvidence.find((candidate) => candidate.rule_id === outcome.rule_id);
    if (!item || item.result !== outcome.result || failingCount(item) !== outcome.failing) {
      throw new Error(`engine and loop disagree on ${outcome.rule_id}: ${item?.result}/${item ? failingCount(item) : '?'} vs ${outcome.result}/${outcome.failing}`);
    }
  }

  const { engine: engineMs = 0, loop: loopMs = 0 } = race(
    {
      engine: () => evaluate(mapping, datasets, { now: NOW }),
      loop: () => handWrittenChecks(users, computers, passwordPolicies, NOW.getTime()),
    },
    15,
  );
  const recordEvaluations = mapping.rules.reduce((sum, rule) => sum + (datasets[rule.dataset as keyof typeof datasets]?.length ?? 0), 0);

  const { preview: previewMs = 0 } = race({ preview }, 15);

  const peakRssMb = (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
  const rate = (ms: number) => Math.round(recordEvaluations / (ms / 1000)).toLocaleString('en-US');
  console.log(`mapping: ${mapping.rules.length} rules (okta + jamf packs) over ${USERS.toLocaleString('en-US')} Okta users + ${COMPUTERS.toLocaleString('en-US')} Jamf computers`);
  console.log(`  engine             ${engineMs.toFixed(1).padStart(8)} ms  ${rate(engineMs).padStart(13)} record-evaluations/s`);
  console.log(`  hand-written loop  ${loopMs.toFixed(1).padStart(8)} ms  ${rate(loopMs).padStart(13)} record-evaluations/s`);
  console.log(`  engine speed / loop speed = ${(loopMs / engineMs).toFixed(2)}x (target >= 0.9x)`);
  console.log(`  preview of ${PREVIEW_RECORDS.toLocaleString('en-US')} records (compile + evaluate + serialise): ${previewMs.toFixed(1)} ms warm, ${previewColdMs.toFixed(1)} ms cold (first call in the process) (target < 100 ms)`);
  console.log(`  peak RSS ${peakRssMb.toFixed(0)} MB`);
}
