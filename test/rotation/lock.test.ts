import { describe, expect, it } from 'vitest';
import { KeyLocks, readLinuxProcessStart, type KeyLocksInit } from '../../src/rotation/lock.js';
import { createMemoryFs } from '../support/memfs.js';

const now = () => new Date('2026-11-24T07:00:00Z');
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const OTHER_KEY = 'AKIAI44QH8DHBEXAMPLE';
const LOCK = `/state/locks/${KEY}.lock`;

type Fs = ReturnType<typeof createMemoryFs>['fs'];

/** A process's view: its pid, which pids run, and when each started (Linux's /proc). */
function locksOf(fs: Fs, pid: number, world: { alive: Set<number>; started?: Map<number, string> }, extra: Partial<KeyLocksInit> = {}): KeyLocks {
  return new KeyLocks({
    fs,
    stateDir: '/state',
    pid,
    now,
    isAlive: (other) => world.alive.has(other),
    readProcessStart: async (other) => world.started?.get(other),
    ...extra,
  });
}

const held = async (locks: KeyLocks, key: string, profile: string) => {
  const result = await locks.acquire(key, profile);
  if (!('held' in result)) throw new Error(`expected the lock, got ${JSON.stringify(result)}`);
  return result.held;
};

describe('KeyLocks', () => {
  it('lets one process rotate a key at a time and names the holder to the other', async () => {
    const { fs } = createMemoryFs();
    const world = { alive: new Set([100, 200]) };
    const first = await held(locksOf(fs, 100, world), KEY, 'default');
    expect(await locksOf(fs, 200, world).acquire(KEY, 'copy')).toEqual({ busy: { pid: 100, profile: 'default', since: '2026-11-24T07:00:00.000Z' } });
    await first.release();
    await (await held(locksOf(fs, 200, world), KEY, 'copy')).release();
  });

  it('lets two processes rotate two different keys at once', async () => {
    const { fs } = createMemoryFs();
    const world = { alive: new Set([100, 200]) };
    const a = await held(locksOf(fs, 100, world), KEY, 'default');
    const b = await held(locksOf(fs, 200, world), OTHER_KEY, 'work');
    await a.release();
    await b.release();
  });

  it('takes over the lock of a process that was killed', async () => {
    const { fs } = createMemoryFs();
    await held(locksOf(fs, 100, { alive: new Set([100]) }), KEY, 'default');
    await expect(held(locksOf(fs, 200, { alive: new Set([200]) }), KEY, 'default')).resolves.toBeDefined();
  });

  it('takes over a lock whose pid runs again as another process: its start time differs (Linux)', async () => {
    const { fs } = createMemoryFs();
    await held(locksOf(fs, 100, { alive: new Set([100]), started: new Map([[100, '5000']]) }), KEY, 'default');
    // After a reboot pid 100 is someone else, started at another moment.
    const world = { alive: new Set([100, 200]), started: new Map([[100, '777'], [200, '900']]) };
    await expect(held(locksOf(fs, 200, world), KEY, 'default')).resolves.toBeDefined();
  });

  it('leaves the lock of a live holder alone however old it is, when start times prove it is the same process', async () => {
    const { fs } = createMemoryFs();
    const world = { alive: new Set([100, 200]), started: new Map([[100, '5000'], [200, '6000']]) };
    await held(locksOf(fs, 100, world), KEY, 'default');
    const later = () => new Date('2026-11-24T09:00:00Z');
    expect(await locksOf(fs, 200, world, { now: later }).acquire(KEY, 'default')).toMatchObject({ busy: { pid: 100 } });
  });

  it('without start times, takes over a lock older than any rotation can last, in case its pid was reused', async () => {
    const { fs } = createMemoryFs();
    await held(locksOf(fs, 100, { alive: new Set([100]) }), KEY, 'default');
    const later = () => new Date('2026-11-24T08:00:00Z');
    await expect(held(locksOf(fs, 200, { alive: new Set([100, 200]) }, { now: later, staleAfterMs: 30 * 60_000 }), KEY, 'default')).resolves.toBeDefined();
  });

  it('takes over a lock with its own pid that it does not hold (a container’s pid 1 after a restart)', async () => {
    const { fs } = createMemoryFs();
    await held(locksOf(fs, 1, { alive: new Set([1]) }), KEY, 'default');
    // The same process now holds it: not stale.
    expect(await locksOf(fs, 1, { alive: new Set([1]) }).acquire(KEY, 'default')).toMatchObject({ busy: { pid: 1 } });
  });

  it('releases only with its own token: a lock another process took over stays', async () => {
    const { fs, vol } = createMemoryFs();
    const stale = await held(locksOf(fs, 100, { alive: new Set([]) }), KEY, 'default');
    await held(locksOf(fs, 200, { alive: new Set([200]) }), KEY, 'default');
    await stale.release();
    expect(JSON.parse(vol.readFileSync(LOCK, 'utf8') as string)).toMatchObject({ pid: 200 });
  });

  it('never removes a fresh lock that another process put in place of the stale one', async () => {
    const { fs, vol } = createMemoryFs();
    const world = { alive: new Set([200, 300]) };
    // A lock left by pid 100, which died.
    await held(locksOf(fs, 100, { alive: new Set([100]) }), KEY, 'default');
    const b = locksOf(fs, 300, world);
    // Between B reading the stale lock and removing it, C removes it and takes the lock.
    let raced = false;
    const race = async (path: string) => {
      if (raced || path !== LOCK) return;
      raced = true;
      vol.unlinkSync(LOCK);
      await held(locksOf(fs, 200, world), KEY, 'work');
    };
    const { rename, unlink } = fs.promises;
    fs.promises.rename = async (from: string, to: string) => (await race(from), rename(from, to));
    fs.promises.unlink = async (path: string) => (await race(path), unlink(path));
    expect(await b.acquire(KEY, 'default')).toMatchObject({ busy: { pid: 200, profile: 'work' } });
    expect(JSON.parse(vol.readFileSync(LOCK, 'utf8') as string)).toMatchObject({ pid: 200 });
    expect(vol.readdirSync('/state/locks')).toEqual([`${KEY}.lock`]);
  });

  it('names a lock after its key id, and after a hash of anything not shaped like one (no path in a file name)', () => {
    const locks = locksOf(createMemoryFs().fs, 100, { alive: new Set([100]) });
    expect(locks.pathOf(KEY)).toBe(LOCK);
    for (const odd of ['../../etc/passwd', 'akiaiosfodnn7example', 'AKIA']) expect(locks.pathOf(odd)).toMatch(/^\/state\/locks\/~[0-9a-f]{40}\.lock$/);
  });
});

describe.runIf(process.platform === 'linux')('readLinuxProcessStart', () => {
  it('reads a running process’s start time, the same each time, and nothing for a pid that does not run', async () => {
    const mine = await readLinuxProcessStart(process.pid);
    expect(mine).toMatch(/^\d+$/);
    expect(await readLinuxProcessStart(process.pid)).toBe(mine);
    expect(await readLinuxProcessStart(2 ** 30)).toBeUndefined();
  });
});
