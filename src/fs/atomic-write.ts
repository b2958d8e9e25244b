import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hasCode, type FsPromises } from './fs.js';

export interface AtomicWriteInit {
  /** Mode of the new file. Default 0600: everything keyup writes is private. */
  mode?: number;
  /** Called after the temp file is durable and before the rename; tests inject crashes here. */
  beforeRename?: () => Promise<void> | void;
}

/**
 * Replaces `path` so that a crash or power cut leaves either the old or the new contents,
 * never a mix: write a temp file in the same folder (rename is atomic only within one file
 * system), fsync it, rename it over the target, then fsync the folder so the rename itself
 * survives a power cut. The temp file is removed on any failure.
 */
export async function writeFileAtomic(fs: FsPromises, path: string, data: string | Uint8Array, { mode = 0o600, beforeRename }: AtomicWriteInit = {}): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      // The umask may have loosened the mode given to open().
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await beforeRename?.();
    await fs.rename(temp, path);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(fs, dir);
}

/** Makes a rename or unlink in `dir` durable. Some platforms cannot fsync a folder; that is not fatal. */
export async function syncDirectory(fs: FsPromises, dir: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!(hasCode(error, 'EISDIR') || hasCode(error, 'EINVAL') || hasCode(error, 'EPERM') || hasCode(error, 'ENOTSUP'))) throw error;
  } finally {
    await handle?.close();
  }
}

/** Creates `dir` and its parents as 0700, and tightens it if it already existed looser. */
export async function ensurePrivateDir(fs: FsPromises, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const { mode } = await fs.stat(dir);
  if ((mode & 0o077) !== 0) await fs.chmod(dir, mode & 0o700);
}
