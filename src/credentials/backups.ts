import { join } from 'node:path';
import { getErrorCode, syncFolder, writeInPrivateDir, writeNewFile } from '../fs/fs.js';
import type { FileSystem, OwnerInit } from '../fs/fs.js';

export interface SaveBackupInit extends OwnerInit {
  fs: FileSystem;
  /** `<stateDir>/backups`, made 0700 when missing. */
  folder: string;
  bytes: Uint8Array;
  now: Date;
  /** How many backups to keep, newest first; older ones are removed. 0 keeps every one (SPEC's `backup_keep`). */
  keep: number;
}

/** `credentials-2026-11-24T07-00-00.000Z.bak`, then `~1`, `~2`, … within the same millisecond. */
const BACKUP_NAME = /^credentials-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z)(?:~(\d+))?\.bak$/;
const MAX_SAME_MILLISECOND = 1000;

/**
 * Writes a 0600 copy of the credentials file's bytes and prunes the oldest copies. Returns its path.
 * Give it the credentials file's `owner`: root rewriting a person's file must leave its backups,
 * and the folders made for them, that person's, or they could neither read nor prune them.
 */
export async function saveBackup({ fs, folder, bytes, now, keep, owner, processUid }: SaveBackupInit): Promise<string> {
  const stamp = now.toISOString().replace(/:/g, '-');
  for (let copy = 0; copy < MAX_SAME_MILLISECOND; copy += 1) {
    const path = join(folder, `credentials-${stamp}${copy === 0 ? '' : `~${copy}`}.bak`);
    try {
      // The folder is made (0700, with the file's owner) the first time it is missing.
      await writeInPrivateDir(fs, folder, () => writeNewFile(fs, path, bytes, 0o600, { owner, processUid }), { owner, processUid });
    } catch (error) {
      if (getErrorCode(error) === 'EEXIST') continue;
      throw error;
    }
    await syncFolder(fs, folder);
    // The backup is saved: tidying old ones is best effort and never fails it (another rotation
    // in the same moment may be pruning the same copies).
    if (keep > 0) await pruneBackups(fs, folder, keep).catch(() => undefined);
    return path;
  }
  throw new Error(`too many backups in ${folder} within one millisecond`);
}

async function pruneBackups(fs: FileSystem, folder: string, keep: number): Promise<void> {
  const backups = (await fs.promises.readdir(folder))
    .flatMap((name) => {
      const match = typeof name === 'string' ? BACKUP_NAME.exec(name) : null;
      return match === null ? [] : [{ name: match[0], stamp: match[1] ?? '', copy: Number(match[2] ?? 0) }];
    })
    .sort((a, b) => (a.stamp === b.stamp ? a.copy - b.copy : a.stamp < b.stamp ? -1 : 1));
  for (const { name } of backups.slice(0, Math.max(0, backups.length - keep))) {
    try {
      await fs.promises.unlink(join(folder, name));
    } catch (error) {
      // Pruned by someone else meanwhile: gone is what we wanted.
      if (getErrorCode(error) !== 'ENOENT') throw error;
    }
  }
}
