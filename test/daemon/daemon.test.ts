/**
 * The daemon's reaction to the AWS files, with a scripted engine and real files in a temp folder:
 * which changes make it check again (anyone else's, even during a check; a reload), and which do
 * not (its own writes). test/e2e/daemon.test.ts proves the same of the real keyupd.
 */
import * as nodeFs from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getDefaultConfig, parseConfig, type KeyupConfig } from '../../src/config/index.js';
import { CredentialsStore } from '../../src/credentials/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { StateStore } from '../../src/daemon/state-store.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Outcome } from '../../src/engine/outcome.js';
import { createLogger } from '../../src/log.js';
import { resolvePaths, type KeyupPaths } from '../../src/paths.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const credentials = (keyId: string) => `# mine\n[default]\naws_access_key_id = ${keyId}\naws_secret_access_key = ${SECRET}\n`;
const OLD = 'AKIAIOSFODNN7EXAMPLE';
const NEW = 'AKIAI44QH8DHBEXAMPLE';
const HAND = 'AKIAJ2QH8DHBEXAMPLE7';

/** An engine whose runs do what the test says, counted; each run's number resolves `runs(n)`. */
function scriptedEngine(script: (run: number) => Promise<void>) {
  let count = 0;
  const waiting = new Map<number, () => void>();
  const engine = {
    run: async (): Promise<Outcome[]> => {
      count++;
      await script(count);
      waiting.get(count)?.();
      return [];
    },
    view: () => [],
    storedViews: () => [],
    setConfig: () => {},
  };
  const runs = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (count >= n) return resolve();
      waiting.set(n, resolve);
      setTimeout(() => reject(new Error(`run ${n} never came (${count} ran)`)), 5_000).unref();
    });
  return { engine: engine as unknown as Engine, runs, count: () => count };
}

describe('Daemon and the AWS files', () => {
  let home: TempHome;
  let paths: KeyupPaths;
  let config: KeyupConfig;

  beforeEach(async () => {
    home = await createTempHome('kdd-');
    paths = resolvePaths({ env: home.env, home: home.dir });
    await nodeFs.promises.mkdir(join(home.dir, '.aws'), { recursive: true });
    await writeFile(paths.credentialsFile, credentials(OLD));
    config = getDefaultConfig(paths.keyupConfigFile, home.env, home.dir);
  });
  afterEach(() => home.remove());

  function createDaemon(engine: Engine, reloadConfig: () => Promise<KeyupConfig> = async () => config) {
    return new Daemon({
      fs: nodeFs,
      paths,
      config,
      logger: createLogger({ level: 'silent' }),
      engine,
      stateStore: new StateStore({ fs: nodeFs, stateDir: paths.stateDir }),
      createScheduler: () => ({ nextCheck: () => null, reschedule: () => {}, stop: () => {} }),
      reloadConfig,
      version: '0.0.0',
      settleRetryMs: 10,
    });
  }

  it('looks again after a check when someone else changed a key while it ran', async () => {
    const scripted = scriptedEngine(async (run) => {
      if (run !== 2) return;
      // The engine has read the file; the person edits it now, and the watcher says so.
      await writeFile(paths.credentialsFile, credentials(HAND));
      await daemon.onFileChange(paths.credentialsFile);
    });
    const daemon = createDaemon(scripted.engine);
    await daemon.start();
    await scripted.runs(1);
    await daemon.check('schedule');
    await scripted.runs(3);
    await daemon.shutdown();
    expect(scripted.count()).toBe(3);
  });

  it("does nothing for keyup's own write during a check", async () => {
    const scripted = scriptedEngine(async (run) => {
      if (run !== 2) return;
      // What the rotator's store does: rewrite the key, and say so.
      const store = new CredentialsStore({ fs: nodeFs, paths, onWritten: (file, fingerprint) => daemon.noteWritten(file, fingerprint) });
      await store.replaceKey(OLD, { accessKeyId: NEW, secretAccessKey: SECRET });
      await daemon.onFileChange(paths.credentialsFile);
    });
    const daemon = createDaemon(scripted.engine);
    await daemon.start();
    await scripted.runs(1);
    await daemon.check('schedule');
    expect(await readFile(paths.credentialsFile, 'utf8')).toContain(NEW);
    // The watcher's late event for that write, too.
    await daemon.onFileChange(paths.credentialsFile);
    await daemon.shutdown();
    expect(scripted.count()).toBe(2);
  });

  it('does nothing for a change that means nothing to keyup (a comment, a region)', async () => {
    const scripted = scriptedEngine(async () => {});
    const daemon = createDaemon(scripted.engine);
    await daemon.start();
    await scripted.runs(1);
    await writeFile(paths.credentialsFile, `${credentials(OLD)}region = eu-west-1\n# another comment\n`);
    await daemon.onFileChange(paths.credentialsFile);
    await daemon.shutdown();
    expect(scripted.count()).toBe(1);
  });

  it('reload re-reads the credentials file: a change the watcher missed is checked', async () => {
    const scripted = scriptedEngine(async () => {});
    const daemon = createDaemon(scripted.engine);
    await daemon.start();
    await scripted.runs(1);
    await writeFile(paths.credentialsFile, credentials(HAND));
    expect(await daemon.reload()).toEqual({ reloaded: true, configError: null });
    await scripted.runs(2);
    await daemon.shutdown();
  });

  it('reload checks at once when the managed profiles changed, even with the files as they were', async () => {
    const scripted = scriptedEngine(async () => {});
    const withWork = parseConfig('[profile default]\n[profile work]\n', paths.keyupConfigFile, home.env, home.dir);
    const daemon = createDaemon(scripted.engine, async () => withWork);
    await daemon.start();
    await scripted.runs(1);
    await daemon.reload();
    await scripted.runs(2);
    await daemon.shutdown();
  });

  it('a reload with nothing changed checks nothing', async () => {
    const scripted = scriptedEngine(async () => {});
    const daemon = createDaemon(scripted.engine);
    await daemon.start();
    await scripted.runs(1);
    await daemon.reload();
    // The reload's look at the credentials file ends before the next request is handled.
    await daemon.onFileChange(paths.credentialsFile);
    await daemon.shutdown();
    expect(scripted.count()).toBe(1);
  });
});

describe('StateStore', () => {
  it('writes only what differs from its last write', async () => {
    const home = await createTempHome('kds-');
    try {
      const store = new StateStore({ fs: nodeFs, stateDir: join(home.dir, 'state') });
      await store.write({ lastCheck: '2026-12-01T07:00:00.000Z', views: [] });
      await rm(store.path);
      await store.write({ lastCheck: '2026-12-01T07:00:00.000Z', views: [] });
      await expect(readFile(store.path)).rejects.toMatchObject({ code: 'ENOENT' });
      await store.write({ lastCheck: '2026-12-02T07:00:00.000Z', views: [] });
      expect(await store.read()).toEqual({ lastCheck: '2026-12-02T07:00:00.000Z', views: [] });
    } finally {
      await home.remove();
    }
  });
});
