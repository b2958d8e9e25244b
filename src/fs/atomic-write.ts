import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { getErrorCode, giveOwner, syncFolder, syncHandle, toBytes, useHandle, writeNewFile } from './fs.js';
import type { FileSystem, OwnerInit } from './fs.js';

export interface WriteAtomicallyInit extends OwnerInit {
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
  /** Now, to tell temp files that a crash left behind from live ones; see {@link removeLeftoverTempFiles}. */
  now?: Date;
  /** Whether a process runs, likewise. Default {@link isProcessAlive}. */
  isAlive?: (pid: number) => boolean;
  /**
   * Look for what earlier writers left first (see {@link removeLeftoverTempFiles}). Default true;
   * a writer that looked in this folder already in the same run passes false.
   */
  removeLeftovers?: boolean;
  /**
   * Flush the folder after the rename, so that the rename survives a power cut. Default true.
   * Without it the file's content is still flushed before the rename, so a power cut leaves the
   * old file or the new one, whole: false is for a write whose loss is harmless (the previous
   * version tells as much).
   */
  flushFolder?: boolean;
}

export interface RemoveLeftoversInit {
  fs: FileSystem;
  folder: string;
  /** Only the temp files of this file of `folder`. Default: keyup's temp files of every file there. */
  file?: string;
  /** Whether a process runs. Default {@link isProcessAlive}. */
  isAlive?: (pid: number) => boolean;
  /** Default: the system clock. */
  now?: Date;
}

export interface CheckCanReplaceInit extends OwnerInit {
  fs: FileSystem;
  /** The file {@link writeFileAtomically} will replace: a real file, not a link. */
  file: string;
  /** The size of the content it will write; the check writes as many bytes. */
  size: number;
}

/**
 * `.<file>.keyup-<pid>-<12 hex>.tmp`; older keyup wrote `.<file>.keyup-<12 hex>.tmp`, with no pid.
 * A pid never starts with 0 and has at most 10 digits.
 */
const TEMP_NAME = /^\.(.+)\.keyup-(?:([1-9]\d{0,9})-)?[0-9a-f]{12}\.tmp$/;
/** A write takes milliseconds: a temp file this old is a leftover even when its pid runs again. */
const STALE_AFTER_MS = 10 * 60 * 1000;
/** Codes of file systems without hard links (FAT, some network and FUSE ones), where rename still works. */
const LINKS_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP']);

/** The rename happened, so the new content is in place, but flushing the folder failed. */
export class FolderSyncError extends Error {
  constructor(cause: unknown) {
    super('the file was replaced but its folder could not be flushed to disk', { cause });
    this.name = 'FolderSyncError';
  }
}

/**
 * A temp file's name: hidden, beside the file, so that the rename stays on one file system, and
 * with the writer's pid, so that the next start can tell a dead writer's leftover from a live one.
 */
