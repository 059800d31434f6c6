import { ConnectorError } from '../errors.js';
import type { DatasetDefinition, SourceConnector } from '../types.js';

interface PushConfig {
  datasets: { name: string; description?: string; record_schema?: Record<string, unknown> }[];
}

/**
 * A source whose data is supplied by the caller: a flow that already holds the records
 * (an export in Power Automate, a script's output) hands them to a job's run as
 * `POST /api/v1/jobs/:id/runs {input: {"push.<name>": [records]}}`, and the run maps and
 * delivers them like collected data. Nothing is fetched, so a collection is an error.
 */
function suppliedDataset(spec: PushConfig['datasets'][number]): DatasetDefinition<null> {
  return {
    description: spec.description ?? `Records supplied with each run's input as push.${spec.name}`,
    record_schema: spec.record_schema ?? { type: 'object' },
    // eslint-disable-next-line require-yield
    async *pages() {
      throw new ConnectorError('bad_config', `push.${spec.name} is not collected: supply its records in the run's input.`);
    },
  };
}

export const pushConnector: SourceConnector<null> = {
  type: 'push',
  suppliedWithRun: true,
  name: 'Pushed data',
  description: 'Records supplied by the caller with each run (Power Automate, n8n, scripts), mapped and delivered like collected data.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['datasets'],
    properties: {
      datasets: {
        type: 'array', minItems: 1, maxItems: 20,
        items: {
          type: 'object', additionalProperties: false, required: ['name'],
          properties: {
            name: { type: 'string', pattern: '^[a-z0-9_]{1,64}$', description: 'Supplied as dataset `push.<name>`.' },
            description: { type: 'string', maxLength: 500 },
            record_schema: { type: 'object', description: 'What a record looks like (documentation for rule authors).' },
          },
        },
      },
    },
  },
  secretsSchema: { type: 'object', additionalProperties: false, properties: {} },
  urlFields: [],
  open: () => null,
  async test() {
    // Nothing to reach: the data comes with each run.
  },
  datasets: {},
  configuredDatasets: (config) => Object.fromEntries(((config as unknown as PushConfig).datasets ?? []).map((spec) => [`push.${spec.name}`, suppliedDataset(spec)])),
};
