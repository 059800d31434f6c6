import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** The signed-in key as the hub describes it (GET /api/v1/sessions/current). */
export interface SessionInfo {
  csrf_token: string;
  expires_at: string;
  idle_timeout_seconds: number;
  key: { id: string; name: string; workspace_id: string; scopes: string[] };
  /** The workspace requests act in (another one only for a workspaces:admin key). */
  workspace_id: string;
  /** Where run pages link their workflow (null when the hub knows no Temporal UI). */
  temporal_ui_url: string | null;
  temporal_namespace: string;
}

const WORKSPACE_SCOPES = ['config:read', 'config:write', 'runs:read', 'runs:write', 'evidence:read', 'evidence:write', 'audit:read', 'events:subscribe'];

/** The same rule as the API's: `admin` holds every workspace scope, `workspaces:admin` only itself. */
export function hasScope(scopes: readonly string[], needed: string): boolean {
  if (scopes.includes(needed)) return true;
  return scopes.includes('admin') && (WORKSPACE_SCOPES.includes(needed) || needed === 'admin');
}

export interface SessionContextValue {
  session: SessionInfo;
  can: (scope: string) => boolean;
  signOut: () => Promise<void>;
  switchWorkspace: (id: string) => void;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside a signed-in console');
  return value;
}
