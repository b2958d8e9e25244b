/** The part of `node:fs` the credentials store uses; memfs's `fs` has the same shape. */
export interface StoreFs {
  readonly promises: StoreFsPromises;
}

export interface StoreFsPromises {
  readFile(path: string): Promise<string | Uint8Array>;
  realpath(path: string): Promise<string | Uint8Array>;
  stat(path: string): Promise<StoreStats>;
  lstat(path: string): Promise<StoreStats>;
  open(path: string, flags: string, mode?: number): Promise<StoreFileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: true; mode: number }): Promise<unknown>;
  chmod(path: string, mode: number): Promise<void>;
  readdir(path: string): Promise<readonly unknown[]>;
}

export interface StoreStats {
  readonly mode: number | bigint;
  readonly size: number | bigint;
  readonly mtimeMs: number | bigint;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export interface StoreFileHandle {
  writeFile(data: Uint8Array): Promise<void>;
  chmod(mode: number): Promise<void>;
  /** Optional only because memfs's types lack it (its handles have it); see {@link syncHandle}. */
  sync?(): Promise<void>;
  datasync(): Promise<void>;
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
export async function syncHandle(handle: StoreFileHandle): Promise<void> {
  await (handle.sync === undefined ? handle.datasync() : handle.sync());
}

/**
 * Creates `path` (failing if it exists) as 0600, writes `data`, gives it `mode` whatever the umask
 * and flushes it all to disk before closing.
 */
export async function writeNewFile(fs: StoreFs, path: string, data: Uint8Array, mode: number): Promise<void> {
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
export async function syncFolder(fs: StoreFs, folder: string): Promise<void> {
  let handle: StoreFileHandle;
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
