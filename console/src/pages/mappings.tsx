import { Page } from '../ui.js';

export function MappingsPage() { return <Page title="MappingsPage"><p>Not built yet.</p></Page>; }
export function MappingPage() { return <Page title="MappingPage"><p>Not built yet.</p></Page>; }
