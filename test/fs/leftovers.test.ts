import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { isProcessAlive, removeLeftoverTempFiles, writeFileAtomically } from '../../src/fs/atomic-write.js';
import { hookFs } from '../credentials/support.js';
import { createMemoryFs } from '../support/memfs.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

// Issue 7, hole 13: a kill -9 between writing the temp file and renaming it left
// `.credentials.keyup-*.tmp`, the whole file with the new secret, beside the credentials file;
// the recovery run kept it, because only temp files older than ten minutes were removed.

const LIVE = 4001;
const DEAD = 4002;
const isAlive = (pid: number): boolean => pid === LIVE;
const NOW = new Date('2026-11-24T07:00:00.000Z');
const FRESH = new Date(NOW.getTime() - 60_000);
const STALE = new Date(NOW.getTime() - 11 * 60_000);

/** A memfs folder holding `names`, each last written at `times[name]` (default FRESH). */
function createFolder(names: string[], times: Record<string, Date> = {}) {
  const { fs: memory, vol } = createMemoryFs(Object.fromEntries(names.map((name) => [`/h/${name}`, 'secret'])));
  for (const name of names) vol.utimesSync(`/h/${name}`, times[name] ?? FRESH, times[name] ?? FRESH);
  return { fs: memory, vol };
}

