import type { DiagnosticStore } from '../store/diagnostics.js';
import { diagnosticsActivities } from './diagnostics.js';

/** What activities may use; injected by the worker so that tests can pass their own. */
export interface ActivityDeps {
  diagnostics: DiagnosticStore;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...diagnosticsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
