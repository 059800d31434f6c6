import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

const LOCK_FILE = 'hub.pid';

/** Whether a process with this id is alive (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The id of the live process that holds the data directory's embedded database, if any. */
export async function dataDirHolder(dataDir: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(path.join(dataDir, LOCK_FILE), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Claims the data directory for this process while it has the embedded database (PGlite)
 * open: PGlite is one process's database, and a second process writing the same files would
 * corrupt them. A lock left by a process that died is taken over. Returns the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, LOCK_FILE);
  for (let tries = 0; tries < 2; tries++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => { await rm(file, { force: true }); };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await dataDirHolder(dataDir);
      if (holder !== null) throw new DataDirBusy(dataDir, holder);
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new DataDirBusy(dataDir, null);
}

export class DataDirBusy extends Error {
  constructor(readonly dataDir: string, readonly pid: number | null) {
    super(`another Evidence Hub process${pid ? ` (pid ${pid})` : ''} has the embedded database in ${dataDir} open`);
    this.name = 'DataDirBusy';
  }
}
