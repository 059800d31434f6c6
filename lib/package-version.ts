import { readFile } from 'node:fs/promises';

/** The hub's version from package.json: one level above lib/ from source, two when compiled into dist/lib/. */
export async function packageVersion(): Promise<string> {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      return (JSON.parse(await readFile(new URL(candidate, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // not in this layout: try the next
    }
  }
  return '0.0.0';
}
