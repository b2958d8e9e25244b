/**
 * The part of `node:fs` keyup uses: `node:fs` itself in the programs, memfs's `fs` in unit tests.
 * Passed in, never imported by the core.
 */
export interface FileSystem {
  readonly promises: FileSystemPromises;
}

export interface FileSystemPromises {
  readFile(path: string): Promise<string | Uint8Array>;
  realpath(path: string): Promise<string | Uint8Array>;
  stat(path: string): Promise<FileStats>;
  lstat(path: string): Promise<FileStats>;
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: true; mode: number }): Promise<unknown>;
  chmod(path: string, mode: number): Promise<void>;
  readdir(path: string): Promise<readonly unknown[]>;
}

export interface FileStats {
  readonly mode: number | bigint;
  readonly size: number | bigint;
  readonly mtimeMs: number | bigint;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export interface FileHandle {
  writeFile(data: Uint8Array): Promise<void>;
  chmod(mode: number): Promise<void>;
  /** Optional only because memfs's types lack it (its handles have it); see {@link syncHandle}. */
  sync?(): Promise<void>;
  datasync(): Promise<void>;
  stat(): Promise<FileStats>;
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<unknown>;
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
 * Creates `path` (failing if it exists) as 0600, writes `data`, gives it `mode` whatever the umask
 * and flushes it all to disk before closing.
 */
export async function writeNewFile(fs: FileSystem, path: string, data: Uint8Array, mode: number): Promise<void> {
  const handle = await fs.promises.open(path, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await syncHandle(handle);
  } finally {
    await handle.close();
  }
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
  try {
    await syncHandle(handle);
  } catch (error) {
    if (!FOLDER_SYNC_UNSUPPORTED.has(getErrorCode(error) ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

/** Creates `dir` and its parents as 0700, and tightens it if it already existed looser. */
export async function ensurePrivateDir(fs: FileSystem, dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const mode = Number((await fs.promises.stat(dir)).mode);
  if ((mode & 0o077) !== 0) await fs.promises.chmod(dir, mode & 0o700);
}

/** Reads a whole file as UTF-8 text. */
export async function readText(fs: FileSystem, path: string): Promise<string> {
  return toText(await fs.promises.readFile(path));
}
