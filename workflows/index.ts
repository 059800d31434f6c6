// Every workflow the worker registers. Workflow code is deterministic: no I/O here.
export { diagnosticsWorkflow } from './diagnostics.js';
export { collectWorkflow } from './collect.js';
export { runJobWorkflow } from './run.js';
export { deliverEvidenceWorkflow } from './deliver.js';
export { deliverWebhooksWorkflow } from './webhooks.js';
export { buildEvidencePackageWorkflow } from './evidence-package.js';
export { housekeepingWorkflow } from './housekeeping.js';
export { exceptionWorkflow } from './exception.js';
