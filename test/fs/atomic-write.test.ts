import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../src/fs/atomic-write.js';
import { ensurePrivateDir } from '../../src/fs/fs.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

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