describe('removeLeftoverTempFiles', () => {
  it("removes a dead process's temp files at once, whatever file they were for (hole 13)", async () => {
    const names = [`.credentials.keyup-${DEAD}-0123456789ab.tmp`, `.state.json.keyup-${DEAD}-0123456789ab.tmp`, 'credentials'];
    const { fs: memory, vol } = createFolder(names);
    const removed = await removeLeftoverTempFiles({ fs: memory, folder: '/h', isAlive, now: NOW });
    expect(removed.sort()).toEqual([`/h/.credentials.keyup-${DEAD}-0123456789ab.tmp`, `/h/.state.json.keyup-${DEAD}-0123456789ab.tmp`]);
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it('never removes a fresh temp file of a live process: it may be about to rename it', async () => {
    const live = `.credentials.keyup-${LIVE}-0123456789ab.tmp`;
    const { fs: memory, vol } = createFolder([live, 'credentials']);
    expect(await removeLeftoverTempFiles({ fs: memory, folder: '/h', isAlive, now: NOW })).toEqual([]);
    expect(vol.readdirSync('/h').sort()).toEqual([live, 'credentials']);
  });

  it('removes a stale temp file even when its pid runs: the pid was reused', async () => {
    const reused = `.credentials.keyup-${LIVE}-0123456789ab.tmp`;
    const { fs: memory, vol } = createFolder([reused, 'credentials'], { [reused]: STALE });
    expect(await removeLeftoverTempFiles({ fs: memory, folder: '/h', isAlive, now: NOW })).toEqual([`/h/${reused}`]);
    expect(vol.readdirSync('/h')).toEqual(['credentials']);
  });

  it('takes names without a pid, from older keyup versions, as leftovers by age only', async () => {
    const fresh = '.credentials.keyup-0123456789ab.tmp';
    const stale = '.credentials.keyup-ba9876543210.tmp';
    const { fs: memory, vol } = createFolder([fresh, stale], { [stale]: STALE });
    expect(await removeLeftoverTempFiles({ fs: memory, folder: '/h', isAlive, now: NOW })).toEqual([`/h/${stale}`]);
    expect(vol.readdirSync('/h')).toEqual([fresh]);
  });

  it('leaves every other name alone, however stale', async () => {
    const others = [
      'credentials',
      '.credentials.keyup-0-0123456789ab.tmp',
      '.credentials.keyup-12-0123456789ab',
      '.credentials.keyup-12-0123456789AB.tmp',
      'credentials.keyup-12-0123456789ab.tmp',
      '.credentials.keyup-12-0123456789ab.tmp.bak',
      '.keyup-12-0123456789ab.tmp',
    ];
    const { fs: memory, vol } = createFolder(others, Object.fromEntries(others.map((name) => [name, STALE])));
    expect(await removeLeftoverTempFiles({ fs: memory, folder: '/h', isAlive, now: NOW })).toEqual([]);
    expect(vol.readdirSync('/h').sort()).toEqual([...others].sort());
  });

  it('leaves a folder or a link that bears a temp name alone', async () => {
    const { fs: memory, vol } = createMemoryFs({ '/h/target': 'mine' });
    vol.mkdirSync(`/h/.a.keyup-${DEAD}-0123456789ab.tmp`);
    vol.symlinkSync('/h/target', `/h/.b.keyup-${DEAD}-0123456789ab.tmp`);
    expect(await removeLeftoverTempFiles({ fs: memory, folder: '/h', isAlive, now: NOW })).toEqual([]);
    expect(vol.readdirSync('/h')).toHaveLength(3);
  });

  it('only looks at the temp files of `file` when given one', async () => {
    const names = [`.credentials.keyup-${DEAD}-0123456789ab.tmp`, `.config.keyup-${DEAD}-0123456789ab.tmp`];
    const { fs: memory, vol } = createFolder(names);
    expect(await removeLeftoverTempFiles({ fs: memory, folder: '/h', file: '/h/credentials', isAlive, now: NOW })).toEqual([`/h/${names[0]}`]);
    expect(vol.readdirSync('/h')).toEqual([names[1]]);
  });

  it('has nothing to do in a folder that does not exist (the AWS config folder of a new user)', async () => {
    const { fs: memory } = createMemoryFs({ '/h/x': '' });
    expect(await removeLeftoverTempFiles({ fs: memory, folder: '/nowhere', isAlive, now: NOW })).toEqual([]);
  });

  it('skips a temp file another process removed first', async () => {
    const name = `.credentials.keyup-${DEAD}-0123456789ab.tmp`;
    const { fs: memory, vol } = createFolder([name]);
    const racing = hookFs(memory, {
      unlink: async (path) => {
        await memory.promises.unlink(path);
        throw Object.assign(new Error('ENOENT: gone'), { code: 'ENOENT' });
      },
    });
    expect(await removeLeftoverTempFiles({ fs: racing, folder: '/h', isAlive, now: NOW })).toEqual([]);
    expect(vol.readdirSync('/h')).toEqual([]);
  });

  it('reports, with its code, a leftover it cannot remove', async () => {
    const { fs: memory } = createFolder([`.credentials.keyup-${DEAD}-0123456789ab.tmp`]);
    const refusing = hookFs(memory, { unlink: () => Promise.reject(Object.assign(new Error('EACCES: no'), { code: 'EACCES' })) });
    await expect(removeLeftoverTempFiles({ fs: refusing, folder: '/h', isAlive, now: NOW })).rejects.toMatchObject({ code: 'EACCES' });
  });
});

describe('writeFileAtomically and leftovers', () => {
  it("puts the writer's pid in the temp file's name", async () => {
    const { fs: memory } = createMemoryFs({ '/h/state.json': 'old' });
    const temps: string[] = [];
    const watching = hookFs(memory, {
      rename: async (from, to) => {
        temps.push(from);
        await memory.promises.rename(from, to);
      },
    });
    await writeFileAtomically({ fs: watching, file: '/h/state.json', data: 'new' });
    expect(temps).toEqual([expect.stringMatching(new RegExp(`^/h/\\.state\\.json\\.keyup-${process.pid}-[0-9a-f]{12}\\.tmp$`))]);
  });

  it("removes a dead writer's fresh leftover of the same file before writing (hole 13)", async () => {
    const dead = `.credentials.keyup-${DEAD}-0123456789ab.tmp`;
    const live = `.credentials.keyup-${LIVE}-0123456789ab.tmp`;
    const { fs: memory, vol } = createFolder([dead, live, 'credentials']);
    await writeFileAtomically({ fs: memory, file: '/h/credentials', data: 'new', isAlive, now: NOW });
    expect(vol.readdirSync('/h').sort()).toEqual([live, 'credentials']);
  });
});

describe('leftovers of real processes', () => {
  let home: TempHome;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await home.remove();
  });

  /** Starts `node -e script` and resolves once it has printed its first line. */
  async function startNode(script: string): Promise<{ child: ChildProcess; firstLine: string }> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const [chunk] = (await once(child.stdout!, 'data', { signal: AbortSignal.timeout(15_000) })) as [Buffer];
    return { child, firstLine: chunk.toString('utf8').trim() };
  }

  async function killHard(child: ChildProcess): Promise<void> {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  it('tells a running process from one that has ended', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    const { child } = await startNode("console.log('up'); setInterval(() => {}, 1000);");
    expect(isProcessAlive(child.pid!)).toBe(true);
    await killHard(child);
    expect(isProcessAlive(child.pid!)).toBe(false);
  });

  it('removes the temp file of a writer killed with SIGKILL before its rename, at the next start (hole 13)', async () => {
    const file = join(home.dir, 'credentials');
    await fs.writeFile(file, 'old secret', { mode: 0o600 });
    const writer = new URL('src/fs/atomic-write.js', `file://${inject('buildDir')}/`).href;
    const { child, firstLine } = await startNode(`
      import * as fs from 'node:fs';
      import { writeFileAtomically } from ${JSON.stringify(writer)};
      await writeFileAtomically({
        fs,
        file: ${JSON.stringify(file)},
        data: 'new secret',
        // Stop for good between the temp file's write and its rename, and say so.
        isStillCurrent: () => new Promise(() => { setInterval(() => {}, 1000); console.log('written'); }),
      });
    `);
    expect(firstLine).toBe('written');
    await killHard(child);
    const leftover = `.credentials.keyup-${child.pid}-`;
    expect((await fs.readdir(home.dir)).filter((name) => name.startsWith(leftover))).toHaveLength(1);

    const removed = await removeLeftoverTempFiles({ fs: nodeFs, folder: home.dir });
    expect(removed).toEqual([expect.stringContaining(leftover)]);
    expect(await fs.readdir(home.dir)).toEqual(['credentials']);
    expect(await fs.readFile(file, 'utf8')).toBe('old secret');
  });

  it("keeps a live process's temp file, and removes it once that process is gone", async () => {
    const { child } = await startNode("console.log('up'); setInterval(() => {}, 1000);");
    const temp = join(home.dir, `.credentials.keyup-${child.pid}-0123456789ab.tmp`);
    await fs.writeFile(temp, 'new secret', { mode: 0o600 });
    expect(await removeLeftoverTempFiles({ fs: nodeFs, folder: home.dir })).toEqual([]);
    await killHard(child);
    expect(await removeLeftoverTempFiles({ fs: nodeFs, folder: home.dir })).toEqual([temp]);
    expect(await fs.readdir(home.dir)).toEqual([]);
  });
});
