import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeededAccessKey } from '../../emulator/index.js';
import { Journal } from '../../src/rotation/journal.js';
import { createRotationHarness, daysAgo, type RotationHarness } from '../support/rotation-harness.js';

function credentialsFile(key: { accessKeyId: string; secretAccessKey: string }): string {
  return `# hand-kept\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = other-secret\n\n[default] ; main\naws_access_key_id=${key.accessKeyId}\naws_secret_access_key =  ${key.secretAccessKey}\n`;
}

/**
 * The one moment no injected fault can reach: keyup died between renaming the new credentials
 * file into place and recording `written` in the journal. Recovery starts from `verified`.
 */
describe('recovery of a rotation that stopped at "verified"', () => {
  let h: RotationHarness;
  let old: SeededAccessKey;
  let fresh: SeededAccessKey;
  afterEach(async () => {
    await h?.close();
  });

  async function crashedAtVerified({ fileRenamed }: { fileRenamed: boolean }) {
    h = await createRotationHarness();
    h.emulator.createUser({ userName: 'alice' });
    old = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
    // What CreateAccessKey made and verification accepted before the crash.
    fresh = h.emulator.createAccessKey({ userName: 'alice' });
    await h.writeCredentials(credentialsFile(fileRenamed ? fresh : old));
    await new Journal({ fs: nodeFs, stateDir: h.paths.stateDir }).write({
      version: 1,
      profile: 'default',
      step: 'verified',
      startedAt: new Date().toISOString(),
      force: false,
      user: { name: 'alice', arn: `arn:aws:iam::${h.emulator.accountId}:user/alice`, account: h.emulator.accountId },
      oldKey: 'delete',
      oldKeyId: old.accessKeyId,
      newKey: { accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey, createDate: fresh.createDate },
    });
    // The dead process's lock stays behind, as a kill -9 leaves it.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await fs.mkdir(join(h.paths.stateDir, 'locks'), { recursive: true });
    await fs.writeFile(join(h.paths.stateDir, 'locks', `${old.accessKeyId}.lock`), JSON.stringify({ pid: dead, token: 'dead', profile: 'default', since: new Date().toISOString() }), { mode: 0o600 });
  }

  async function expectFinished() {
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([fresh.accessKeyId]);
    const state = await h.readStateFiles();
    expect([...state.keys()].filter((path) => path.endsWith('.lock'))).toEqual([]);
    // Only the finished rotation's safety copy is left in the journal.
    expect(await new Journal({ fs: nodeFs, stateDir: h.paths.stateDir }).read('default')).toMatchObject({ step: 'retired', newKey: { accessKeyId: fresh.accessKeyId } });
    expect(await h.rotate()).toMatchObject({ kind: 'current', keyId: fresh.accessKeyId });
  }

  it('after the rename: does not write the file again and retires the old key', async () => {
    await crashedAtVerified({ fileRenamed: true });
    const before = await fs.stat(h.paths.credentialsFile);
    const outcomes = await h.rotator.recoverAll();
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'rotated', oldKeyId: old.accessKeyId, newKeyId: fresh.accessKeyId, holders: [{ file: 'credentials', profile: 'default' }] })]);
    // Same inode and bytes: no second rename, and no backup (one is taken before each rewrite).
    const after = await fs.stat(h.paths.credentialsFile);
    expect(after.ino).toBe(before.ino);
    expect(await h.readCredentials()).toBe(credentialsFile(fresh));
    expect([...(await h.readStateFiles()).keys()].filter((path) => path.includes('/backups/'))).toEqual([]);
    // The old key was deleted with the new key; nothing was created or verified again.
    const calls = h.emulator.getCallLog().map((call) => `${call.action} ${call.accessKeyId}`);
    expect(calls).toEqual([`DeleteAccessKey ${fresh.accessKeyId}`]);
    await expectFinished();
  });

  it('before the rename: writes the file, then retires the old key', async () => {
    await crashedAtVerified({ fileRenamed: false });
    const outcomes = await h.rotator.recoverAll();
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'rotated', newKeyId: fresh.accessKeyId, holders: [{ file: 'credentials', profile: 'default' }] })]);
    expect(await h.readCredentials()).toBe(credentialsFile(fresh));
    await expectFinished();
  });
});

/**
 * keyup died while CreateAccessKey was in flight (after `rotate now`, so the key is not due by
 * age): IAM made a key whose secret nobody has. The next check deletes it and rotates again.
 */
describe('recovery of a rotation that stopped at "creating"', () => {
  let h: RotationHarness;
  afterEach(async () => {
    await h?.close();
  });

  /** The journal as keyup writes it before the call: the keys it knew, and IAM's time window. */
  async function crashedWhileCreating({ evidence = true }: { evidence?: boolean } = {}) {
    h = await createRotationHarness();
    h.emulator.createUser({ userName: 'alice' });
    const old = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(10) });
    await h.writeCredentials(credentialsFile(old));
    const startedAt = new Date();
    await new Journal({ fs: nodeFs, stateDir: h.paths.stateDir }).write({
      version: evidence ? 2 : 1,
      profile: 'default',
      step: 'creating',
      startedAt: startedAt.toISOString(),
      force: false,
      user: { name: 'alice', arn: `arn:aws:iam::${h.emulator.accountId}:user/alice`, account: h.emulator.accountId },
      oldKey: 'delete',
      oldKeyId: old.accessKeyId,
      ...(evidence
        ? { knownKeyIds: [old.accessKeyId], createWindow: { from: new Date(startedAt.getTime() - 5_000).toISOString(), to: new Date(startedAt.getTime() + 30_000).toISOString() } }
        : {}),
    });
    const orphan = h.emulator.createAccessKey({ userName: 'alice', createDate: new Date(startedAt.getTime() + 200) });
    return { old, orphan };
  }

  it('deletes the key nobody knows and rotates again, though the old key is not due by age', async () => {
    const { old, orphan } = await crashedWhileCreating();
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId });
    const keys = h.keysOf('alice').map((key) => key.accessKeyId);
    expect(keys).toHaveLength(1);
    expect(keys).not.toContain(orphan.accessKeyId);
    expect(keys).not.toContain(old.accessKeyId);
  });

  it('leaves a profile the caller rotates next to rotate(), which can start it again', async () => {
    await crashedWhileCreating();
    expect(await h.rotator.recoverAll({ except: new Set(['default']) })).toEqual([]);
    expect(await new Journal({ fs: nodeFs, stateDir: h.paths.stateDir }).listProfiles()).toEqual(['default']);
  });

  it('deletes nothing when the journal holds no evidence that keyup made the key (written by an older keyup)', async () => {
    const { old, orphan } = await crashedWhileCreating({ evidence: false });
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'second-active-key' } });
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId, orphan.accessKeyId]);
  });

  it('cleans up, without rotating, the journal of a profile no longer managed', async () => {
    const { old, orphan } = await crashedWhileCreating();
    expect(await h.rotator.recoverAll()).toEqual([]);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(orphan.accessKeyId);
    expect(await new Journal({ fs: nodeFs, stateDir: h.paths.stateDir }).listProfiles()).toEqual([]);
  });
});