function createTempName(file: string): string {
  return `.${basename(file)}.keyup-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Replaces `file` so that a reader or a crash sees either all of the old bytes or all of the new:
 * a temp file in the same folder (mode 0600 from the start, then `mode`, and `owner` when given),
 * fsynced, renamed over the file, then the folder fsynced. On any failure before the rename the
 * temp file is removed and the file is as it was; a failure after it is a {@link FolderSyncError}.
 * Every other error is the OS's own, with its `code` (ENOSPC, EROFS, EBUSY, EXDEV…).
 *
 * First it removes what earlier writers of `file` left in its folder: see {@link removeLeftoverTempFiles}.
 */
export async function writeFileAtomically({
  fs,
  file,
  data,
  mode = 0o600,
  isStillCurrent = async () => true,
  now = new Date(),
  isAlive = isProcessAlive,
  removeLeftovers = true,
  flushFolder = true,
  owner,
  processUid,
}: WriteAtomicallyInit): Promise<boolean> {
  const folder = dirname(file);
  if (removeLeftovers) await removeLeftoverTempFiles({ fs, folder, file, isAlive, now });
  const temp = join(folder, createTempName(file));
  try {
    // The owner goes on before the rename: the file is never visible as someone else's.
    await writeNewFile(fs, temp, toBytes(data), mode, { owner, processUid });
    if (!(await isStillCurrent())) {
      await removeTempFile(fs, temp);
      return false;
    }
    await fs.promises.rename(temp, file);
  } catch (error) {
    await removeTempFile(fs, temp);
    throw error;
  }
  if (!flushFolder) return true;
  try {
    await syncFolder(fs, folder);
  } catch (error) {
    throw new FolderSyncError(error);
  }
  return true;
}

/**
 * Proves, without changing `file`, that {@link writeFileAtomically} could replace it now, so that
 * keyup never creates a key it cannot write. It makes a temp file beside it the same way (so a
 * crash leaves a leftover the next start removes), writes and flushes `size` bytes (ENOSPC,
 * EDQUOT, EACCES, EROFS), gives it `owner` (EPERM), then links the file to a second temp name:
 * a file bind-mounted on its own fails there with EXDEV, where the rename would fail with EBUSY.
 * A missing file passes (the write would create it), as does a file system without hard links.
 *
 * @throws the OS error, with its code; the temp files are removed.
 */
export async function checkCanReplace({ fs, file, size, ...ownerInit }: CheckCanReplaceInit): Promise<void> {
  const folder = dirname(file);
  const temp = join(folder, createTempName(file));
  const handle = await fs.promises.open(temp, 'wx', 0o600);
  try {
    await useHandle(handle, async () => {
      // Random bytes: a compressing file system (btrfs, ZFS) would store zeros in no space at all.
      await handle.writeFile(randomBytes(size));
      await giveOwner(handle, ownerInit);
      await syncHandle(handle);
    });
    await checkCanLink(fs, file, join(folder, createTempName(file)));
  } catch (error) {
    await removeTempFile(fs, temp);
    throw error;
  }
  await fs.promises.unlink(temp);
}

async function checkCanLink(fs: FileSystem, file: string, link: string): Promise<void> {
  try {
    await fs.promises.link(file, link);
  } catch (error) {
    const code = getErrorCode(error) ?? '';
    // ENOENT: no file yet, which the rename creates; EMLINK: too many links, which a rename does not add.
    if (code === 'ENOENT' || code === 'EMLINK' || LINKS_UNSUPPORTED.has(code)) return;
    throw error;
  }
  await fs.promises.unlink(link);
}

async function removeTempFile(fs: FileSystem, temp: string): Promise<void> {
  try {
    await fs.promises.unlink(temp);
  } catch {
    // Gone already, or never made; the error that brought us here is the one worth reporting.
  }
}

/**
 * Removes the temp files keyup's writers left in `folder` (kill -9, power cut between the write
 * and the rename), which hold a whole file with its secrets: those whose writer's pid no longer
 * runs, at once; those older than ten minutes, whose pid may run again as another process; and
 * names without a pid, from older keyup versions, by age alone. A fresh temp file of a live
 * process is never touched: it may be renamed at any moment. Neither is anything that is not a
 * regular file. A folder that does not exist has none. Returns the paths it removed.
 *
 * At start-up, before this process has written anything, a temp file bearing its own pid is an
 * earlier process's whose pid it got (keyupd is often pid 1 in a container): there, pass
 * `isAlive: (pid) => pid !== process.pid && isProcessAlive(pid)`.
 *
 * The bytes are not zeroed before the unlink. A leftover may be a hard link to the real file
 * ({@link checkCanReplace} makes one), which zeroing would destroy; on copy-on-write file systems
 * (APFS, btrfs, ZFS) and on SSDs an overwrite lands on new blocks and leaves the old ones, so it
 * proves nothing, and it can fail for want of space just when cleaning up matters. And the secret
 * in it is the one the credentials file gets, or a key the recovery deletes at AWS.
 *
 * @throws the OS error, with its code, when the folder cannot be read or a leftover removed.
 */
export async function removeLeftoverTempFiles({ fs, folder, file, isAlive = isProcessAlive, now = new Date() }: RemoveLeftoversInit): Promise<string[]> {
  let names: readonly unknown[];
  try {
    names = await fs.promises.readdir(folder);
  } catch (error) {
    const code = getErrorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = typeof name === 'string' ? TEMP_NAME.exec(name) : null;
    if (match === null || (file !== undefined && match[1] !== basename(file))) continue;
    const path = join(folder, match[0]);
    try {
      const stats = await fs.promises.lstat(path);
      if (!stats.isFile()) continue;
      const isStale = now.getTime() - Number(stats.mtimeMs) > STALE_AFTER_MS;
      const pid = match[2] === undefined ? undefined : Number(match[2]);
      if (!isStale && (pid === undefined || isAlive(pid))) continue;
      await fs.promises.unlink(path);
      removed.push(path);
    } catch (error) {
      // Another keyup process cleaning the same folder got there first.
      if (getErrorCode(error) !== 'ENOENT') throw error;
    }
  }
  return removed;
}

/** Whether `pid` runs: signal 0 checks without sending anything; EPERM means it runs as another user. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return getErrorCode(error) === 'EPERM';
  }
}
