import { Page } from '../ui.js';

export function JobsPage() { return <Page title="JobsPage"><p>Not built yet.</p></Page>; }
export function JobFormPage() { return <Page title="JobFormPage"><p>Not built yet.</p></Page>; }
export function JobPage() { return <Page title="JobPage"><p>Not built yet.</p></Page>; }
