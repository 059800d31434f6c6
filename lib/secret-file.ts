import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file only its owner may read (mode 0600), every time: `writeFile`'s mode applies
 * only when it creates the file, so an existing file keeps whatever mode it had. The content
 * goes to a private temporary file first and is renamed over the target, so no reader ever
 * sees it with a wider mode or half-written.
 */
export async function writeOwnerOnlyFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}
