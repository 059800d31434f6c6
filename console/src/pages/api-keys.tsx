import { Page } from '../ui.js';

export function ApiKeysPage() { return <Page title="ApiKeysPage"><p>Not built yet.</p></Page>; }
