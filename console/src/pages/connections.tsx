import { Page } from '../ui.js';

export function ConnectionsPage() { return <Page title="ConnectionsPage"><p>Not built yet.</p></Page>; }
export function NewConnectionPage() { return <Page title="NewConnectionPage"><p>Not built yet.</p></Page>; }
export function ConnectionPage() { return <Page title="ConnectionPage"><p>Not built yet.</p></Page>; }
export function NewDestinationPage() { return <Page title="NewDestinationPage"><p>Not built yet.</p></Page>; }
export function DestinationPage() { return <Page title="DestinationPage"><p>Not built yet.</p></Page>; }
