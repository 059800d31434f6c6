// A simulator of the Jamf Pro API (the parts a compliance connector reads),
// written from Jamf's public developer documentation: OAuth client
// credentials, the paginated computer inventory with sections, and the
// version endpoint used as a connection test. Errors use the Jamf Pro API's
// `{httpStatus, errors: [{code, field, description, id}]}` shape.

import { seedToInt } from './common/random.js';
import { authorizationOf, jsonResponse, startSimulatorServer, type SimRequest, type SimResponse, type SimulatorServer } from './common/server.js';
import { retryAfterSeconds, type RateLimitOptions } from './common/rate-limit.js';
import { DAY_MS, iso, referenceTime } from './common/time.js';
import { JAMF_TOKEN_PATH, JamfTokenIssuer, type JamfApiClient } from './jamf/auth.js';
import { JamfFleet, MINIMUM_OS_MAJOR, osMajor, type JamfFleetOptions } from './jamf/fleet.js';
import { inventoryRecord, isSection, parseSort, SortedViews, type Section } from './jamf/inventory.js';

export type { JamfApiClient } from './jamf/auth.js';
export type { JamfFleetOptions, JamfComputerFacts } from './jamf/fleet.js';

export interface JamfSimulatorOptions {
  /** Seed of all generated data (default 1). */
  seed?: number | string;
  /** The data's "now" (default: start of the current UTC day). */
  now?: Date | number;
  /** A last check-in older than this many days is stale (default 30, at least 3). */
  staleCheckInDays?: number;
  fleet?: JamfFleetOptions;
  /** API clients accepted (default one: `sim-jamf-client` / `sim-jamf-secret`). */
  clients?: readonly JamfApiClient[];
  /** Access token lifetime (default 300 s); short values test re-authentication. */
  tokenTtlSeconds?: number;
  /** What GET /api/v1/jamf-pro-version reports. */
  version?: string;
  /** Enforced rate limit (default none); 429s carry Retry-After. */
  rateLimit?: RateLimitOptions;
  port?: number;
  clock?: () => number;
}

/** Normalised facts a connector's output can be checked against; counts are over all computers. */
export interface JamfTruth {
  now: string;
  staleCheckInDays: number;
  minimumOsMajor: number;
  computers: number;
  managed: number;
  unmanaged: number;
  /** Boot partition FileVault state ENCRYPTED (ENCRYPTING does not count). */
  fileVaultEncrypted: number;
  fileVaultNotEncrypted: number;
  firewallDisabled: number;
  sipDisabled: number;
  gatekeeperDisabled: number;
  staleCheckIn: number;
  outdatedOs: number;
  byOsVersion: Record<string, number>;
}

export interface JamfSimulator extends SimulatorServer {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tokensIssued: number;
  readonly state: { readonly fleet: JamfFleet; readonly auth: JamfTokenIssuer };
  truth(): JamfTruth;
}

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_SORT = 'general.name:asc';

function jamfError(status: number, code: string, description: string, field: string | null = null, headers: Record<string, string> = {}): SimResponse {
  return jsonResponse(status, { httpStatus: status, errors: [{ code, field, description, id: '0' }] }, headers);
}

function jamfErrorForStatus(status: number): SimResponse {
  if (status === 401) return jamfError(401, 'INVALID_TOKEN', 'Unauthorized');
  if (status === 403) return jamfError(403, 'INVALID_PRIVILEGE', 'Forbidden');
  if (status >= 500) return jamfError(status, 'UNEXPECTED_ERROR', 'An unexpected error occurred');
  return jamfError(status, 'INVALID_FIELD', 'Bad request');
}

