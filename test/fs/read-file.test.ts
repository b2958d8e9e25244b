import { execFileSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { mkdir, open, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Volume, createFsFromVolume } from 'memfs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { getErrorCode } from '../../src/fs/fs.js';
import { EKEYUP_NOT_A_FILE, EKEYUP_TOO_LARGE, NotAFileError, readBoundedFile } from '../../src/fs/read-file.js';
import type { BoundedReadFileSystem, BoundedReadHandle, BoundedReadStats } from '../../src/fs/read-file.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

/** A hang is the failure these tests look for: each must answer well within this. */
const QUICK = { timeout: 3_000 };
const MiB = 1024 * 1024;

async function errorOf(promise: Promise<unknown>): Promise<Error & { code?: unknown }> {
  const error: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (reason: unknown) => reason,
  );
  if (error instanceof Error && getErrorCode(error) !== undefined) return error;
  throw error;
}

/**
 * A reader stuck in a blocking open of a FIFO is freed by a writer coming and going, so a test
 * that fails on a hang does not leave a thread of the pool blocked for the rest of the run.
 */
function releaseFifo(path: string): void {
  try {
    nodeFs.closeSync(nodeFs.openSync(path, nodeFs.constants.O_RDWR | nodeFs.constants.O_NONBLOCK));
  } catch {
    // Already gone with its folder.
  }
}

/** node:fs, counting the bytes its handles read. */
function countingFs(): { fs: BoundedReadFileSystem; bytesRead: () => number } {
  let total = 0;
  const fs: BoundedReadFileSystem = {
    constants: nodeFs.constants,
    promises: {
      open: async (path, flags) => {
        const handle = await nodeFs.promises.open(path, flags);
        return {
          stat: () => handle.stat(),
          read: async (buffer, offset, length, position) => {
            const result = await handle.read(buffer, offset, length, position);
            total += result.bytesRead;
            return result;
          },
          close: () => handle.close(),
        };
      },
      stat: (path) => nodeFs.promises.stat(path),
    },
  };
  return { fs, bytesRead: () => total };
}

