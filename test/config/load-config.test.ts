import { execFileSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume, createFsFromVolume } from 'memfs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ConfigError, KeyupError } from '../../src/errors.js';
import { MAX_CONFIG_BYTES, loadConfig } from '../../src/config/load-config.js';
import type { SettingKey } from '../../src/config/settings.js';
import type { BoundedReadFileSystem } from '../../src/fs/read-file.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

const HOME = '/home/alice';
const FILE = '/home/alice/.config/keyup/config';
const ALL_SUPPORTED = new Set<SettingKey>();

/** A hang is the failure the real-file tests look for: each must answer well within this. */
const QUICK = { timeout: 3_000 };

function memfs(files: Record<string, string>): { fs: BoundedReadFileSystem; vol: Volume } {
  const vol = Volume.fromJSON(files);
  return { vol, fs: createFsFromVolume(vol) };
}

/** A file system whose every open fails with `cause`. */
function failingFs(cause: Error): BoundedReadFileSystem {
  return { constants: nodeFs.constants, promises: { open: () => Promise.reject(cause), stat: () => Promise.reject(cause) } };
}

async function rejectionOf(promise: Promise<unknown>): Promise<KeyupError> {
  const error: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (reason: unknown) => reason,
  );
  if (error instanceof KeyupError) return error;
  throw error;
}

