import { dirname, resolve } from 'node:path';
import { readBoundedFile, type BoundedReadFileSystem } from './read-file.js';

/**
 * The part of `node:fs` keyup uses: `node:fs` itself in the programs, memfs's `fs` in unit tests.
 * Passed in, never imported by the core.
 */
export interface FileSystem extends BoundedReadFileSystem {
  readonly promises: FileSystemPromises;
}

export interface FileSystemPromises {
  readFile(path: string): Promise<string | Uint8Array>;
  realpath(path: string): Promise<string | Uint8Array>;
  stat(path: string): Promise<FileStats>;
  lstat(path: string): Promise<FileStats>;
  open(path: string, flags: string | number, mode?: number): Promise<FileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: true; mode: number }): Promise<unknown>;
  chmod(path: string, mode: number): Promise<void>;
  /** Changes a link itself, never what it points to: see {@link ensurePrivateDir}. */
  lchown(path: string, uid: number, gid: number): Promise<void>;
  link(existingPath: string, newPath: string): Promise<void>;
  readdir(path: string): Promise<readonly unknown[]>;
}

/** A file's owner and group, as `stat` gives them. */
export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

/** How to give what keyup writes the owner of the file it stands for. */
export interface OwnerInit {
  /** The owner and group the file must have, when they may differ from keyup's own. Default: keyup's. */
  owner?: FileOwner;
  /**
   * This process's effective uid (`process.geteuid()`), which decides what a refused change of
   * owner means: see {@link giveOwner}. Default: `process.geteuid()`.
   */
  processUid?: number;
}

