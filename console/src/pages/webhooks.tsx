import { Page } from '../ui.js';

export function WebhooksPage() { return <Page title="WebhooksPage"><p>Not built yet.</p></Page>; }
export function WebhookPage() { return <Page title="WebhookPage"><p>Not built yet.</p></Page>; }
