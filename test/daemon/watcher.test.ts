import { execFile } from 'node:child_process';
import { mkdir, open, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createFileWatcher } from '../../src/daemon/watcher.js';
import type { FileWatcher, FileWatcherInit } from '../../src/daemon/watcher.js';
import { createTempHome } from '../support/temp-home.js';
import type { TempHome } from '../support/temp-home.js';

const SETTLE_MS = 100;
const DEADLINE_MS = 5_000;

/** Every `onChange` in order, and a way to wait for the next ones with a deadline (never a fixed sleep). */
function createRecorder() {
  const calls: string[] = [];
  const waiters = new Set<() => void>();
  return {
    calls,
    onChange(file: string) {
      calls.push(file);
      for (const wake of waiters) wake();
    },
    async waitForCalls(count: number): Promise<string[]> {
      const deadline = Date.now() + DEADLINE_MS;
      while (calls.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} onChange calls within ${DEADLINE_MS} ms, got ${JSON.stringify(calls)}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
      return [...calls];
    },
  };
}

/** Open fs.watch handles: what a watcher holds, and what close() must give back. */
const countFsWatches = () => process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap').length;

/** A closed fs.watch handle is released a turn of the event loop later: wait for it, with a deadline. */
async function waitForFsWatches(expected: number): Promise<number> {
  const deadline = Date.now() + DEADLINE_MS;
  while (countFsWatches() !== expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 0));
  return countFsWatches();
}

