import { loadConfig } from './config.js';
import { ConfigError } from './lib/errors.js';
import { createLogger } from './lib/logger.js';
import { startHub, type Role } from './hub.js';

/**
 * `node dist/main.js [all|api|worker]`: the whole hub in one process (default, with an
 * embedded Temporal server), or only the API or only a worker (docker-compose).
 */
async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as Role;
  if (!['all', 'api', 'worker'].includes(role)) {
    console.error(`usage: evidence-hub [all|api|worker]  (got "${role}")`);
    process.exit(2);
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const say = (line: string) => process.stderr.write(line + '\n');
  const hub = await startHub(config, role, { logger, progress: say });

  if (hub.url) {
    say('');
    say(`  Evidence Hub is running.`);
    say(`  Console:      ${hub.url}/  (sign in with the admin key)`);
    say(`  API:          ${hub.url}/api/v1  (reference: ${hub.url}/docs)`);
    if (hub.temporalUiUrl) say(`  Temporal UI:  ${hub.temporalUiUrl}`);
    if (hub.bootstrap?.generatedKey) {
      say(`  Admin key:    ${hub.bootstrap.generatedKey}`);
      say(`                (shown once; also saved to ${hub.bootstrap.keyFile}, mode 0600)`);
    } else if (hub.bootstrap?.revoked) {
      say(`  Admin key:    the bootstrap key was revoked; create a new one with "npx evidence-hub admin-key create" (hub stopped, or against DATABASE_URL)`);
    } else if (!config.adminKey) {
      say(`  Admin key:    generated on first start; see ${config.dataDir}/admin-key`);
    }
    say(`  Try:          curl -H "X-API-Key: <admin key>" ${hub.url}/api/v1/me`);
    say('');
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    hub.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`evidence-hub: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  process.stderr.write(`evidence-hub: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