export async function startJamfSimulator(options: JamfSimulatorOptions = {}): Promise<JamfSimulator> {
  const seed = seedToInt(options.seed ?? 1);
  const staleCheckInDays = options.staleCheckInDays ?? 30;
  if (!Number.isInteger(staleCheckInDays) || staleCheckInDays < 3) throw new RangeError(`staleCheckInDays must be an integer ≥ 3, got ${staleCheckInDays}`);
  const clock = options.clock ?? Date.now;
  const clients = options.clients ?? [{ clientId: 'sim-jamf-client', clientSecret: 'sim-jamf-secret' }];
  const firstClient = clients[0];
  if (!firstClient) throw new RangeError('at least one API client is needed');
  const fleet = new JamfFleet(seed, options.fleet ?? {}, referenceTime(options.now), staleCheckInDays);
  const views = new SortedViews(fleet);
  const auth = new JamfTokenIssuer(clients, options.tokenTtlSeconds ?? 300, clock);
  const version = options.version ?? '11.12.0-t1731366051512';

  /** GET /api/v1/computers-inventory?section=…&page=&page-size=&sort= */
  function listInventory(req: SimRequest): SimResponse {
    // `section` may repeat (section=GENERAL&section=HARDWARE) or be comma-separated; GENERAL when absent.
    const requested = req.query.getAll('section').flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
    const unknown = requested.find((name) => !isSection(name));
    if (unknown !== undefined) return jamfError(400, 'INVALID_FIELD', `section ${unknown} is not simulated`, 'section');
    const sections = new Set<Section>(requested.length > 0 ? (requested as Section[]) : ['GENERAL']);

    const page = req.query.get('page') ?? '0';
    const pageSize = req.query.get('page-size') ?? String(DEFAULT_PAGE_SIZE);
    if (!/^\d+$/.test(page)) return jamfError(400, 'INVALID_FIELD', 'page must be a non-negative integer', 'page');
    if (!/^\d+$/.test(pageSize) || Number(pageSize) < 1) return jamfError(400, 'INVALID_FIELD', 'page-size must be a positive integer', 'page-size');
    if (req.query.has('filter')) return jamfError(400, 'INVALID_FIELD', 'RSQL filters are not simulated', 'filter');
    const criteria = parseSort(req.query.get('sort') ?? DEFAULT_SORT);
    if (typeof criteria === 'string') return jamfError(400, 'INVALID_FIELD', criteria, 'sort');

    const start = Number(page) * Number(pageSize);
    const slice = views.order(criteria).subarray(Math.min(start, fleet.size), Math.min(start + Number(pageSize), fleet.size));
    return jsonResponse(200, { totalCount: fleet.size, results: Array.from(slice, (index) => inventoryRecord(fleet.computer(index), sections)) });
  }

  function handle(req: SimRequest): SimResponse | Promise<SimResponse> {
    if (req.path === JAMF_TOKEN_PATH) return req.method === 'POST' ? auth.token(req) : jamfError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
    const authorization = authorizationOf(req);
    if (authorization?.scheme.toLowerCase() !== 'bearer' || !auth.isValid(authorization.credentials)) return jamfError(401, 'INVALID_TOKEN', 'Unauthorized');
    if (req.method === 'GET' && req.path === '/api/v1/jamf-pro-version') return jsonResponse(200, { version });
    if (req.method === 'GET' && req.path === '/api/v1/computers-inventory') return listInventory(req);
    return jsonResponse(404, { httpStatus: 404, errors: [] });
  }

  const server = await startSimulatorServer(
    {
      bucketOf: () => 'api',
      handle,
      errorResponse: jamfErrorForStatus,
      // Jamf documents no rate-limit headers; its cloud gateway answers 429 with Retry-After.
      rateLimitedResponse: (window, req) =>
        jamfError(429, 'TOO_MANY_REQUESTS', 'Too many requests', null, { 'Retry-After': String(retryAfterSeconds(window.resetAtMs, req.receivedAtMs)) }),
    },
    { port: options.port, clock, rateLimit: options.rateLimit },
  );

  let truth: JamfTruth | undefined;
  return {
    ...server,
    clientId: firstClient.clientId,
    clientSecret: firstClient.clientSecret,
    get tokensIssued() {
      return auth.tokensIssued;
    },
    state: { fleet, auth },
    truth: () => (truth ??= computeTruth(fleet)),
  };
}

function computeTruth(fleet: JamfFleet): JamfTruth {
  const truth: JamfTruth = {
    now: iso(fleet.nowMs),
    staleCheckInDays: fleet.staleCheckInDays,
    minimumOsMajor: MINIMUM_OS_MAJOR,
    computers: fleet.size,
    managed: 0,
    unmanaged: 0,
    fileVaultEncrypted: 0,
    fileVaultNotEncrypted: 0,
    firewallDisabled: 0,
    sipDisabled: 0,
    gatekeeperDisabled: 0,
    staleCheckIn: 0,
    outdatedOs: 0,
    byOsVersion: {},
  };
  const staleBeforeMs = fleet.nowMs - fleet.staleCheckInDays * DAY_MS;
  for (const computer of fleet.computers()) {
    if (computer.managed) truth.managed += 1;
    else truth.unmanaged += 1;
    if (computer.fileVault === 'ENCRYPTED') truth.fileVaultEncrypted += 1;
    else truth.fileVaultNotEncrypted += 1;
    if (!computer.firewallEnabled) truth.firewallDisabled += 1;
    if (!computer.sipEnabled) truth.sipDisabled += 1;
    if (!computer.gatekeeperEnabled) truth.gatekeeperDisabled += 1;
    if (computer.lastContactMs < staleBeforeMs) truth.staleCheckIn += 1;
    if (osMajor(computer.os.version) < MINIMUM_OS_MAJOR) truth.outdatedOs += 1;
    truth.byOsVersion[computer.os.version] = (truth.byOsVersion[computer.os.version] ?? 0) + 1;
  }
  return truth;
}
