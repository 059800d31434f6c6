import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import type { SessionInfo } from '../session.js';
import type { FormEvent } from '../ui.js';

/**
 * Sign-in: the API key is exchanged for a session cookie (HttpOnly, so page scripts never hold
 * the key after this form) and is not kept anywhere in the browser.
 */
export function SignIn(props: { reason: string | null; onSignedIn: (session: SessionInfo) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => { document.title = 'Sign in · Evidence Hub'; input.current?.focus(); }, []);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api<SessionInfo>('/api/v1/sessions', { method: 'POST', body: { api_key: key.trim() }, expectUnauthorized: true });
      setKey('');
      props.onSignedIn(session);
    } catch (err) {
      setError(err instanceof ApiError ? (err.status === 401 || err.status === 400 ? 'That key was not accepted: it is unknown, revoked, or mistyped.' : err.message) : 'The hub is not reachable.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in" id="main">
      <form class="sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title" noValidate>
        <p class="brand"><span class="brand-mark" aria-hidden="true">✓</span> Evidence Hub</p>
        <h1 id="sign-in-title">Sign in</h1>
        {props.reason && !error && <p class="notice tone-info" role="status">{props.reason} Sign in again to continue.</p>}
        <div class={`field${error ? ' has-error' : ''}`}>
          <label for="api-key">API key</label>
          <input ref={input} id="api-key" name="api-key" type="password" autoComplete="current-password" spellcheck={false} required
            value={key} onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
            aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'api-key-error api-key-hint' : 'api-key-hint'} />
          <p class="hint" id="api-key-hint">A key starts with <code>ehk_</code>. The first start of the hub printed the admin key and saved it to <code>data/admin-key</code>.</p>
          {error && <p class="field-error" id="api-key-error" role="alert">{error}</p>}
        </div>
        <button type="submit" disabled={busy || key.trim() === ''}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
