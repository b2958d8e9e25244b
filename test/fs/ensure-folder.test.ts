import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyupError } from '../../src/errors.js';
import { ensureFolder } from '../../src/fs/ensure-folder.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

const modeOf = async (path: string) => (await fs.stat(path)).mode & 0o7777;

/** Runs `action` under `mask`, and puts the umask back whatever happens. */
async function withUmask<T>(mask: number, action: () => Promise<T>): Promise<T> {
  const before = process.umask(mask);
  try {
    return await action();
  } finally {
    process.umask(before);
  }
}

describe('ensureFolder', () => {
  let home: TempHome;
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(() => home.remove());

  it('makes every missing level 0700, whatever the umask', async () => {
    const dir = join(home.dir, 'a', 'b', 'c');
    // 0277 would leave 0500 folders, 0 would leave them as asked: both end 0700.
    await withUmask(0o277, () => ensureFolder(nodeFs, dir));
    for (const folder of [join(home.dir, 'a'), join(home.dir, 'a', 'b'), dir]) expect(await modeOf(folder)).toBe(0o700);
    await withUmask(0, () => ensureFolder(nodeFs, join(dir, 'd')));
    expect(await modeOf(join(dir, 'd'))).toBe(0o700);
  });

  // Issue 7, hole 5: `log_file = ~/keyupd.log` made HOME 0700, a 1777 folder lost its sticky bit.
  it('leaves an existing folder exactly as it is: 0755, 1777, 0777', async () => {
    for (const mode of [0o755, 0o1777, 0o777]) {
      const dir = join(home.dir, `m${mode.toString(8)}`);
      await fs.mkdir(dir);
      await fs.chmod(dir, mode);
      await ensureFolder(nodeFs, dir);
      expect(await modeOf(dir)).toBe(mode);
    }
  });

  it('makes the missing folders below an existing one and leaves that one alone (hole 5)', async () => {
    const shared = join(home.dir, 'shared');
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o1777);
    await ensureFolder(nodeFs, join(shared, 'keyup', 'logs'));
    expect(await modeOf(shared)).toBe(0o1777);
    expect(await modeOf(join(shared, 'keyup'))).toBe(0o700);
    expect(await modeOf(join(shared, 'keyup', 'logs'))).toBe(0o700);
  });

  it('leaves a symlinked folder and its target alone', async () => {
    const real = join(home.dir, 'real');
    await fs.mkdir(real, { mode: 0o755 });
    await fs.chmod(real, 0o755);
    await fs.symlink(real, join(home.dir, 'link'));
    await ensureFolder(nodeFs, join(home.dir, 'link'));
    expect(await modeOf(real)).toBe(0o755);
  });

  it('names a file that stands where the folder should be', async () => {
    const file = join(home.dir, 'logs');
    await fs.writeFile(file, 'not a folder');
    const error = await ensureFolder(nodeFs, file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyupError);
    expect((error as KeyupError).message).toBe(`Cannot make the folder ${file}: ${file} is in the way and is not a folder.`);
    expect((error as KeyupError).hint).toContain(file);
  });

  it('names a file that stands where a parent folder should be', async () => {
    const file = join(home.dir, 'logs');
    await fs.writeFile(file, 'not a folder');
    const error = await ensureFolder(nodeFs, join(file, 'keyup', 'deeper')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyupError);
    expect((error as KeyupError).message).toBe(`Cannot make the folder ${join(file, 'keyup', 'deeper')}: ${file} is in the way and is not a folder.`);
  });

  it('names a symlink to nowhere that stands where the folder should be', async () => {
    const link = join(home.dir, 'dangling');
    await fs.symlink(join(home.dir, 'nowhere'), link);
    const error = await ensureFolder(nodeFs, link).catch((caught: unknown) => caught);
    expect((error as KeyupError).message).toBe(`Cannot make the folder ${link}: ${link} is in the way and is not a folder.`);
  });

  it('says in words why a folder cannot be made', async () => {
    // Root may write anywhere; a read-only fake stands in for a folder it may not.
    const denied = Object.assign(new Error('EACCES: permission denied, mkdir'), { code: 'EACCES' });
    const readOnly = { constants: nodeFs.constants, promises: { ...nodeFs.promises, mkdir: () => Promise.reject(denied) } };
    const error = await ensureFolder(readOnly, join(home.dir, 'x')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyupError);
    expect((error as KeyupError).message).toBe(`Cannot make the folder ${join(home.dir, 'x')}: permission denied.`);
    expect((error as KeyupError).cause).toBe(denied);
  });
});
