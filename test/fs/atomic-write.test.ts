import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCanReplace, FolderSyncError, writeFileAtomically } from '../../src/fs/atomic-write.js';
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

// Issue 7, hole 10: keyup must know it can write the file before it creates a key at AWS.
describe('checkCanReplace', () => {
  let home: TempHome;
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(() => home.remove());

  it('succeeds on a writable folder and leaves the file and the folder as they were', async () => {
    const path = join(home.dir, 'credentials');
    await fs.writeFile(path, 'old', { mode: 0o600 });
    const before = await fs.stat(path);
    await checkCanReplace({ fs: nodeFs, file: path, size: 4096 });
    const after = await fs.stat(path);
    expect(await fs.readdir(home.dir)).toEqual(['credentials']);
    expect(await fs.readFile(path, 'utf8')).toBe('old');
    expect([after.ino, after.nlink, after.mtimeMs, after.mode]).toEqual([before.ino, before.nlink, before.mtimeMs, before.mode]);
  });

  it('succeeds when the file does not exist yet, as the write would', async () => {
    await checkCanReplace({ fs: nodeFs, file: join(home.dir, 'credentials'), size: 10 });
    expect(await fs.readdir(home.dir)).toEqual([]);
  });

  it('fails with the OS error when the folder cannot hold files (its "folder" is a file)', async () => {
    const notAFolder = join(home.dir, 'aws');
    await fs.writeFile(notAFolder, '');
    const error = await getRejection(checkCanReplace({ fs: nodeFs, file: join(notAFolder, 'credentials'), size: 10 }));
    expect(error).toMatchObject({ code: 'ENOTDIR' });
  });

  it.each(['EROFS', 'EACCES'])('fails with %s when the temp file cannot be made', async (code) => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const readOnly = hookFs(memory, { open: () => Promise.reject(createSystemError(code)) });
    expect(await getRejection(checkCanReplace({ fs: readOnly, file: '/h/credentials', size: 10 }))).toMatchObject({ code });
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it.each(['ENOSPC', 'EDQUOT'])('fails with %s when the bytes cannot be written or flushed, and removes its temp file', async (code) => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const full = hookTempHandles(memory, {
      write: () => Promise.reject(createSystemError(code)),
      writeFile: () => Promise.reject(createSystemError(code)),
      sync: () => Promise.reject(createSystemError(code)),
      datasync: () => Promise.reject(createSystemError(code)),
    });
    expect(await getRejection(checkCanReplace({ fs: full, file: '/h/credentials', size: 10 }))).toMatchObject({ code });
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it('writes and flushes the size it is given', async () => {
    const { fs: memory } = createMemoryFs({ '/h/credentials': 'old' });
    let written = 0;
    let synced = false;
    const counting = hookTempHandles(memory, {
      writeFile: (data) => {
        written += data.length;
        return Promise.resolve();
      },
      sync: () => {
        synced = true;
        return Promise.resolve();
      },
    });
    await checkCanReplace({ fs: counting, file: '/h/credentials', size: 200_000 });
    expect(written).toBe(200_000);
    expect(synced).toBe(true);
  });

  it('fails with EPERM when root cannot give the temp file its owner, and removes it', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const refusing = hookTempHandles(memory, { chown: () => Promise.reject(createSystemError('EPERM')) });
    const error = await getRejection(checkCanReplace({ fs: refusing, file: '/h/credentials', size: 10, owner: { uid: 4242, gid: 4242 }, processUid: 0 }));
    expect(error).toMatchObject({ code: 'EPERM' });
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it('fails with EXDEV for a file bind-mounted on its own, whose rename would fail with EBUSY', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const bindMounted = hookFs(memory, { link: () => Promise.reject(createSystemError('EXDEV')) });
    expect(await getRejection(checkCanReplace({ fs: bindMounted, file: '/h/credentials', size: 10 }))).toMatchObject({ code: 'EXDEV' });
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it.each(['EPERM', 'ENOTSUP', 'EOPNOTSUPP'])('succeeds on a file system without hard links (%s)', async (code) => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const noLinks = hookFs(memory, { link: () => Promise.reject(createSystemError(code)) });
    await checkCanReplace({ fs: noLinks, file: '/h/credentials', size: 10 });
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it('removes the link it made, and the link only', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/credentials': 'old' });
    const links: string[] = [];
    const watching = hookFs(memory, {
      link: async (from, to) => {
        links.push(to);
        await memory.promises.link(from, to);
      },
    });
    await checkCanReplace({ fs: watching, file: '/h/credentials', size: 10 });
    expect(links).toEqual([expect.stringMatching(new RegExp(`^/h/\\.credentials\\.keyup-${process.pid}-[0-9a-f]{12}\\.tmp$`))]);
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
    expect(vol.readFileSync('/h/credentials', 'utf8')).toBe('old');
    expect(vol.statSync('/h/credentials').nlink).toBe(1);
  });
});
