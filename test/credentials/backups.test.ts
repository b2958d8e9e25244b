import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveBackup } from '../../src/credentials/backups.js';
import type { FileHandle, FileSystem } from '../../src/fs/fs.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';
import { createMemoryFs, createSystemError, hookFs } from './support.js';

const NOW = new Date('2026-11-24T07:00:00.000Z');
const bytes = Buffer.from('[default]\naws_secret_access_key = s\n');

/** `fs` whose handles on backups refuse to change their owner with `code`. */
function refuseChown(fs: FileSystem, code: string): FileSystem {
  return hookFs(fs, {
    open: async (path, flags, mode) => {
      const handle = await fs.promises.open(path, flags, mode);
      const chown: FileHandle['chown'] = () => Promise.reject(createSystemError(code));
      return new Proxy(handle, {
        get: (target, property) => {
          if (property === 'chown') return chown;
          const value: unknown = Reflect.get(target, property);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
    lchown: () => Promise.reject(createSystemError(code)),
  });
}

describe('saveBackup', () => {
  it('writes a 0600 copy in a 0700 folder it makes, and keeps the newest `keep`', async () => {
    const memory = createMemoryFs({ '/s/x': '' });
    const first = await saveBackup({ fs: memory, folder: '/s/keyup/backups', bytes, now: NOW, keep: 2 });
    expect(first).toBe('/s/keyup/backups/credentials-2026-11-24T07-00-00.000Z.bak');
    expect(memory.readFileSync(first, 'utf8')).toBe(bytes.toString());
    expect(memory.statSync(first).mode & 0o777).toBe(0o600);
    expect(memory.statSync('/s/keyup/backups').mode & 0o777).toBe(0o700);
    await saveBackup({ fs: memory, folder: '/s/keyup/backups', bytes, now: NOW, keep: 2 });
    await saveBackup({ fs: memory, folder: '/s/keyup/backups', bytes, now: new Date(NOW.getTime() + 1), keep: 2 });
    expect(memory.readdirSync('/s/keyup/backups')).toEqual(['credentials-2026-11-24T07-00-00.000Z~1.bak', 'credentials-2026-11-24T07-00-00.001Z.bak']);
  });

  // Issue 7, hole 6: root rewriting a person's file must leave them able to read its backups.
  it('gives the backup, and the folders it makes for it, the group of the credentials file', async () => {
    const memory = createMemoryFs({ '/s/x': '' });
    // memfs checks permissions even for root: keep its uid, so that it may still enter the folders.
    const uid = Number(memory.statSync('/s').uid);
    const path = await saveBackup({ fs: memory, folder: '/s/keyup/backups', bytes, now: NOW, keep: 10, owner: { uid, gid: 4343 } });
    for (const made of [path, '/s/keyup/backups', '/s/keyup']) {
      const stats = memory.statSync(made);
      expect([made, stats.uid, stats.gid]).toEqual([made, uid, 4343]);
    }
    expect(memory.statSync('/s').gid).not.toBe(4343);
  });

  it('as root, fails when the owner cannot be kept', async () => {
    const memory = createMemoryFs({ '/s/x': '' });
    const refusing = refuseChown(memory, 'EPERM');
    await expect(saveBackup({ fs: refusing, folder: '/s/backups', bytes, now: NOW, keep: 10, owner: { uid: 4242, gid: 4242 }, processUid: 0 })).rejects.toMatchObject({
      code: 'EPERM',
    });
  });

  it('as another user, saves the backup anyway when the OS refuses the owner (EPERM)', async () => {
    const memory = createMemoryFs({ '/s/x': '' });
    const refusing = refuseChown(memory, 'EPERM');
    const path = await saveBackup({ fs: refusing, folder: '/s/backups', bytes, now: NOW, keep: 10, owner: { uid: 4242, gid: 4242 }, processUid: 1000 });
    expect(memory.readFileSync(path, 'utf8')).toBe(bytes.toString());
  });

  describe('on a real file system', () => {
    let home: TempHome;
    beforeEach(async () => {
      home = await createTempHome();
    });
    afterEach(() => home.remove());

    it.runIf(process.getuid?.() === 0)('as root, keeps the owner of the credentials file (hole 6)', async () => {
      const folder = join(home.dir, '.local', 'state', 'keyup', 'backups');
      const path = await saveBackup({ fs: nodeFs, folder, bytes, now: NOW, keep: 10, owner: { uid: 1000, gid: 1000 } });
      for (const made of [path, folder, join(home.dir, '.local')]) {
        const stats = await fs.stat(made);
        expect([made, stats.uid, stats.gid]).toEqual([made, 1000, 1000]);
      }
      expect((await fs.stat(home.dir)).uid).toBe(0);
    });
  });
});

// Found by `npm run bench`: 16 rotations at once pruned the same old copies, one of them met
// ENOENT, its backup was reported failed and its rotation undone.
describe('saveBackup beside another pruning the same folder', () => {
  it('still succeeds when a copy it prunes is already gone', async () => {
    const fs = createMemoryFs({ '/state/backups/credentials-2026-11-20T07-00-00.000Z.bak': 'old' });
    const racing = hookFs(fs, {
      unlink: async (path) => {
        // The other pruner was faster.
        await fs.promises.unlink(path);
        throw createSystemError('ENOENT');
      },
    });
    const path = await saveBackup({ fs: racing, folder: '/state/backups', bytes, now: NOW, keep: 1 });
    expect(fs.readdirSync('/state/backups')).toEqual([path.slice('/state/backups/'.length)]);
  });

  it('is saved even when pruning fails otherwise: tidying is best effort', async () => {
    const fs = createMemoryFs({ '/state/backups/credentials-2026-11-20T07-00-00.000Z.bak': 'old' });
    const stuck = hookFs(fs, { unlink: () => Promise.reject(createSystemError('EACCES')) });
    const path = await saveBackup({ fs: stuck, folder: '/state/backups', bytes, now: NOW, keep: 1 });
    expect(fs.readFileSync(path, 'utf8')).toBe(bytes.toString());
  });
});
