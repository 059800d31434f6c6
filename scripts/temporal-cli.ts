// Prints the path of the Temporal CLI, building it once if needed (used by .ci/run and tests).
import { findOrBuildTemporalCli } from '../temporal/cli-binary.js';

const binary = await findOrBuildTemporalCli({
  configuredPath: process.env.TEMPORAL_CLI_PATH || null,
  progress: (line) => process.stderr.write(line + '\n'),
});
process.stdout.write(binary + '\n');
