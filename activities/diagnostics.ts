import os from 'node:os';
import type { DiagnosticStore } from '../store/diagnostics.js';

export function diagnosticsActivities(deps: { diagnostics: DiagnosticStore }) {
  return {
    async recordDiagnostic(input: { diagnosticId: string }): Promise<{ workerIdentity: string }> {
      const workerIdentity = `${process.pid}@${os.hostname()}`;
      await deps.diagnostics.complete(input.diagnosticId, workerIdentity, 'API → Temporal → worker → store round trip completed');
      return { workerIdentity };
    },
  };
}
