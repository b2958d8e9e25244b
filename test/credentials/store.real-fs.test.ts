import * as fs from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsStore } from '../../src/credentials/store.js';
import type { FileHandle, FileSystem } from '../../src/fs/fs.js';
import { resolvePaths } from '../../src/paths.js';
import type { KeyupPaths } from '../../src/paths.js';
import { createSystemError, hookFs, NEW_KEY, OLD_ID, OLD_SECRET } from './support.js';

/** Real files in a fresh temp folder per test, never the real ~/.aws. */
let root: string;
let paths: KeyupPaths;
let awsDir: string;

const credentials = `# comment\r\n[default]\r\naws_access_key_id = ${OLD_ID}\r\naws_secret_access_key = ${OLD_SECRET}\r\n\r\n[ci bot.ü]\r\naws_access_key_id=${OLD_ID}\r\naws_secret_access_key=${OLD_SECRET}`;
const rotated = credentials.replaceAll(OLD_ID, NEW_KEY.accessKeyId).replaceAll(OLD_SECRET, NEW_KEY.secretAccessKey);

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'keyup-credentials-'));
  awsDir = join(root, 'home', '.aws');
  paths = resolvePaths({ env: { XDG_STATE_HOME: join(root, 'state') }, home: join(root, 'home') });
  fs.mkdirSync(awsDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(paths.credentialsFile, credentials, { mode: 0o600 });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function createStore(fsImpl: FileSystem = fs, backup = false): CredentialsStore {
  return new CredentialsStore({ fs: fsImpl, paths, backup });
}

describe('CredentialsStore on a real file system', () => {
  it('rewrites the file and leaves no temp file', async () => {
    expect(await createStore().replaceKey(OLD_ID, NEW_KEY)).toEqual({ changed: ['default', 'ci bot.ü'], changedInConfig: [] });
    expect(await readFile(paths.credentialsFile, 'utf8')).toBe(rotated);
    expect(await readdir(awsDir)).toEqual(['credentials']);
  });

  describe('is atomic', () => {
    it('keeps the original intact and removes the temp file when the rename fails', async () => {
      const failing = hookFs(fs, {
        rename: () => Promise.reject(createSystemError('EIO')),
      });
      await expect(createStore(failing).replaceKey(OLD_ID, NEW_KEY)).rejects.toThrow(/could not write .* \(EIO\), so it left it as it was\./);
      expect(await readFile(paths.credentialsFile, 'utf8')).toBe(credentials);
      expect(await readdir(awsDir)).toEqual(['credentials']);
    });

    it('keeps the original intact when flushing the temp file fails', async () => {
      const failing = hookFs(fs, {
        open: async (path, flags, mode) => {
          const handle = await fs.promises.open(path, flags, mode);
          if (!path.includes('.keyup-')) return handle;
          const broken: FileHandle = {
            writeFile: (data) => handle.writeFile(data),
            chmod: (m) => handle.chmod(m),
            read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
            sync: () => Promise.reject(createSystemError('EIO')),
            datasync: () => Promise.reject(createSystemError('EIO')),
            stat: () => handle.stat(),
            write: (buffer, offset, length, position) => handle.write(buffer, offset, length, position),
            close: () => handle.close(),
          };
          return broken;
        },
      });
      await expect(createStore(failing).replaceKey(OLD_ID, NEW_KEY)).rejects.toThrow(/\(EIO\)/);
      expect(await readFile(paths.credentialsFile, 'utf8')).toBe(credentials);
      expect(await readdir(awsDir)).toEqual(['credentials']);
    });

    it('never lets a reader see a half-written file', async () => {
      const store = createStore();
      const keys = [
        { accessKeyId: OLD_ID, secretAccessKey: OLD_SECRET },
        { accessKeyId: NEW_KEY.accessKeyId, secretAccessKey: NEW_KEY.secretAccessKey },
      ];
      const seen = new Set<string>();
      let writing = true;
      const reader = (async () => {
        while (writing) seen.add(await readFile(paths.credentialsFile, 'utf8'));
      })();
      for (let i = 0; i < 60; i += 1) await store.replaceKey(keys[i % 2]?.accessKeyId ?? '', keys[(i + 1) % 2] ?? NEW_KEY);
      writing = false;
      await reader;
      expect([...seen].every((text) => text === credentials || text === rotated)).toBe(true);
    });
  });

  it.each([
    [0o644, 0o600],
    [0o640, 0o600],
    [0o600, 0o600],
    [0o400, 0o400],
  ])('turns mode %o into %o', async (before, after) => {
    fs.chmodSync(paths.credentialsFile, before);
    await createStore().replaceKey(OLD_ID, NEW_KEY);
    expect(fs.statSync(paths.credentialsFile).mode & 0o777).toBe(after);
  });

  it('writes through a relative chain of links to the real file; the links stay links', async () => {
    const dotfiles = join(root, 'dotfiles');
    fs.mkdirSync(join(dotfiles, 'aws'), { recursive: true });
    fs.renameSync(paths.credentialsFile, join(dotfiles, 'aws', 'credentials'));
    fs.symlinkSync('aws/credentials', join(dotfiles, 'current'));
    fs.symlinkSync('../../dotfiles/current', paths.credentialsFile);
    await createStore().replaceKey(OLD_ID, NEW_KEY);
    expect(fs.lstatSync(paths.credentialsFile).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(join(dotfiles, 'current')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(join(dotfiles, 'aws', 'credentials'), 'utf8')).toBe(rotated);
    expect(await readdir(join(dotfiles, 'aws'))).toEqual(['credentials']);
  });

  it("keeps the user's change made between read and write, and applies the key to it", async () => {
    const userVersion = credentials.replace('[ci bot.ü]', '[added by the user]\r\nregion = eu-west-1\r\n\r\n[ci bot.ü]');
    let edited = false;
    const racing = hookFs(fs, {
      open: async (path, flags, mode) => {
        const handle = await fs.promises.open(path, flags, mode);
        if (!edited && path.includes('.keyup-')) {
          edited = true;
          fs.writeFileSync(paths.credentialsFile, userVersion);
        }
        return handle;
      },
    });
    const result = await createStore(racing).replaceKey(OLD_ID, NEW_KEY);
    expect(edited).toBe(true);
    expect(result.changed).toEqual(['default', 'ci bot.ü']);
    expect(await readFile(paths.credentialsFile, 'utf8')).toBe(userVersion.replaceAll(OLD_ID, NEW_KEY.accessKeyId).replaceAll(OLD_SECRET, NEW_KEY.secretAccessKey));
  });

  it('saves a 0600 backup in a 0700 folder', async () => {
    const result = await createStore(fs, true).replaceKey(OLD_ID, NEW_KEY);
    const backupFile = result.backupFile ?? '';
    expect(fs.readFileSync(backupFile, 'utf8')).toBe(credentials);
    expect(fs.statSync(backupFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(join(paths.stateDir, 'backups')).mode & 0o777).toBe(0o700);
  });

  // Found by `npm run bench`: rotations of different profiles in one process rewrite the same
  // file at once; one rename could undo the other's new key.
  it('two rewrites of one file in one process at once both land', async () => {
    const keys = Array.from({ length: 8 }, (_, index) => ({ id: `AKIAPARALLEL${String(index).padStart(8, '0')}`, secret: `secret${index}`.padEnd(40, 'x') }));
    fs.writeFileSync(paths.credentialsFile, keys.map((key, index) => `[p${index}]\naws_access_key_id = ${key.id}\naws_secret_access_key = ${key.secret}\n`).join('\n'), { mode: 0o600 });
    const fresh = keys.map((_, index) => ({ accessKeyId: `AKIANEWNEWNEW${String(index).padStart(7, '0')}`, secretAccessKey: `new${index}`.padEnd(40, 'n') }));
    await Promise.all(keys.map((key, index) => createStore().replaceKey(key.id, fresh[index]!)));
    const text = await readFile(paths.credentialsFile, "utf8");
    for (const key of fresh) expect(text).toContain(`aws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`);
  });
});
