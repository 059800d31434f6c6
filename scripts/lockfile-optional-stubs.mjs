#!/usr/bin/env node
// The package registry reachable here serves only the Linux x64 builds of platform-specific
// optional packages (e.g. @swc/core-darwin-arm64 is a 404), so `npm install` leaves them out
// of package-lock.json and `npm ci` then refuses the lock as "out of sync". This adds each
// missing optional package as an entry restricted to a platform npm will never match here,
// so that `npm ci` accepts the lock and skips them, as it would with a complete registry.
// Run after changing dependencies: node scripts/lockfile-optional-stubs.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
let added = 0;
for (const [path, pkg] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const nested = `${path ? path + '/' : ''}node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[`node_modules/${name}`]) continue;
    lock.packages[`node_modules/${name}`] = { version: version.replace(/^[\^~]/, ''), optional: true, os: ['none'], cpu: ['none'] };
    added++;
  }
}
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`lockfile: ${added} optional platform packages recorded as stubs`);
