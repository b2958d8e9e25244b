import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchSocketFolder } from '../../src/ipc/watch-socket-folder.js';

const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise.then(() => 'changed'), new Promise((resolve) => setTimeout(() => resolve('no change'), ms))]);

describe('watchSocketFolder', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fires when a socket is bound in its folder', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-'));
    const socket = join(dir, 'keyupd.sock');
    const watch = watchSocketFolder(socket);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      expect(await within(watch.changed, 5_000)).toBe('changed');
    } finally {
      watch.close();
      server.close();
    }
  });

  it('while the folder is missing, fires when it is made in the nearest folder above', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-'));
    const watch = watchSocketFolder(join(dir, 'run', 'keyup', 'keyupd.sock'));
    await mkdir(join(dir, 'run'));
    try {
      expect(await within(watch.changed, 5_000)).toBe('changed');
    } finally {
      watch.close();
    }
  });

  it('does not fire while nothing changes, and stops firing once closed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kw-'));
    const watch = watchSocketFolder(join(dir, 'keyupd.sock'));
    expect(await within(watch.changed, 200)).toBe('no change');
    watch.close();
    await mkdir(join(dir, 'after'));
    expect(await within(watch.changed, 200)).toBe('no change');
  });
});
