import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { getErrorCode, syncFolder, toBytes, writeNewFile } from './fs.js';
import type { FileSystem } from './fs.js';

export interface WriteAtomicallyInit {
  fs: FileSystem;
  /** The file to replace: a real file, not a link (resolve links first, so they stay links). */
  file: string;
  data: Uint8Array | string;
  /** Default 0600: everything keyup writes is private. */
  mode?: number;
  /**
   * The last look before the rename: when it says no (someone else changed the file), the file is
   * left alone and the write returns false. Default: always yes.
   */
  isStillCurrent?: () => Promise<boolean>;
  /** Now, to tell temp files that a crash left behind (older than ten minutes) from live ones. */
  now?: Date;
}

const TEMP_NAME = /^\.(.+)\.keyup-[0-9a-f]{12}\.tmp$/;
const STALE_AFTER_MS = 10 * 60 * 1000;

/** The rename happened, so the new content is in place, but flushing the folder failed. */
export class FolderSyncError extends Error {
  constructor(cause: unknown) {
    super('the file was replaced but its folder could not be flushed to disk', { cause });
    this.name = 'FolderSyncError';
  }
}

/** A temp file's name: hidden, beside the file, so that the rename stays on one file system. */
function createTempName(file: string): string {
  return `.${basename(file)}.keyup-${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Replaces `file` so that a reader or a crash sees either all of the old bytes or all of the new:
 * a temp file in the same folder (mode 0600 from the start, then `mode`), fsynced, renamed over
 * the file, then the folder fsynced. On any failure before the rename the temp file is removed
 * and the file is as it was; a failure after it is a {@link FolderSyncError}.
 */
export async function writeFileAtomically({ fs, file, data, mode = 0o600, isStillCurrent = async () => true, now = new Date() }: WriteAtomicallyInit): Promise<boolean> {
  const folder = dirname(file);
  await removeStaleTempFiles(fs, file, now);
  const temp = join(folder, createTempName(file));
  try {
    await writeNewFile(fs, temp, toBytes(data), mode);
    if (!(await isStillCurrent())) {
      await removeTempFile(fs, temp);
      return false;
    }
    await fs.promises.rename(temp, file);
  } catch (error) {
    await removeTempFile(fs, temp);
    throw error;
  }
  try {
    await syncFolder(fs, folder);
  } catch (error) {
    throw new FolderSyncError(error);
  }
  return true;
}

async function removeTempFile(fs: FileSystem, temp: string): Promise<void> {
  try {
    await fs.promises.unlink(temp);
  } catch {
    // Gone already, or never made; the error that brought us here is the one worth reporting.
  }
}

/** A kill -9 between write and rename leaves a temp file holding secrets: tidy it up next time. */
async function removeStaleTempFiles(fs: FileSystem, file: string, now: Date): Promise<void> {
  const folder = dirname(file);
  for (const name of await fs.promises.readdir(folder)) {
    if (typeof name !== 'string' || TEMP_NAME.exec(name)?.[1] !== basename(file)) continue;
    const path = join(folder, name);
    try {
      const stats = await fs.promises.stat(path);
      if (now.getTime() - Number(stats.mtimeMs) > STALE_AFTER_MS) await fs.promises.unlink(path);
    } catch (error) {
      if (getErrorCode(error) !== 'ENOENT') throw error;
    }
  }
}
