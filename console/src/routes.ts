import type { FunctionComponent } from 'preact';
import { PosturePage, CheckPage } from './pages/posture.js';
import { ConnectionsPage, NewConnectionPage, ConnectionPage, NewDestinationPage, DestinationPage } from './pages/connections.js';
import { JobsPage, JobFormPage, JobPage } from './pages/jobs.js';
import { RunsPage, RunPage, EvidencePage } from './pages/runs.js';
import { MappingsPage, MappingPage } from './pages/mappings.js';
import { WebhooksPage, WebhookPage } from './pages/webhooks.js';
import { AuditLogPage } from './pages/audit-log.js';
import { ApiKeysPage } from './pages/api-keys.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyPage = FunctionComponent<any>;

/** Every console page and its URL; the first match wins. */
export const routes: { path: string; component: AnyPage }[] = [
  { path: '/', component: PosturePage },
  { path: '/checks/:id', component: CheckPage },
  { path: '/connections', component: ConnectionsPage },
  { path: '/connections/new', component: NewConnectionPage },
  { path: '/connections/:id', component: ConnectionPage },
  { path: '/destinations/new', component: NewDestinationPage },
  { path: '/destinations/:id', component: DestinationPage },
  { path: '/jobs', component: JobsPage },
  { path: '/jobs/new', component: JobFormPage },
  { path: '/jobs/:id/edit', component: JobFormPage },
  { path: '/jobs/:id', component: JobPage },
  { path: '/runs', component: RunsPage },
  { path: '/runs/:id', component: RunPage },
  { path: '/evidence/:id', component: EvidencePage },
  { path: '/mappings', component: MappingsPage },
  { path: '/mappings/:id', component: MappingPage },
  { path: '/webhooks', component: WebhooksPage },
  { path: '/webhooks/:id', component: WebhookPage },
  { path: '/audit-log', component: AuditLogPage },
  { path: '/api-keys', component: ApiKeysPage },
];
