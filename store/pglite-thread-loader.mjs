// Loads the embedded database's thread from its TypeScript source when the hub runs unbuilt
// (tests, tsx): worker threads do not inherit the parent's TypeScript loader. Built hubs load
// pglite-thread-worker.js.
const { tsImport } = await import('tsx/esm/api');
await tsImport('./pglite-thread-worker.ts', import.meta.url);
