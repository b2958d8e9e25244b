/**
 * Reading a file keyup did not write, safely: whatever sits at the path (a named pipe, a device,
 * a socket, a folder, a file of gigabytes, a file still growing), the read ends soon and holds
 * at most `maxBytes` in memory.
 */
import { getErrorCode } from './fs.js';

/** The `code` of the error thrown for a path that is not a regular file. */
export const EKEYUP_NOT_A_FILE = 'EKEYUP_NOT_A_FILE';
/** The `code` of the error thrown for a file larger than `maxBytes`. */
export const EKEYUP_TOO_LARGE = 'EKEYUP_TOO_LARGE';

/** What was found instead of a regular file. */
export type FileKind = 'folder' | 'fifo' | 'socket' | 'device' | 'unknown';

const KIND_WORDS: Readonly<Record<Exclude<FileKind, 'unknown'>, string>> = {
  folder: 'a folder',
  fifo: 'a named pipe (FIFO)',
  socket: 'a socket',
  device: 'a device',
};

/** `a folder`, `a named pipe (FIFO)`, …, for "PATH is …"; undefined for a kind without a name. */
export function describeFileKind(kind: FileKind): string | undefined {
  return kind === 'unknown' ? undefined : KIND_WORDS[kind];
}

/** The path holds something other than a regular file; `code` is {@link EKEYUP_NOT_A_FILE}. */
export class NotAFileError extends Error {
  readonly code = EKEYUP_NOT_A_FILE;
  constructor(
    readonly path: string,
    readonly kind: FileKind,
  ) {
    const words = describeFileKind(kind);
    super(words === undefined ? `${path} is not a regular file` : `${path} is ${words}, not a regular file`);
    this.name = 'NotAFileError';
  }
}

/** The file holds more than `maxBytes`; `code` is {@link EKEYUP_TOO_LARGE}. */
export class FileTooLargeError extends Error {
  readonly code = EKEYUP_TOO_LARGE;
  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    super(`${path} is larger than ${maxBytes} bytes`);
    this.name = 'FileTooLargeError';
  }
}

/** The part of `fs.Stats` the reader looks at. */
export interface BoundedReadStats {
  readonly size: number | bigint;
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

export interface BoundedReadHandle<S extends BoundedReadStats = BoundedReadStats> {
  stat(): Promise<S>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ readonly bytesRead: number }>;
  close(): Promise<void>;
}

/**
 * The part of `node:fs` the reader needs. `node:fs` itself fits, and so does memfs's
 * `createFsFromVolume(vol)` without a cast (memfs has no FIFOs or devices and ignores
 * `O_NONBLOCK`, which is fine for unit tests of what callers do with the content).
 */
export interface BoundedReadFileSystem<S extends BoundedReadStats = BoundedReadStats> {
  readonly constants: { readonly O_RDONLY: number; readonly O_NONBLOCK: number; readonly O_NOCTTY?: number };
  readonly promises: {
    open(path: string, flags: number): Promise<BoundedReadHandle<S>>;
    stat(path: string): Promise<BoundedReadStats>;
  };
}

export interface ReadBoundedFileOptions {
  /** The most bytes the file may hold; one more and it is refused with {@link EKEYUP_TOO_LARGE}. */
  readonly maxBytes: number;
}

function kindOf(stats: BoundedReadStats): FileKind | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'folder';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  return 'unknown';
}

/**
 * open(2) refuses some things that are not files: a Unix socket (ENXIO), a device without its
 * driver (ENXIO, ENODEV), a folder where the system will not open one (EISDIR). Those become
 * {@link NotAFileError} like the rest; anything else keeps the system's error.
 */
async function explainOpenError(fs: BoundedReadFileSystem<BoundedReadStats>, path: string, error: unknown): Promise<unknown> {
  const code = getErrorCode(error);
  if (code === 'EISDIR') return new NotAFileError(path, 'folder');
  if (code !== 'ENXIO' && code !== 'ENODEV') return error;
  try {
    const kind = kindOf(await fs.promises.stat(path));
    return kind === undefined ? error : new NotAFileError(path, kind);
  } catch {
    return error;
  }
}

async function readAtMost(handle: BoundedReadHandle, path: string, expectedSize: number, maxBytes: number): Promise<Uint8Array> {
  // One byte past the limit is enough to know the file is too large, whatever its size said:
  // a file growing meanwhile, or one whose size reads 0 (as in /proc), is caught as well.
  const limit = maxBytes + 1;
  let buffer = new Uint8Array(Math.min(expectedSize + 1, limit));
  let total = 0;
  for (;;) {
    if (total === buffer.byteLength) {
      if (total === limit) throw new FileTooLargeError(path, maxBytes);
      const bigger = new Uint8Array(Math.min(Math.max(buffer.byteLength * 2, 4096), limit));
      bigger.set(buffer);
      buffer = bigger;
    }
    const { bytesRead } = await handle.read(buffer, total, buffer.byteLength - total, total);
    if (bytesRead === 0) return buffer.subarray(0, total);
    total += bytesRead;
  }
}

/**
 * Reads a whole regular file, refusing anything that could hang or flood the caller. It opens
 * with `O_NONBLOCK`, so a named pipe without a writer does not block in open(2), and `O_NOCTTY`,
 * so a terminal named by mistake never becomes the daemon's; then looks at the opened handle
 * (fstat, so nothing can be swapped in between) and refuses a folder, named pipe, socket or device
 * before reading a byte, and a regular file whose size is over `maxBytes` likewise. It then reads
 * at most `maxBytes + 1` bytes.
 *
 * Errors carry a `code` for `getErrorCode` (src/fs/fs.ts): {@link EKEYUP_NOT_A_FILE}
 * ({@link NotAFileError}, with its `kind`), {@link EKEYUP_TOO_LARGE} ({@link FileTooLargeError}),
 * or the system's own (`ENOENT`, `EACCES`, `ENOTDIR`, `ELOOP`, `EIO`, …), passed through as thrown.
 */
export async function readBoundedFile(fs: BoundedReadFileSystem, path: string, options: ReadBoundedFileOptions): Promise<Uint8Array> {
  return (await readBoundedFileWithStats(fs, path, options)).bytes;
}

/**
 * {@link readBoundedFile}, with what fstat said of the file that was read (its mode, owner, time):
 * the same file as the bytes, where a stat of the path beside the read could see another, and one
 * call fewer.
 */
export async function readBoundedFileWithStats<S extends BoundedReadStats>(fs: BoundedReadFileSystem<S>, path: string, { maxBytes }: ReadBoundedFileOptions): Promise<{ bytes: Uint8Array; stats: S }> {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a whole number of bytes ≥ 0, not ${maxBytes}`);
  const { O_RDONLY, O_NONBLOCK, O_NOCTTY = 0 } = fs.constants;
  let handle: BoundedReadHandle<S>;
  try {
    handle = await fs.promises.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  } catch (error) {
    throw await explainOpenError(fs, path, error);
  }
  let failed = true;
  try {
    const stats = await handle.stat();
    const kind = kindOf(stats);
    if (kind !== undefined) throw new NotAFileError(path, kind);
    const size = Number(stats.size);
    if (size > maxBytes) throw new FileTooLargeError(path, maxBytes);
    const bytes = await readAtMost(handle, path, size, maxBytes);
    failed = false;
    return { bytes, stats };
  } finally {
    // A close that fails must not hide why the read failed; after a good read it is reported.
    await handle.close().catch((error: unknown) => {
      if (!failed) throw error;
    });
  }
}
