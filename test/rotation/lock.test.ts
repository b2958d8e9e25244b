import { describe, expect, it } from 'vitest';
import { RotationLock } from '../../src/rotation/lock.js';
import { createMemoryFs } from '../support/memfs.js';

const now = () => new Date('2026-11-24T07:00:00Z');

describe('RotationLock', () => {
  it('lets one process rotate at a time and names the holder to the other', async () => {
    const { fs } = createMemoryFs();
    const alive = new Set([100, 200]);
    const first = new RotationLock({ fs, stateDir: '/state', pid: 100, now, isAlive: (pid) => alive.has(pid) });
    const second = new RotationLock({ fs, stateDir: '/state', pid: 200, now, isAlive: (pid) => alive.has(pid) });
    const held = await first.acquire('default');
    await expect(second.acquire('work')).rejects.toThrow('Another keyup process (pid 100) has been rotating profile default since 2026-11-24T07:00:00.000Z.');
    await held.release();
    const next = await second.acquire('work');
    await next.release();
  });

  it('takes over the lock of a process that was killed', async () => {
    const { fs } = createMemoryFs();
    await new RotationLock({ fs, stateDir: '/state', pid: 100, now, isAlive: () => true }).acquire('default');
    const survivor = new RotationLock({ fs, stateDir: '/state', pid: 200, now, isAlive: (pid) => pid === 200 });
    await expect(survivor.acquire('default')).resolves.toBeDefined();
  });

  it('takes over a lock older than any rotation can last, in case its pid was reused', async () => {
    const { fs } = createMemoryFs();
    await new RotationLock({ fs, stateDir: '/state', pid: 100, now, isAlive: () => true }).acquire('default');
    const later = () => new Date('2026-11-24T08:00:00Z');
    const next = new RotationLock({ fs, stateDir: '/state', pid: 200, now: later, isAlive: () => true, staleAfterMs: 30 * 60_000 });
    await expect(next.acquire('default')).resolves.toBeDefined();
  });

  it('does not release a lock another process took over', async () => {
    const { fs, vol } = createMemoryFs();
    const held = await new RotationLock({ fs, stateDir: '/state', pid: 100, now, isAlive: () => false }).acquire('default');
    await new RotationLock({ fs, stateDir: '/state', pid: 200, now, isAlive: (pid) => pid === 200 }).acquire('default');
    await held.release();
    expect(JSON.parse(vol.readFileSync('/state/rotation.lock', 'utf8') as string)).toMatchObject({ pid: 200 });
  });
});

describe('RotationLock taking over a stale lock', () => {
  it('never removes a fresh lock that another process put in place of the stale one', async () => {
    const { fs, vol } = createMemoryFs();
    const alive = new Set([200, 300]);
    const isAlive = (pid: number) => alive.has(pid);
    // A lock left by pid 100, which died.
    await new RotationLock({ fs, stateDir: '/state', pid: 100, now, isAlive: () => true }).acquire('default');
    const b = new RotationLock({ fs, stateDir: '/state', pid: 300, now, isAlive });
    // Between B reading the stale lock and removing it, C removes it and takes the lock.
    let raced = false;
    const race = async (path: string) => {
      if (raced || path !== '/state/rotation.lock') return;
      raced = true;
      vol.unlinkSync('/state/rotation.lock');
      await new RotationLock({ fs, stateDir: '/state', pid: 200, now, isAlive }).acquire('work');
    };
    const { rename, unlink } = fs.promises;
    fs.promises.rename = async (from: string, to: string) => (await race(from), rename(from, to));
    fs.promises.unlink = async (path: string) => (await race(path), unlink(path));
    await expect(b.acquire('default')).rejects.toThrow('Another keyup process (pid 200) has been rotating profile work');
    expect(JSON.parse(vol.readFileSync('/state/rotation.lock', 'utf8') as string)).toMatchObject({ pid: 200 });
    expect(vol.readdirSync('/state')).toEqual(['rotation.lock']);
  });
});
