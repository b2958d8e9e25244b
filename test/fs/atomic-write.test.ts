import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderSyncError, writeFileAtomically } from '../../src/fs/atomic-write.js';
import { ensurePrivateDir } from '../../src/fs/fs.js';
import type { FileHandle, FileSystem } from '../../src/fs/fs.js';
import { createSystemError, hookFs } from '../credentials/support.js';
import { createMemoryFs } from '../support/memfs.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

const isRoot = process.getuid?.() === 0;

/** `fs` whose handles on temp files (names with `.keyup-`) have some methods replaced. */
function hookTempHandles(fs: FileSystem, hooks: Partial<FileHandle>): FileSystem {
  return hookFs(fs, {
    open: async (path, flags, mode) => {
      const handle = await fs.promises.open(path, flags, mode);
      if (!path.includes('.keyup-')) return handle;
      return new Proxy(handle, {
        get(target, property, receiver) {
          const hook = (hooks as Record<PropertyKey, unknown>)[property];
          if (hook !== undefined) return hook;
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  });
}

/** What `promise` rejected with. */
async function getRejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

// The credentials store's own tests cover the lost-update check, failing fsyncs and leftover
// temp files; these cover what the journal and the history rely on.
describe('writeFileAtomically on a real file system', () => {
  let home: TempHome;
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(() => home.remove());

  it('replaces the file with mode 0600 by default and leaves no temp file', async () => {
    const path = join(home.dir, 'state.json');
    await fs.writeFile(path, 'old', { mode: 0o644 });
    expect(await writeFileAtomically({ fs: nodeFs, file: path, data: 'new' })).toBe(true);
    expect(await fs.readFile(path, 'utf8')).toBe('new');
    expect((await fs.stat(path)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(home.dir)).toEqual(['state.json']);
  });

  it('keeps the old contents and removes the temp file when it fails before the rename', async () => {
    const path = join(home.dir, 'state.json');
    await fs.writeFile(path, 'old');
    const crash = writeFileAtomically({
      fs: nodeFs,
      file: path,
      data: 'new',
      isStillCurrent: () => Promise.reject(new Error('power cut')),
    });
    await expect(crash).rejects.toThrow('power cut');
    expect(await fs.readFile(path, 'utf8')).toBe('old');
    expect(await fs.readdir(home.dir)).toEqual(['state.json']);
  });

  it('makes private folders and tightens a loose one', async () => {
    const dir = join(home.dir, 'a', 'b');
    await ensurePrivateDir(nodeFs, dir);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    await fs.chmod(dir, 0o755);
    await ensurePrivateDir(nodeFs, dir);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
  });
});

// Issue 7, hole 6: `sudo keyupd --once` keeps HOME on macOS, so root rewrote a person's
// credentials file and it became root:root — unreadable to its owner, whose old key was deleted.
describe('writeFileAtomically keeps the owner it is given', () => {
  let home: TempHome;
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(() => home.remove());

  it.runIf(isRoot)('as root, gives the new file the owner and group of the old one before it is visible (hole 6)', async () => {
    const path = join(home.dir, 'credentials');
    await fs.writeFile(path, 'old', { mode: 0o600 });
    await fs.chown(path, 1000, 1000);
    const seenAtRename: number[][] = [];
    const watching = hookFs(nodeFs, {
      rename: async (from, to) => {
        const stats = await fs.stat(from);
        seenAtRename.push([stats.uid, stats.gid]);
        await fs.rename(from, to);
      },
    });
    expect(await writeFileAtomically({ fs: watching, file: path, data: 'new', owner: { uid: 1000, gid: 1000 } })).toBe(true);
    const stats = await fs.stat(path);
    expect([stats.uid, stats.gid]).toEqual([1000, 1000]);
    expect(seenAtRename).toEqual([[1000, 1000]]);
    expect(await fs.readFile(path, 'utf8')).toBe('new');
  });

  it('changes the owner of the temp file only when it differs from the one it got', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const { uid, gid } = vol.statSync('/h/credentials');
    let chowns = 0;
    const counting = hookTempHandles(memory, {
      chown: () => {
        chowns += 1;
        return Promise.resolve();
      },
    });
    await writeFileAtomically({ fs: counting, file: '/h/credentials', data: 'new', owner: { uid: Number(uid), gid: Number(gid) } });
    expect(chowns).toBe(0);
    await writeFileAtomically({ fs: memory, file: '/h/credentials', data: 'newer', owner: { uid: 4242, gid: 4343 } });
    const stats = vol.statSync('/h/credentials');
    expect([stats.uid, stats.gid]).toEqual([4242, 4343]);
  });

  it('as root, fails and leaves the file as it was when the owner cannot be kept (hole 6)', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const refusing = hookTempHandles(memory, { chown: () => Promise.reject(createSystemError('EPERM')) });
    const error = await getRejection(writeFileAtomically({ fs: refusing, file: '/h/credentials', data: 'new', owner: { uid: 4242, gid: 4242 }, processUid: 0 }));
    expect(error).toMatchObject({ code: 'EPERM' });
    expect(vol.readFileSync('/h/credentials', 'utf8')).toBe('old');
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it('as another user, writes anyway when the OS refuses the owner (EPERM): no editor of theirs could keep it either', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const refusing = hookTempHandles(memory, { chown: () => Promise.reject(createSystemError('EPERM')) });
    expect(await writeFileAtomically({ fs: refusing, file: '/h/credentials', data: 'new', owner: { uid: 4242, gid: 4242 }, processUid: 1000 })).toBe(true);
    expect(vol.readFileSync('/h/credentials', 'utf8')).toBe('new');
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it('as another user, still fails on a chown error other than EPERM', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const failing = hookTempHandles(memory, { chown: () => Promise.reject(createSystemError('EIO')) });
    const error = await getRejection(writeFileAtomically({ fs: failing, file: '/h/credentials', data: 'new', owner: { uid: 4242, gid: 4242 }, processUid: 1000 }));
    expect(error).toMatchObject({ code: 'EIO' });
    expect(vol.readFileSync('/h/credentials', 'utf8')).toBe('old');
  });
});

// Issue 7, item 3: the caller turns the OS error's code into its message (ENOSPC, EROFS, EXDEV…).
describe('writeFileAtomically reports the OS error that stopped it', () => {
  it('keeps the write error when closing the temp file fails too', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const full = hookTempHandles(memory, {
      writeFile: () => Promise.reject(createSystemError('ENOSPC')),
      close: () => Promise.reject(createSystemError('EIO')),
    });
    const error = await getRejection(writeFileAtomically({ fs: full, file: '/h/credentials', data: 'new' }));
    expect(error).toMatchObject({ code: 'ENOSPC' });
    expect(vol.readFileSync('/h/credentials', 'utf8')).toBe('old');
  });

  it('reports a failing close, which is where some file systems (NFS) report a failed write', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const nfs = hookTempHandles(memory, { close: () => Promise.reject(createSystemError('EDQUOT')) });
    const error = await getRejection(writeFileAtomically({ fs: nfs, file: '/h/credentials', data: 'new' }));
    expect(error).toMatchObject({ code: 'EDQUOT' });
    expect(vol.readFileSync('/h/credentials', 'utf8')).toBe('old');
  });

  it.each(['EBUSY', 'EXDEV', 'EROFS', 'EACCES'])('rethrows a rename failing with %s as it is, even when the temp file cannot be removed', async (code) => {
    const { fs: memory } = createMemoryFs({ '/h/credentials': 'old' });
    const thrown = createSystemError(code);
    const failing = hookFs(memory, {
      rename: () => Promise.reject(thrown),
      unlink: () => Promise.reject(createSystemError('EACCES')),
    });
    expect(await getRejection(writeFileAtomically({ fs: failing, file: '/h/credentials', data: 'new' }))).toBe(thrown);
  });

  it('keeps the folder flush error as the cause of a FolderSyncError', async () => {
    const { fs: memory } = createMemoryFs({ '/h/credentials': 'old' });
    const failing = hookFs(memory, {
      open: async (path, flags, mode) => {
        if (path === '/h') throw createSystemError('EIO');
        return memory.promises.open(path, flags, mode);
      },
    });
    const error = await getRejection(writeFileAtomically({ fs: failing, file: '/h/credentials', data: 'new' }));
    expect(error).toBeInstanceOf(FolderSyncError);
    expect((error as Error).cause).toMatchObject({ code: 'EIO' });
  });
});