describe('loadConfig', () => {
  test('reads and parses the file at path', async () => {
    const { fs } = memfs({ [FILE]: '[keyup]\r\nmax_age_days = 30 ; monthly\r\n' });
    const config = await loadConfig({ path: FILE, env: {}, home: HOME, fs, unsupportedKeys: ALL_SUPPORTED });
    expect(config).toMatchObject({ file: FILE, found: true, daemon: { maxAgeDays: 30 } });
    expect(config.daemonSources.maxAgeDays).toEqual({ kind: 'file', file: FILE, line: 2, section: 'keyup' });
  });

  test('a missing file means all defaults', async () => {
    const { fs } = memfs({ '/home/alice/.aws/credentials': '' });
    const config = await loadConfig({ path: FILE, env: { AWS_PROFILE: 'work' }, home: HOME, fs });
    expect(config.found).toBe(false);
    expect(config.daemon.schedule).toBe('0 7 * * *');
    expect(config.profiles.map((profile) => profile.name)).toEqual(['work']);
  });

  test('a bad line is a ConfigError naming the file and the line', async () => {
    const { fs } = memfs({ [FILE]: '[keyup]\nmax_age_days = ninety\n' });
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, fs }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${FILE}, line 2: max_age_days must be a number of days from 0 to 36500, not 'ninety'.`);
    expect(error.exitCode).toBe(2);
  });

  test('an unreadable file is an error that says the fix', async () => {
    const { fs, vol } = memfs({ [FILE]: '[keyup]\n' });
    vol.chmodSync(FILE, 0o000);
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, fs }));
    expect(error.userMessage).toBe(`${FILE} cannot be read: permission denied. Make it readable by you, for example with chmod 600 ${FILE}.`);
    expect(error.exitCode).toBe(2);
    expect(error.cause).toMatchObject({ code: 'EACCES' });
  });

  test('a folder at the path is an error', async () => {
    const { fs } = memfs({ [`${FILE}/inside`]: '' });
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, fs }));
    expect(error.userMessage).toBe(`${FILE} is a folder, not a keyup configuration file. Point --config or $KEYUP_CONFIG at a file, or move the folder away.`);
    expect(error.exitCode).toBe(2);
  });

  test('a file where a folder should be is an error, not a missing file', async () => {
    const { fs } = memfs({ '/home/alice/.config/keyup': 'a file' });
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, fs }));
    expect(error.message).toBe(`${FILE} cannot be read: part of that path is a file, not a folder.`);
  });

  test('any other read error keeps its code and cause', async () => {
    const cause = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, fs: failingFs(cause) }));
    expect(error.message).toBe(`${FILE} cannot be read (EIO).`);
    expect(error.cause).toBe(cause);
  });

  test('bytes are read as UTF-8', async () => {
    const { fs } = memfs({ [FILE]: '[profile café]\n' });
    const config = await loadConfig({ path: FILE, env: {}, home: HOME, fs });
    expect(config.profiles[0]?.name).toBe('café');
  });

  test('node:fs is the default', async () => {
    const config = await loadConfig({ path: '/nonexistent/keyup/config', env: {}, home: HOME });
    expect(config.found).toBe(false);
  });
});

// Issue 8, item 9, and SPEC: "a path given by --config or $KEYUP_CONFIG that does not exist is a
// configuration error"; it used to give every default, silently.
describe('a config file named by --config or $KEYUP_CONFIG', () => {
  test('that does not exist is a configuration error', async () => {
    const { fs } = memfs({ '/home/alice/.aws/credentials': '' });
    const error = await rejectionOf(loadConfig({ path: FILE, explicit: true, env: {}, home: HOME, fs }));
    expect(error.userMessage).toBe(
      `The keyup configuration file ${FILE}, named by --config or $KEYUP_CONFIG, does not exist. Create it, or correct the path given to --config or in $KEYUP_CONFIG.`,
    );
    expect(error).toMatchObject({ exitCode: 2, code: 'config-invalid', cause: { code: 'ENOENT' } });
  });

  test('that exists is read as any other', async () => {
    const { fs } = memfs({ [FILE]: '[keyup]\nmax_age_days = 30\n' });
    const config = await loadConfig({ path: FILE, explicit: true, env: {}, home: HOME, fs });
    expect(config).toMatchObject({ found: true, daemon: { maxAgeDays: 30 } });
  });

  test('explicit: false keeps the default place\'s all-defaults', async () => {
    const { fs } = memfs({});
    expect((await loadConfig({ path: FILE, explicit: false, env: {}, home: HOME, fs })).found).toBe(false);
  });
});

// Issue 7, hole 9: a FIFO or /dev/zero as keyup's config hung keyupd forever.
describe('what is not a config file is refused at once, on a real file system', () => {
  let home: TempHome;
  let fifo: string | undefined;
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(async () => {
    // Frees a reader stuck in a blocking open, should the code under test ever regress to one.
    if (fifo !== undefined) nodeFs.closeSync(nodeFs.openSync(fifo, nodeFs.constants.O_RDWR | nodeFs.constants.O_NONBLOCK));
    fifo = undefined;
    await home.remove();
  });

  test('a FIFO given as the config', QUICK, async () => {
    fifo = join(home.dir, 'config');
    execFileSync('mkfifo', [fifo]);
    const error = await rejectionOf(loadConfig({ path: fifo, explicit: true, env: home.env, home: home.dir }));
    expect(error.userMessage).toBe(`${fifo} is a named pipe (FIFO), not a keyup configuration file. Point --config or $KEYUP_CONFIG at a keyup configuration file.`);
    expect(error.exitCode).toBe(2);
  });

  test('a FIFO at the default place', QUICK, async () => {
    // Where temp-home's $XDG_CONFIG_HOME puts it.
    fifo = join(home.dir, '.config', 'keyup', 'config');
    await mkdir(join(home.dir, '.config', 'keyup'), { recursive: true });
    execFileSync('mkfifo', [fifo]);
    const error = await rejectionOf(loadConfig({ path: fifo, env: home.env, home: home.dir }));
    expect(error.hint).toBe(`Point --config or $KEYUP_CONFIG at a keyup configuration file, or put one in place of ${fifo}.`);
    expect(error.exitCode).toBe(2);
  });

  test('/dev/zero given as the config', QUICK, async () => {
    const error = await rejectionOf(loadConfig({ path: '/dev/zero', explicit: true, env: home.env, home: home.dir }));
    expect(error.message).toBe('/dev/zero is a device, not a keyup configuration file.');
    expect(error.exitCode).toBe(2);
  });

  test('a folder given as the config', QUICK, async () => {
    const error = await rejectionOf(loadConfig({ path: home.dir, explicit: true, env: home.env, home: home.dir }));
    expect(error.userMessage).toBe(`${home.dir} is a folder, not a keyup configuration file. Point --config or $KEYUP_CONFIG at a file, or move the folder away.`);
    expect(error.exitCode).toBe(2);
  });

  test('a file over 1 MiB given as the config', QUICK, async () => {
    const path = join(home.dir, 'huge');
    await writeFile(path, '');
    await truncate(path, 64 * MAX_CONFIG_BYTES);
    const error = await rejectionOf(loadConfig({ path, explicit: true, env: home.env, home: home.dir }));
    expect(error.userMessage).toBe(
      `${path} is larger than 1 MiB, far too large to be a keyup configuration file. Point --config or $KEYUP_CONFIG at a keyup configuration file (a few lines of INI).`,
    );
    expect(error.exitCode).toBe(2);
  });

  test('a file of 1 MiB is still read', QUICK, async () => {
    const path = join(home.dir, 'padded');
    const head = '[keyup]\nmax_age_days = 30\n';
    await writeFile(path, head + ';'.repeat(MAX_CONFIG_BYTES - head.length));
    expect((await loadConfig({ path, explicit: true, env: home.env, home: home.dir })).daemon.maxAgeDays).toBe(30);
  });
});
