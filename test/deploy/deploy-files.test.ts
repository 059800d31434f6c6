import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFile(path.join(root, file), 'utf8');

/** The environment names the hub reads (config.ts), so that compose cannot drift from them. */
async function configNames(): Promise<Set<string>> {
  const source = await read('config.ts');
  return new Set([...source.matchAll(/\b(?:env\.|int\(env, '|bool\(env, '|url\(env, ')([A-Z_]+)/g)].map((m) => m[1]!));
}

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  deploy?: { replicas?: number };
}

describe('docker-compose.yml', async () => {
  const compose = parse(await read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
  const { services } = compose;

  it('runs Temporal on PostgreSQL with its UI, PostgreSQL for the hub, the API and a scalable worker', () => {
    expect(Object.keys(services).sort()).toEqual(['hub-api', 'hub-db', 'hub-worker', 'temporal', 'temporal-db', 'temporal-ui']);
    expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'temporal-db' });
    expect(services['temporal-ui']!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(services['hub-api']!.command).toEqual(['api']);
    expect(services['hub-worker']!.command).toEqual(['worker']);
    expect(services['hub-worker']!.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(services['hub-worker']!.ports).toBeUndefined(); // workers scale: no fixed host ports
    expect(services['hub-api']!.ports).toEqual(['8080:8080']);
  });

  it('gives API and worker the variables the hub reads, and nothing it does not', async () => {
    const known = await configNames();
    for (const name of ['hub-api', 'hub-worker']) {
      const env = services[name]!.environment!;
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/.*@hub-db:5432\//);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(String(env.HUB_MASTER_KEY)).toContain('HUB_MASTER_KEY');
      for (const variable of Object.keys(env)) expect(known, `${name} sets ${variable}`).toContain(variable);
    }
  });
});

describe('Dockerfile', async () => {
  const dockerfile = await read('Dockerfile');
  const instructions = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('builds the Temporal CLI v1.5.1 from source and the hub with the project’s own scripts', async () => {
    expect(dockerfile).toContain('go install github.com/temporalio/cli/cmd/temporal@v1.5.1');
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toContain('npm run build');
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toBe('node scripts/build.mjs');
    const build = await read('scripts/build.mjs');
    expect(build).toContain('tsconfig.build.json');
    expect(build).toContain('workflow-bundle.js'); // the image carries the prebuilt workflow bundle in dist/
    const tsconfig = JSON.parse(await read('tsconfig.build.json')) as { include: string[] };
    expect(tsconfig.include).toContain('*.ts'); // main.ts → dist/main.js
  });

  it('starts dist/main.js with a role that compose overrides, as a non-root user, with a health check', async () => {
    const entrypoint = instructions.find((l) => l.startsWith('ENTRYPOINT'))!;
    expect(JSON.parse(entrypoint.replace('ENTRYPOINT', ''))).toEqual(['node', '--liftoff-only', 'dist/main.js']);
    // The image runs the hub with the Node.js flags and malloc setting npm start uses.
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain('MALLOC_ARENA_MAX=2 node --liftoff-only dist/main.js all');
    expect(dockerfile).toMatch(/MALLOC_ARENA_MAX=2/);
    expect(JSON.parse(instructions.find((l) => l.startsWith('CMD'))!.replace('CMD', ''))).toEqual(['all']);
    expect(instructions).toContain('USER node');
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    for (const line of instructions) expect(line).toMatch(/^(FROM|RUN|WORKDIR|COPY|ENV|USER|VOLUME|EXPOSE|HEALTHCHECK|ENTRYPOINT|CMD|ARG|\s)/);
  });
});