describe('createFileWatcher', () => {
  let home: TempHome;
  let aws: string;
  let credentials: string;
  let config: string;
  const watchers: FileWatcher[] = [];
  let baseline: number;

  beforeAll(() => {
    baseline = countFsWatches();
  });

  const start = async (init: Omit<FileWatcherInit, 'onChange'> & { files: string[] }) => {
    const recorder = createRecorder();
    const errors: unknown[] = [];
    const watcher = createFileWatcher({ settleMs: SETTLE_MS, onError: (error) => errors.push(error), ...init, onChange: recorder.onChange });
    watchers.push(watcher);
    await watcher.ready;
    return { ...recorder, watcher, errors };
  };

  beforeEach(async () => {
    home = await createTempHome('keyup-watcher-');
    aws = join(home.dir, '.aws');
    credentials = join(aws, 'credentials');
    config = join(aws, 'config');
    await mkdir(aws);
    await writeFile(credentials, '[default]\n');
    await writeFile(config, '[default]\n');
  });

  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
    // So that the next test counts from the same place.
    expect(await waitForFsWatches(baseline)).toBe(baseline);
    await home.remove();
  });

  it('reports a truncate-then-write in place once, for the right file', async () => {
    const seen = await start({ files: [credentials, config] });
    const file = await open(credentials, 'r+');
    await file.truncate(0);
    await file.write('[default]\naws_access_key_id = AKIA');
    await file.write('EXAMPLE\n');
    await file.close();

    expect(await seen.waitForCalls(1)).toEqual([credentials]);
    // The marker: a change to the other file arrives, and nothing more came before it.
    await writeFile(config, '[profile x]\n');
    expect(await seen.waitForCalls(2)).toEqual([credentials, config]);
    expect(seen.errors).toEqual([]);
  });

  it('reports a burst of writes once', async () => {
    const seen = await start({ files: [credentials, config] });
    for (let i = 0; i < 10; i++) await writeFile(credentials, `[default]\n; write ${i}\n`);

    expect(await seen.waitForCalls(1)).toEqual([credentials]);
    await writeFile(config, '[profile marker]\n');
    expect(await seen.waitForCalls(2)).toEqual([credentials, config]);
  });

  it('reports a file replaced by rename, and nothing for the temp file', async () => {
    const seen = await start({ files: [credentials, config] });
    const temp = join(aws, '.credentials.keyup-tmp');
    await writeFile(temp, '[default]\nreplaced = yes\n');
    await rename(temp, credentials);
    expect(await seen.waitForCalls(1)).toEqual([credentials]);

    // The watch survives the rename: the new file's changes are seen too.
    await writeFile(credentials, '[default]\nwritten = after\n');
    expect(await seen.waitForCalls(2)).toEqual([credentials, credentials]);
  });

  it('reports a file deleted, and again when it is made again', async () => {
    const seen = await start({ files: [credentials] });
    await rm(credentials);
    expect(await seen.waitForCalls(1)).toEqual([credentials]);
    await writeFile(credentials, '[default]\n');
    expect(await seen.waitForCalls(2)).toEqual([credentials, credentials]);
    await writeFile(credentials, '[default]\nagain = 1\n');
    expect(await seen.waitForCalls(3)).toEqual([credentials, credentials, credentials]);
  });

  it('reports nothing for an unrelated file in the same folder', async () => {
    const seen = await start({ files: [credentials, config] });
    await writeFile(join(aws, 'sso-cache.json'), '{}');
    await rename(join(aws, 'sso-cache.json'), join(aws, 'cli-cache.json'));
    await rm(join(aws, 'cli-cache.json'));
    await writeFile(config, '[profile marker]\n');
    expect(await seen.waitForCalls(1)).toEqual([config]);
  });

  it('picks up a folder that does not exist at start, two levels deep', async () => {
    const keyupConfig = join(home.dir, '.config', 'keyup', 'config');
    const seen = await start({ files: [keyupConfig, credentials] });

    // mkdir -p and the write at once: the file may exist before the new folder is watched.
    await mkdir(join(home.dir, '.config', 'keyup'), { recursive: true });
    await writeFile(keyupConfig, '[keyup]\nschedule = 0 8 * * *\n');
    expect(await seen.waitForCalls(1)).toEqual([keyupConfig]);

    await writeFile(keyupConfig, '[keyup]\nschedule = 0 9 * * *\n');
    expect(await seen.waitForCalls(2)).toEqual([keyupConfig, keyupConfig]);
  });

  it('picks up a folder made empty, and the file written into it later', async () => {
    const keyupConfig = join(home.dir, '.config', 'keyup', 'config');
    const seen = await start({ files: [keyupConfig, credentials] });

    await mkdir(join(home.dir, '.config', 'keyup'), { recursive: true });
    // The marker proves the new folder brought no report of its own, and that it is watched by now
    // is what the next report shows.
    await writeFile(credentials, '[default]\nmarker = 1\n');
    expect(await seen.waitForCalls(1)).toEqual([credentials]);
    await writeFile(keyupConfig, '[keyup]\n');
    expect(await seen.waitForCalls(2)).toEqual([credentials, keyupConfig]);
  });

  it('survives its folder being deleted and made again', async () => {
    const seen = await start({ files: [credentials] });
    await rm(aws, { recursive: true });
    expect(await seen.waitForCalls(1)).toEqual([credentials]);

    await mkdir(aws);
    await writeFile(credentials, '[default]\n');
    expect(await seen.waitForCalls(2)).toEqual([credentials, credentials]);
  });

  describe('a credentials file that is a link into a dotfiles repo', () => {
    let dotfiles: string;
    let target: string;

    beforeEach(async () => {
      dotfiles = join(home.dir, 'dotfiles', 'aws');
      target = join(dotfiles, 'credentials');
      await mkdir(dotfiles, { recursive: true });
      await writeFile(target, '[default]\n');
      await rm(credentials);
      await symlink(target, credentials);
    });

    it('reports a change to the target made in place, under the link’s path', async () => {
      const seen = await start({ files: [credentials, config] });
      await writeFile(target, '[default]\nin = place\n');
      expect(await seen.waitForCalls(1)).toEqual([credentials]);
    });

    it('reports the target replaced by an editor’s rename, and keeps watching the new one', async () => {
      const seen = await start({ files: [credentials, config] });
      await writeFile(join(dotfiles, '.credentials.swp-new'), '[default]\nby = rename\n');
      await rename(join(dotfiles, '.credentials.swp-new'), target);
      expect(await seen.waitForCalls(1)).toEqual([credentials]);
      await writeFile(target, '[default]\nthen = in place\n');
      expect(await seen.waitForCalls(2)).toEqual([credentials, credentials]);
    });

    it('follows the link when it is pointed elsewhere, and forgets the old target', async () => {
      const seen = await start({ files: [credentials, config] });
      const other = join(home.dir, 'elsewhere', 'credentials');
      await mkdir(join(home.dir, 'elsewhere'));
      await writeFile(other, '[default]\nother = 1\n');
      // ln -sfn: a new link renamed over the old one.
      await symlink(other, join(aws, '.credentials.link-tmp'));
      await rename(join(aws, '.credentials.link-tmp'), credentials);
      expect(await seen.waitForCalls(1)).toEqual([credentials]);

      await writeFile(other, '[default]\nother = 2\n');
      expect(await seen.waitForCalls(2)).toEqual([credentials, credentials]);

      // The old target is nothing to keyup now: only the marker arrives.
      await writeFile(target, '[default]\nold = target\n');
      await writeFile(config, '[profile marker]\n');
      expect(await seen.waitForCalls(3)).toEqual([credentials, credentials, config]);
    });

    it('reports the link pointed at nothing, a file gone as far as readers can tell', async () => {
      const seen = await start({ files: [credentials, config] });
      await symlink(join(home.dir, 'nowhere', 'credentials'), join(aws, '.credentials.link-tmp'));
      await rename(join(aws, '.credentials.link-tmp'), credentials);
      expect(await seen.waitForCalls(1)).toEqual([credentials]);
    });

    it('reports a dangling link’s target when it is made', async () => {
      await rm(target);
      const seen = await start({ files: [credentials] });
      await writeFile(target, '[default]\nmade = now\n');
      expect(await seen.waitForCalls(1)).toEqual([credentials]);
    });
  });

  it('watches many files of one folder with one folder watch, and each change reaches its file', async () => {
    const before = countFsWatches();
    const files = ['credentials', 'config', 'third'].map((name) => join(aws, name));
    await Promise.all(Array.from({ length: 50 }, (_, i) => writeFile(join(aws, `unrelated-${i}`), 'x')));
    const seen = await start({ files });
    // The folder, and each watched file chokidar also watches: never the 50 others.
    expect(countFsWatches() - before).toBeLessThanOrEqual(1 + files.length);

    for (const [index, file] of files.entries()) {
      await writeFile(file, `change ${index}\n`);
      expect((await seen.waitForCalls(index + 1)).at(-1)).toBe(file);
    }
    expect(seen.calls).toEqual(files);
  });

  it('gives onChange’s errors to onError', async () => {
    const errors: unknown[] = [];
    const failure = new Error('reload failed');
    const recorder = createRecorder();
    const watcher = createFileWatcher({
      files: [credentials],
      settleMs: SETTLE_MS,
      onChange: async (file) => {
        recorder.onChange(file);
        throw failure;
      },
      onError: (error) => errors.push(error),
    });
    watchers.push(watcher);
    await watcher.ready;
    await writeFile(credentials, '[default]\nx = 1\n');
    await recorder.waitForCalls(1);
    await watcher.close();
    expect(errors).toEqual([failure]);
  });

  it('stops everything on close: no more calls, no watch left open', async () => {
    const before = countFsWatches();
    const closing = await start({ files: [credentials, config] });
    expect(countFsWatches()).toBeGreaterThan(before);
    // An observer that settles later than the closed watcher would: had close() left anything
    // running, its call would come first.
    const observer = await start({ files: [credentials], settleMs: 4 * SETTLE_MS });

    await writeFile(credentials, '[default]\nbefore = close\n');
    await closing.waitForCalls(1);
    await observer.waitForCalls(1);
    // A change pending when close() is called is dropped too.
    await writeFile(credentials, '[default]\npending = at close\n');
    await closing.watcher.close();
    await writeFile(credentials, '[default]\nafter = close\n');
    await observer.waitForCalls(2);
    expect(closing.calls).toEqual([credentials]);

    await observer.watcher.close();
    expect(await waitForFsWatches(before)).toBe(before);
  });

  it('lets a process exit by itself after close()', async () => {
    const watcherModule = pathToFileURL(join(inject('buildDir'), 'src', 'daemon', 'watcher.js')).href;
    const script = `
      import { writeFile } from 'node:fs/promises';
      const { createFileWatcher } = await import(${JSON.stringify(watcherModule)});
      const file = ${JSON.stringify(credentials)};
      let changed;
      const seen = new Promise((resolve) => { changed = resolve; });
      const watcher = createFileWatcher({ files: [file, ${JSON.stringify(join(home.dir, '.config', 'keyup', 'config'))}], onChange: changed, settleMs: 50 });
      await watcher.ready;
      await writeFile(file, 'changed');
      console.log('changed', await seen);
      await watcher.close();
    `;
    // No process.exit() in the script: it ends only if nothing is left holding the event loop.
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    expect(stdout.trim()).toBe(`changed ${credentials}`);
  });
});
