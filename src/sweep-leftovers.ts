import { dirname, join } from 'node:path';
import { isProcessAlive, removeLeftoverTempFiles } from './fs/atomic-write.js';
import { toText, type FileSystem } from './fs/fs.js';
import type { KeyupPaths } from './paths.js';

/**
 * At start, before anything writes: removes the temp files keyup processes that died mid-write
 * left behind (a kill -9 between write and rename leaves one holding the whole credentials file,
 * new secret included). Only files named as keyup names them, of processes that no longer run,
 * in the folders keyup writes: beside the credentials file (where its links lead), beside the AWS
 * config file, and in keyup's own state folders.
 */
export async function sweepLeftovers(fs: FileSystem, paths: Pick<KeyupPaths, 'credentialsFile' | 'awsConfigFile' | 'stateDir'>): Promise<string[]> {
  const folders = new Set([
    dirname(await realPath(fs, paths.credentialsFile).catch(() => paths.credentialsFile)),
    dirname(await realPath(fs, paths.awsConfigFile).catch(() => paths.awsConfigFile)),
    paths.stateDir,
    join(paths.stateDir, 'journal'),
    join(paths.stateDir, 'backups'),
  ]);
  // Our own pid is not a live writer yet: in a container keyupd is often pid 1 every time.
  const isAlive = (pid: number) => pid !== process.pid && isProcessAlive(pid);
  const removed: string[] = [];
  for (const folder of folders) {
    try {
      removed.push(...(await removeLeftoverTempFiles({ fs, folder, isAlive })));
    } catch {
      // Tidying only: a folder keyup cannot list now is reported by the write that needs it.
    }
  }
  return removed;
}

async function realPath(fs: FileSystem, path: string): Promise<string> {
  return toText(await fs.promises.realpath(path));
}