describe('readBoundedFile on real files', () => {
  let home: TempHome;
  const fifos: string[] = [];
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(async () => {
    for (const fifo of fifos.splice(0)) releaseFifo(fifo);
    await home.remove();
  });

  function makeFifo(name: string): string {
    const path = join(home.dir, name);
    execFileSync('mkfifo', [path]);
    fifos.push(path);
    return path;
  }

  test('reads a regular file whole', async () => {
    const path = join(home.dir, 'config');
    await writeFile(path, '[keyup]\nmax_age_days = 30\n');
    const bytes = await readBoundedFile(nodeFs, path, { maxBytes: MiB });
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(bytes)).toBe('[keyup]\nmax_age_days = 30\n');
  });

  test('an empty file is zero bytes', async () => {
    const path = join(home.dir, 'empty');
    await writeFile(path, '');
    expect((await readBoundedFile(nodeFs, path, { maxBytes: 0 })).byteLength).toBe(0);
  });

  test('a file of exactly maxBytes is read; one byte more is refused', async () => {
    const path = join(home.dir, 'edge');
    await writeFile(path, 'x'.repeat(100));
    expect((await readBoundedFile(nodeFs, path, { maxBytes: 100 })).byteLength).toBe(100);
    const error = await errorOf(readBoundedFile(nodeFs, path, { maxBytes: 99 }));
    expect(error.code).toBe(EKEYUP_TOO_LARGE);
    expect(error).toMatchObject({ path, maxBytes: 99 });
  });

  test('a missing file keeps the code of the OS', async () => {
    const error = await errorOf(readBoundedFile(nodeFs, join(home.dir, 'nothing'), { maxBytes: MiB }));
    expect(error.code).toBe('ENOENT');
  });

  test('a path through a file keeps the code of the OS', async () => {
    await writeFile(join(home.dir, 'file'), '');
    const error = await errorOf(readBoundedFile(nodeFs, join(home.dir, 'file', 'config'), { maxBytes: MiB }));
    expect(error.code).toBe('ENOTDIR');
  });

  // Issue 7, hole 9: a FIFO as ~/.aws/config or keyup's config hung keyupd forever in open().
  test('a FIFO with no writer is refused at once, not waited on', QUICK, async () => {
    const path = makeFifo('fifo');
    const error = await errorOf(readBoundedFile(nodeFs, path, { maxBytes: MiB }));
    expect(error.code).toBe(EKEYUP_NOT_A_FILE);
    expect(error).toBeInstanceOf(NotAFileError);
    expect(error).toMatchObject({ path, kind: 'fifo' });
    expect(error.message).toBe(`${path} is a named pipe (FIFO), not a regular file`);
  });

  test('a symlink to a FIFO is refused as the FIFO', QUICK, async () => {
    const path = join(home.dir, 'link');
    await symlink(makeFifo('fifo'), path);
    expect(await errorOf(readBoundedFile(nodeFs, path, { maxBytes: MiB }))).toMatchObject({ code: EKEYUP_NOT_A_FILE, kind: 'fifo' });
  });

  // Issue 7, hole 9: /dev/zero never ends, so a plain readFile read until memory ran out.
  test('/dev/zero is refused, not read without end', QUICK, async () => {
    const { fs, bytesRead } = countingFs();
    const error = await errorOf(readBoundedFile(fs, '/dev/zero', { maxBytes: MiB }));
    expect(error).toMatchObject({ code: EKEYUP_NOT_A_FILE, kind: 'device', path: '/dev/zero' });
    expect(bytesRead()).toBe(0);
  });

  test('a folder is refused', QUICK, async () => {
    const path = join(home.dir, 'folder');
    await mkdir(path);
    const error = await errorOf(readBoundedFile(nodeFs, path, { maxBytes: MiB }));
    expect(error).toMatchObject({ code: EKEYUP_NOT_A_FILE, kind: 'folder' });
    expect(error.message).toBe(`${path} is a folder, not a regular file`);
  });

  test('a Unix socket is refused', QUICK, async () => {
    const path = join(home.dir, 'sock');
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      expect(await errorOf(readBoundedFile(nodeFs, path, { maxBytes: MiB }))).toMatchObject({ code: EKEYUP_NOT_A_FILE, kind: 'socket' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a large file is refused from its size, without reading it', QUICK, async () => {
    const path = join(home.dir, 'huge');
    await writeFile(path, '');
    // Sparse: 4 GiB of size, no disk used.
    await truncate(path, 4 * 1024 * MiB);
    const { fs, bytesRead } = countingFs();
    const error = await errorOf(readBoundedFile(fs, path, { maxBytes: MiB }));
    expect(error).toMatchObject({ code: EKEYUP_TOO_LARGE, path, maxBytes: MiB });
    expect(error.message).toBe(`${path} is larger than ${MiB} bytes`);
    expect(bytesRead()).toBe(0);
  });

  test('a file whose size says 0 but which has content (as in /proc) is read to its end', async () => {
    const path = '/proc/self/status';
    if (!nodeFs.existsSync(path)) return;
    expect((await nodeFs.promises.stat(path)).size).toBe(0);
    expect(new TextDecoder().decode(await readBoundedFile(nodeFs, path, { maxBytes: MiB }))).toMatch(/^Name:/);
  });

  test('a file written to while it is read is still cut at maxBytes + 1', QUICK, async () => {
    const path = join(home.dir, 'growing');
    await writeFile(path, 'x'.repeat(10));
    const writer = await open(path, 'a');
    try {
      const { fs, bytesRead } = countingFs();
      const growing: BoundedReadFileSystem = {
        constants: fs.constants,
        promises: {
          ...fs.promises,
          open: async (file, flags) => {
            const handle = await fs.promises.open(file, flags);
            return {
              ...handle,
              // The first stat is taken before the file grows; every read then finds more.
              read: async (buffer, offset, length, position) => {
                await writer.write('y'.repeat(4096));
                return handle.read(buffer, offset, length, position);
              },
            };
          },
        },
      };
      const error = await errorOf(readBoundedFile(growing, path, { maxBytes: 1000 }));
      expect(error.code).toBe(EKEYUP_TOO_LARGE);
      expect(bytesRead()).toBeLessThanOrEqual(1001);
    } finally {
      await writer.close();
    }
  });
});

/** A fake regular file whose handle lies about its size, and which records what was done. */
function fakeFs(init: { size: number; content: Uint8Array | 'endless'; kind?: 'file' | 'folder' | 'fifo'; readError?: Error }) {
  const calls = { flags: [] as number[], requested: 0, closed: 0 };
  const stats: BoundedReadStats = {
    size: init.size,
    isFile: () => (init.kind ?? 'file') === 'file',
    isDirectory: () => init.kind === 'folder',
    isFIFO: () => init.kind === 'fifo',
    isSocket: () => false,
    isCharacterDevice: () => false,
    isBlockDevice: () => false,
  };
  const handle: BoundedReadHandle = {
    stat: () => Promise.resolve(stats),
    read: (buffer, offset, length, position) => {
      calls.requested += length;
      if (init.readError !== undefined) return Promise.reject(init.readError);
      if (init.content === 'endless') {
        buffer.fill(0x61, offset, offset + length);
        return Promise.resolve({ bytesRead: length });
      }
      const chunk = init.content.subarray(position, position + length);
      buffer.set(chunk, offset);
      return Promise.resolve({ bytesRead: chunk.byteLength });
    },
    close: () => {
      calls.closed += 1;
      return Promise.resolve();
    },
  };
  const fs: BoundedReadFileSystem = {
    constants: { O_RDONLY: 0, O_NONBLOCK: 0o4000, O_NOCTTY: 0o400 },
    promises: {
      open: (_path, flags) => {
        calls.flags.push(flags);
        return Promise.resolve(handle);
      },
      stat: () => Promise.resolve(stats),
    },
  };
  return { fs, calls };
}

describe('readBoundedFile, its contract with a fake file system', () => {
  test('opens read-only, without blocking and without taking a terminal', async () => {
    const { fs, calls } = fakeFs({ size: 2, content: new Uint8Array([1, 2]) });
    await readBoundedFile(fs, '/f', { maxBytes: 10 });
    expect(calls.flags).toEqual([0o4000 | 0o400]);
  });

  test('a file that grew after its size was taken is caught, asking for at most maxBytes + 1 bytes', async () => {
    const { fs, calls } = fakeFs({ size: 10, content: 'endless' });
    expect(await errorOf(readBoundedFile(fs, '/f', { maxBytes: 5000 }))).toMatchObject({ code: EKEYUP_TOO_LARGE });
    expect(calls.requested).toBeLessThanOrEqual(5001);
    expect(calls.closed).toBe(1);
  });

  test('a file that shrank after its size was taken is read as it is now', async () => {
    const { fs } = fakeFs({ size: 1000, content: new Uint8Array([7, 8, 9]) });
    expect([...(await readBoundedFile(fs, '/f', { maxBytes: 5000 }))]).toEqual([7, 8, 9]);
  });

  test('a file read in many short pieces comes back whole', async () => {
    const content = new Uint8Array(3000).map((_, i) => i % 251);
    const { fs } = fakeFs({ size: 0, content });
    expect(await readBoundedFile(fs, '/f', { maxBytes: 3000 })).toEqual(content);
  });

  test.each([
    ['not a file', { size: 0, content: new Uint8Array(), kind: 'fifo' as const }],
    ['too large', { size: 100, content: new Uint8Array(100) }],
    ['a failing read', { size: 1, content: new Uint8Array(1), readError: Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }) }],
  ])('the handle is closed: %s', async (_, init) => {
    const { fs, calls } = fakeFs(init);
    await errorOf(readBoundedFile(fs, '/f', { maxBytes: 10 }));
    expect(calls.closed).toBe(1);
  });

  test('an error of a read passes through with its code', async () => {
    const cause = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    const { fs } = fakeFs({ size: 1, content: new Uint8Array(1), readError: cause });
    expect(await errorOf(readBoundedFile(fs, '/f', { maxBytes: 10 }))).toBe(cause);
  });

  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('maxBytes %d is a programming error', async (maxBytes) => {
    const { fs } = fakeFs({ size: 0, content: new Uint8Array() });
    await expect(readBoundedFile(fs, '/f', { maxBytes })).rejects.toThrow(RangeError);
  });
});

describe('memfs', () => {
  // memfs has no FIFOs or devices and ignores O_NONBLOCK; it is for units that read real content.
  test('fits the file system type as it is, and reads', async () => {
    const fs = createFsFromVolume(Volume.fromJSON({ '/home/alice/config': 'hello', '/home/alice/folder/x': '' }));
    expect(new TextDecoder().decode(await readBoundedFile(fs, '/home/alice/config', { maxBytes: 5 }))).toBe('hello');
    expect(await errorOf(readBoundedFile(fs, '/home/alice/config', { maxBytes: 4 }))).toMatchObject({ code: EKEYUP_TOO_LARGE });
    expect(await errorOf(readBoundedFile(fs, '/home/alice/folder', { maxBytes: 5 }))).toMatchObject({ code: EKEYUP_NOT_A_FILE, kind: 'folder' });
    expect(await errorOf(readBoundedFile(fs, '/home/alice/none', { maxBytes: 5 }))).toMatchObject({ code: 'ENOENT' });
  });
});