export interface FileStats {
  readonly mode: number | bigint;
  readonly size: number | bigint;
  readonly mtimeMs: number | bigint;
  readonly uid: number | bigint;
  readonly gid: number | bigint;
  isFile(): boolean;
  isSymbolicLink(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

export interface FileHandle {
  writeFile(data: Uint8Array): Promise<void>;
  chmod(mode: number): Promise<void>;
  /** Optional only so that hand-made handles in tests need not have it; node's and memfs's have it. */
  chown?(uid: number, gid: number): Promise<void>;
  /** Optional only because memfs's types lack it (its handles have it); see {@link syncHandle}. */
  sync?(): Promise<void>;
  datasync(): Promise<void>;
  stat(): Promise<FileStats>;
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<unknown>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ readonly bytesRead: number }>;
  close(): Promise<void>;
}

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`, …), if it has one. */
export function getErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

export function toText(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}

export function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** fsync, falling back to fdatasync (which still flushes the data and its size) where fsync is absent. */
export async function syncHandle(handle: FileHandle): Promise<void> {
  await (handle.sync === undefined ? handle.datasync() : handle.sync());
}

/**
 * Runs `use` on `handle`, then closes it. A close that fails after `use` failed must not hide
 * the error that matters (ENOSPC rather than the EIO that follows it); a close that fails after
 * `use` succeeded is reported, since some file systems (NFS) report a failed write only there.
 */
export async function useHandle<T>(handle: FileHandle, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await use(handle);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  await handle.close();
  return result;
}

/**
 * Gives an open file `owner` when it got another (root writing in a person's home makes files
 * root's). Through the handle, never the path: as root, a path in a folder the person owns could
 * be swapped for a link to a system file between the write and the chown.
 *
 * When the OS refuses (EPERM): as root that is an error, for a person's secrets must never
 * silently become root's (or nobody's, on NFS with root squashed). As anyone else it is not:
 * only root may give a file to another user, and a group only to one of its own groups, so no
 * editor of theirs could have kept that owner either; the file becomes theirs, as any editor
 * makes it, and keyup's files are 0600 at most, so the group it gets can read nothing.
 */
export async function giveOwner(handle: FileHandle, ownerInit: OwnerInit): Promise<void> {
  if (ownerInit.owner === undefined) return;
  await changeOwner(await handle.stat(), async (uid, gid) => {
    if (handle.chown === undefined) throw Object.assign(new Error('ENOTSUP: this file system cannot change the owner of a file'), { code: 'ENOTSUP' });
    await handle.chown(uid, gid);
  }, ownerInit);
}

/** Calls `chown` only when `current` differs from the owner asked for; see {@link giveOwner} for EPERM. */
async function changeOwner(current: FileStats, chown: (uid: number, gid: number) => Promise<void>, { owner, processUid = process.geteuid?.() }: OwnerInit): Promise<void> {
  if (owner === undefined || (Number(current.uid) === owner.uid && Number(current.gid) === owner.gid)) return;
  try {
    await chown(owner.uid, owner.gid);
  } catch (error) {
    if (processUid !== 0 && getErrorCode(error) === 'EPERM') return;
    throw error;
  }
}

export interface NewFileInit extends OwnerInit {
  /**
   * Flush the file to disk before closing it. Default true; false only for a file worth nothing
   * after a crash or a power cut (a lock: its holder died with the machine).
   */
  durable?: boolean;
}

/**
 * Creates `path` (failing if it exists) as 0600, writes `data`, gives it the owner asked for and
 * `mode` whatever the umask, and flushes it all to disk before closing.
 */
export async function writeNewFile(fs: FileSystem, path: string, data: Uint8Array, mode: number, { durable = true, ...ownerInit }: NewFileInit = {}): Promise<void> {
  const handle = await fs.promises.open(path, 'wx', 0o600);
  await useHandle(handle, async () => {
    await handle.writeFile(data);
    // Before chmod: a chown by a non-root user clears set-id bits, and before the sync, so that
    // the owner reaches the disk with the data.
    await giveOwner(handle, ownerInit);
    await handle.chmod(mode);
    if (durable) await syncHandle(handle);
  });
}

/** Codes of systems whose folders cannot be opened or flushed; the data is written all the same. */
const FOLDER_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);

/** Flushes a folder, so that a rename in it survives a power cut. */
export async function syncFolder(fs: FileSystem, folder: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await fs.promises.open(folder, 'r');
  } catch (error) {
    if (FOLDER_SYNC_UNSUPPORTED.has(getErrorCode(error) ?? '')) return;
    throw error;
  }
  await useHandle(handle, async () => {
    try {
      await syncHandle(handle);
    } catch (error) {
      if (!FOLDER_SYNC_UNSUPPORTED.has(getErrorCode(error) ?? '')) throw error;
    }
  });
}

/**
 * Creates `dir` and its parents as 0700, and tightens it if it already existed looser. With an
 * `owner`, the folders it made get that owner (by the rules of {@link giveOwner}); folders that
 * were there already keep theirs.
 */
export async function ensurePrivateDir(fs: FileSystem, dir: string, ownerInit: OwnerInit = {}): Promise<void> {
  const missing = ownerInit.owner === undefined ? [] : await findMissingFolders(fs, dir);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const folder of missing) await giveFolderOwner(fs, folder, ownerInit);
  const mode = Number((await fs.promises.stat(dir)).mode);
  if ((mode & 0o077) !== 0) await fs.promises.chmod(dir, mode & 0o700);
}

export interface WriteInPrivateDirInit extends OwnerInit {
  /** Called once `dir` was made, before `write` runs again (to flush its parent, say). */
  made?: () => Promise<void>;
}

/**
 * Runs `write`, which makes a file in `dir`; where that fails because `dir` does not exist
 * (ENOENT), makes it as {@link ensurePrivateDir} does, calls `made`, and runs `write` once more.
 * keyup's folders are there at nearly every write, and making sure first would cost a mkdir and a
 * stat each time; a folder that exists keeps its mode (the files keyup writes in it are 0600).
 */
export async function writeInPrivateDir<T>(fs: FileSystem, dir: string, write: () => Promise<T>, { made, ...ownerInit }: WriteInPrivateDirInit = {}): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (getErrorCode(error) !== 'ENOENT') throw error;
  }
  await ensurePrivateDir(fs, dir, ownerInit);
  await made?.();
  return write();
}

/** `dir` and those of its parents that do not exist, outermost first. */
async function findMissingFolders(fs: FileSystem, dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let folder = resolve(dir); ; folder = dirname(folder)) {
    try {
      await fs.promises.lstat(folder);
      return missing;
    } catch (error) {
      // Anything but "not there" is left for mkdir to report.
      if (getErrorCode(error) !== 'ENOENT' || dirname(folder) === folder) return missing;
      missing.unshift(folder);
    }
  }
}

/**
 * A folder has no handle to change it through, so lchown: should someone swap the new folder for a
 * link, the link changes owner, never what it points to.
 */
async function giveFolderOwner(fs: FileSystem, folder: string, ownerInit: OwnerInit): Promise<void> {
  await changeOwner(await fs.promises.lstat(folder), (uid, gid) => fs.promises.lchown(folder, uid, gid), ownerInit);
}

/** Reads a whole file as UTF-8 text, refusing what is not a regular file or is over `maxBytes`. */
export async function readText(fs: FileSystem, path: string, maxBytes = 1024 * 1024): Promise<string> {
  // keyup's own small files; bounded and FIFO-proof all the same, since anyone may put anything there.
  return toText(await readBoundedFile(fs, path, { maxBytes }));
}
