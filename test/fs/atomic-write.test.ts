import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir, writeFileAtomic } from '../../src/fs/atomic-write.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

describe('writeFileAtomic on a real file system', () => {
  let home: TempHome;
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(() => home.remove());

  it('replaces the file with mode 0600 and leaves no temp file', async () => {
    const path = join(home.dir, 'state.json');
    await fs.writeFile(path, 'old');
    await writeFileAtomic(fs, path, 'new');
    expect(await fs.readFile(path, 'utf8')).toBe('new');
    expect((await fs.stat(path)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(home.dir)).toEqual(['state.json']);
  });

  it('keeps the old contents and removes the temp file when it fails before the rename', async () => {
    const path = join(home.dir, 'state.json');
    await fs.writeFile(path, 'old');
    const crash = writeFileAtomic(fs, path, 'new', {
      beforeRename: () => {
        throw new Error('power cut');
      },
    });
    await expect(crash).rejects.toThrow('power cut');
    expect(await fs.readFile(path, 'utf8')).toBe('old');
    expect(await fs.readdir(home.dir)).toEqual(['state.json']);
  });

  it('makes private folders and tightens a loose one', async () => {
    const dir = join(home.dir, 'a', 'b');
    await ensurePrivateDir(fs, dir);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    await fs.chmod(dir, 0o755);
    await ensurePrivateDir(fs, dir);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
  });
});
