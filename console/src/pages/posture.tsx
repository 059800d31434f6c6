import { Page } from '../ui.js';

export function PosturePage() { return <Page title="PosturePage"><p>Not built yet.</p></Page>; }
export function CheckPage() { return <Page title="CheckPage"><p>Not built yet.</p></Page>; }
