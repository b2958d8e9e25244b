import { readFile } from 'node:fs/promises';
import { Volume } from 'memfs';
import { describe, expect, test } from 'vitest';
import { ConfigError, KeyupError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { ReadTextFile } from '../../src/config/load-config.js';
import type { SettingKey } from '../../src/config/settings.js';

const HOME = '/home/alice';
const FILE = '/home/alice/.config/keyup/config';
const ALL_SUPPORTED = new Set<SettingKey>();

function memfs(files: Record<string, string>): { readFile: ReadTextFile; vol: Volume } {
  const vol = Volume.fromJSON(files);
  return { vol, readFile: (path, encoding) => vol.promises.readFile(path, encoding) as Promise<string> };
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
    const { readFile } = memfs({ [FILE]: '[keyup]\r\nmax_age_days = 30 ; monthly\r\n' });
    const config = await loadConfig({ path: FILE, env: {}, home: HOME, readFile, unsupportedKeys: ALL_SUPPORTED });
    expect(config).toMatchObject({ file: FILE, found: true, daemon: { maxAgeDays: 30 } });
    expect(config.daemonSources.maxAgeDays).toEqual({ kind: 'file', file: FILE, line: 2, section: 'keyup' });
  });

  test('a missing file means all defaults', async () => {
    const { readFile } = memfs({ '/home/alice/.aws/credentials': '' });
    const config = await loadConfig({ path: FILE, env: { AWS_PROFILE: 'work' }, home: HOME, readFile });
    expect(config.found).toBe(false);
    expect(config.daemon.schedule).toBe('0 7 * * *');
    expect(config.profiles.map((profile) => profile.name)).toEqual(['work']);
  });

  test('a bad line is a ConfigError naming the file and the line', async () => {
    const { readFile } = memfs({ [FILE]: '[keyup]\nmax_age_days = ninety\n' });
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, readFile }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${FILE}, line 2: max_age_days must be a number of days ≥ 0, not 'ninety'.`);
    expect(error.exitCode).toBe(2);
  });

  test('an unreadable file is an error that says the fix', async () => {
    const { readFile, vol } = memfs({ [FILE]: '[keyup]\n' });
    vol.chmodSync(FILE, 0o000);
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, readFile }));
    expect(error.userMessage).toBe(`${FILE} cannot be read: permission denied. Make it readable by you, for example with chmod 600 ${FILE}.`);
    expect(error.exitCode).toBe(2);
    expect(error.cause).toMatchObject({ code: 'EACCES' });
  });

  test('a folder at the path is an error', async () => {
    const { readFile } = memfs({ [`${FILE}/inside`]: '' });
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, readFile }));
    expect(error.userMessage).toBe(`${FILE} is a folder, not a keyup configuration file. Point --config or $KEYUP_CONFIG at a file, or move the folder away.`);
    expect(error.exitCode).toBe(2);
  });

  test('a file where a folder should be is an error, not a missing file', async () => {
    const { readFile } = memfs({ '/home/alice/.config/keyup': 'a file' });
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, readFile }));
    expect(error.message).toBe(`${FILE} cannot be read: part of that path is a file, not a folder.`);
  });

  test('any other read error keeps its code and cause', async () => {
    const cause = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    const error = await rejectionOf(loadConfig({ path: FILE, env: {}, home: HOME, readFile: () => Promise.reject(cause) }));
    expect(error.message).toBe(`${FILE} cannot be read (EIO).`);
    expect(error.cause).toBe(cause);
  });

  test('bytes are read as UTF-8', async () => {
    const bytes = new TextEncoder().encode('[profile café]\n');
    const config = await loadConfig({ path: FILE, env: {}, home: HOME, readFile: () => Promise.resolve(bytes) });
    expect(config.profiles[0]?.name).toBe('café');
  });

  test('node:fs/promises readFile fits the injected reader', async () => {
    const config = await loadConfig({ path: '/nonexistent/keyup/config', env: {}, home: HOME, readFile });
    expect(config.found).toBe(false);
  });
});
