/**
 * `npm run bench [name…]`: every benchmark prints its figures and a ratio against a baseline
 * measured in the same run. Names: api, collection, mapping, e2e, webhooks, evidence-package, bounded-sources, audit-verify, preview-isolation, posture, preview-roundtrip, footprint, scale-out (default: all).
 */
const benches: Record<string, () => Promise<void>> = {
  api: async () => (await import('./api.js')).runApiBench(),
  collection: async () => (await import('./collection.js')).runCollectionBench(),
  mapping: async () => (await import('./mapping.js')).runMappingBench(),
  e2e: async () => (await import('./e2e.js')).runEndToEndBench(),
  'evidence-package': async () => (await import('./evidence-package.js')).runEvidencePackageBench(),
  webhooks: async () => (await import('./webhooks.js')).runWebhookBench(),
  'audit-verify': async () => (await import('./audit-verify.js')).runAuditVerifyBench(),
  'bounded-sources': async () => (await import('./bounded-sources.js')).runBoundedSourcesBench(),
  'preview-isolation': async () => (await import('./preview-isolation.js')).runPreviewIsolationBench(),
  posture: async () => (await import('./posture.js')).runPostureBench(),
  'preview-roundtrip': async () => (await import('./preview-roundtrip.js')).runPreviewRoundTripBench(),
  footprint: async () => (await import('./footprint.js')).runFootprintBench(),
  'scale-out': async () => (await import('./scale-out.js')).runScaleOutBench(),
};

const wanted = process.argv.slice(2);
const selected = wanted.length ? wanted : Object.keys(benches);
for (const name of selected) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  await bench();
}
process.exit(0);
