// Loads the preview thread from its TypeScript source when the hub runs unbuilt (tests, tsx):
// worker threads do not inherit the parent's TypeScript loader. Built hubs load worker.js.
const { tsImport } = await import('tsx/esm/api');
const worker = await tsImport('./worker.ts', import.meta.url);
export default worker.default;
