import type { RequestHandler } from 'express';
import { HubError } from '../lib/errors.js';
import type { WorkspaceStore } from '../store/workspaces.js';
import type { Principal } from './auth.js';

export const WORKSPACE_HEADER = 'x-workspace-id';

/**
 * `X-Workspace-Id`: a workspaces:admin key (the bootstrap key) acts in another workspace, with
 * its scopes there; its audit entries name the key and its own workspace (actor.workspace_id).
 * Any other key naming a workspace not its own is refused: it never reaches another tenant.
 */
export function actingWorkspace(workspaces: WorkspaceStore): RequestHandler {
  return async (req, res, next) => {
    const wanted = req.get(WORKSPACE_HEADER)?.trim();
    const principal = res.locals.principal as Principal | undefined;
    if (!wanted || !principal || wanted === principal.workspaceId) return next();
    if (!principal.scopes.includes('workspaces:admin')) {
      throw new HubError(403, 'Forbidden', 'Only a key with workspaces:admin acts in another workspace (X-Workspace-Id); this key belongs to its own workspace alone.', { type: 'missing-scope', fields: { missing_scopes: ['workspaces:admin'] } });
    }
    if (wanted.length > 200 || !(await workspaces.get(wanted))) {
      throw HubError.validation([{ pointer: '/headers/X-Workspace-Id', message: 'names no workspace' }], 'X-Workspace-Id names no workspace.');
    }
    res.locals.principal = { ...principal, workspaceId: wanted, homeWorkspaceId: principal.workspaceId } satisfies Principal;
    next();
  };
}
