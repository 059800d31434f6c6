import { Page } from '../ui.js';

export function AuditLogPage() { return <Page title="AuditLogPage"><p>Not built yet.</p></Page>; }
