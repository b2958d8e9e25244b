/**
 * Issue 8's budget, "CPU per rotation inside a warm process: at most 1.5× a bare script that makes
 * the same AWS calls", is mostly spent on files: every read of the AWS files is six calls and a
 * parse, every durable write about ten calls and two fsyncs. These tests pin how much file work a
 * warm rotation does, so that it does not creep back: the AWS files read once per step that needs
 * them, the journal written at the three steps recovery needs, leftover temp files looked for once
 * per run, one lock. `npm run bench` measures the time itself.
 */
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileSystem } from '../../src/fs/fs.js';
import { History } from '../../src/rotation/history.js';
import { createUnitHarness, profileSection, type UnitHarness } from '../support/unit-harness.js';

interface Call {
  readonly method: string;
  readonly path: string;
  readonly args: readonly unknown[];
}

/** memfs, with every `promises` call it is asked for written down (method and first path). */
function recordCalls(fs: FileSystem, calls: Call[]): FileSystem {
  const promises = new Proxy(fs.promises, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(property), path: String(args[0]), args });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { constants: fs.constants, promises };
}

/** A harness whose engine has rotated `default` once already (a warm process), and the calls of one more rotation. */
async function measureWarmRotation(init: { config?: string } = {}): Promise<{ h: UnitHarness; calls: Call[] }> {
  const calls: Call[] = [];
  const h = createUnitHarness({ wrapFs: (fs) => recordCalls(fs, calls) });
  await h.writeCredentials(profileSection('default', h.seedUser('alice')));
  const engine = h.createEngine(init.config ?? '');
  expect((await engine.run({ rotateNow: true })).map((outcome) => outcome.kind)).toEqual(['rotated']);
  calls.length = 0;
  expect((await engine.run({ rotateNow: true })).map((outcome) => outcome.kind)).toEqual(['rotated']);
  return { h, calls };
}

describe('the file work of one warm rotation', () => {
  it('reads the credentials file three times: to check the key, under the lock, and to see the new key in place', async () => {
    const { h, calls } = await measureWarmRotation();
    const opened = calls.filter((call) => call.method === 'open' && call.path === h.paths.credentialsFile);
    expect(opened).toHaveLength(3);
    // The last look before the rename, which proves the file is still what was read, reads it once more.
    expect(calls.filter((call) => call.method === 'readFile' && call.path === h.paths.credentialsFile)).toHaveLength(1);
    // A read takes the file's mode, owner and time from the open file (fstat), not from a stat of
    // its path; that last look is the one stat.
    expect(calls.filter((call) => call.method === 'stat' && call.path === h.paths.credentialsFile)).toHaveLength(1);
  });

  it('writes the journal three times: creating, created and retired', async () => {
    const { h, calls } = await measureWarmRotation();
    const journalDir = dirname(h.journal.pathOf('default'));
    expect(calls.filter((call) => call.method === 'rename' && dirname(call.path) === journalDir)).toHaveLength(3);
  });

  it('looks for leftover temp files once in each folder it writes in, not at every write', async () => {
    const { h, calls } = await measureWarmRotation();
    const listed = calls.filter((call) => call.method === 'readdir').map((call) => call.path);
    const { stateDir } = h.paths;
    expect(listed.sort()).toEqual(
      [
        `${stateDir}/journal`, // unfinished rotations of profiles no longer managed
        `${stateDir}/journal`, // leftovers, before the first of the journal's three writes
        `${stateDir}/backups`, // the oldest backups beyond backup_keep
        dirname(h.paths.credentialsFile), // leftovers, before the rewrite
        stateDir, // leftovers, before the history's write
      ].sort(),
    );
  });

  it('takes one lock', async () => {
    const { h, calls } = await measureWarmRotation();
    const locks = calls.filter((call) => call.method === 'open' && call.path.startsWith(`${h.paths.stateDir}/locks/`) && call.path.endsWith('.lock'));
    // Taken (created) once and read once to release it.
    expect(locks).toHaveLength(2);
  });

  it('flushes a folder where a power cut must not undo a rename: the journal before CreateAccessKey and with the new key, the backup, the credentials file', async () => {
    const { h, calls } = await measureWarmRotation();
    // syncFolder opens the folder read-only to fsync it; nothing else opens a folder.
    const flushed = calls.filter((call) => call.method === 'open' && call.args[1] === 'r').map((call) => call.path);
    const { stateDir } = h.paths;
    // Not after `retired` (a lost rename leaves `created`, which the next run finishes again) nor
    // after the history (a lost rename loses its newest record, never the file).
    expect(flushed.sort()).toEqual([`${stateDir}/journal`, `${stateDir}/journal`, `${stateDir}/backups`, dirname(h.paths.credentialsFile)].sort());
  });

  it('makes no folder: each was made by the first rotation', async () => {
    const { calls } = await measureWarmRotation();
    expect(calls.filter((call) => call.method === 'mkdir')).toHaveLength(0);
  });
});

describe('the file work of a check where every profile fails', () => {
  it('reads history.json once, not once per failed profile (an offline laptop fails every profile at every check)', async () => {
    const calls: Call[] = [];
    const h = createUnitHarness({ wrapFs: (fs) => recordCalls(fs, calls) });
    const names = ['one', 'two', 'three', 'four'];
    const sections = names.map((name) => profileSection(name, h.seedUser(name)));
    await h.writeCredentials(sections.join('\n'));
    // A failure recorded by an earlier check: each failed profile's view still shows its last rotation.
    const history = `${h.paths.stateDir}/history.json`;
    const earlier = { profile: 'two', at: '2026-11-01T07:00:00.000Z', oldKeyId: 'AKIAEARLIEROLDKEY123', newKeyId: null, ok: false, error: 'offline' };
    await new History({ fs: h.rawFs, stateDir: h.paths.stateDir }).append(earlier);
    h.fake.control.injectFault({ kind: 'connection-refused', count: 'always' });
    const engine = h.createEngine(names.map((name) => `[profile ${name}]\n`).join(''));

    expect((await engine.run()).map((outcome) => outcome.kind)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(calls.filter((call) => call.method === 'open' && call.path === history)).toHaveLength(1);
    expect(engine.view().map((view) => view.lastRotation?.at ?? null)).toEqual([null, earlier.at, null, null]);
  });
});
