import { Page } from '../ui.js';

export function RunsPage() { return <Page title="RunsPage"><p>Not built yet.</p></Page>; }
export function RunPage() { return <Page title="RunPage"><p>Not built yet.</p></Page>; }
export function EvidencePage() { return <Page title="EvidencePage"><p>Not built yet.</p></Page>; }
