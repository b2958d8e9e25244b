/**
 * Issue 7, "Holes found in the rotation engine": one test per hole, each named after the case it
 * protects. Every one of them failed on the engine before the fix.
 */
import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeededAccessKey } from '../../emulator/index.js';
import type { FileSystem } from '../../src/fs/fs.js';
import { formatErrorInfo } from '../../src/engine/outcome.js';
import { Journal, type JournalEntry } from '../../src/rotation/journal.js';
import { createRotationHarness, daysAgo, type HarnessInit, type RotationHarness } from '../support/rotation-harness.js';

const profile = (name: string, key: { accessKeyId: string; secretAccessKey: string }) => `[${name}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`;

/** A hand-kept file with the managed profile between two others. */
const fileWith = (key: { accessKeyId: string; secretAccessKey: string }) =>
  `# my keys\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = other-secret\n\n${profile('default', key)}region = eu-west-1\n`;

const MINUTE = 60_000;

describe('issue 7: holes in the rotation engine', () => {
  let h: RotationHarness;
  afterEach(async () => {
    await h?.close();
  });

  async function seed(init: { emulator?: Parameters<typeof createRotationHarness>[0]; harness?: HarnessInit; verify?: Parameters<typeof createRotationHarness>[1] } = {}): Promise<SeededAccessKey> {
    h = await createRotationHarness(init.emulator, init.verify, init.harness);
    h.emulator.createUser({ userName: 'alice' });
    const old = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
    await h.writeCredentials(fileWith(old));
    return old;
  }

  /** What a person needs after any run: the file's key works and is the user's only active key. */
  function expectUsableKeyInFile(text: string) {
    const id = /\[default\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)/.exec(text);
    expect(id, text).not.toBeNull();
    const active = h.keysOf('alice').filter((key) => key.status === 'Active');
    expect(active.map((key) => [key.accessKeyId, key.secretAccessKey])).toEqual([[id?.[1], id?.[2]]]);
  }

  describe('hole 1: another program clobbers keyup’s write', () => {
    it('a stale copy saved right after keyup’s rename is noticed and the new key applied again before the old one goes', async () => {
      let original = '';
      let clobbered = false;
      await seed({
        harness: {
          wrapCredentials: (file) => ({
            ...file,
            async replaceKey(oldKeyId, next) {
              const changed = await file.replaceKey(oldKeyId, next);
              // An editor that read the file just before keyup's rename saves its copy just after.
              if (!clobbered) {
                clobbered = true;
                await fs.writeFile(h.paths.credentialsFile, original);
              }
              return changed;
            },
          }),
        },
      });
      original = await h.readCredentials();
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'rotated' });
      expect(clobbered).toBe(true);
      expectUsableKeyInFile(await h.readCredentials());
    });

    it('the old key written back a moment after retirement is replaced by the new key at the next check', async () => {
      const old = await seed();
      const original = await h.readCredentials();
      const first = await h.rotate();
      expect(first).toMatchObject({ kind: 'rotated' });
      const rotated = await h.readCredentials();
      // A dotfile sync restores yesterday's copy a second after the rotation finished.
      await fs.writeFile(h.paths.credentialsFile, original);
      const second = await h.rotate();
      expect(second.kind, JSON.stringify(second)).not.toBe('failed');
      expect(await h.readCredentials()).toBe(rotated);
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(old.accessKeyId);
      expectUsableKeyInFile(rotated);
    });
  });

  describe('hole 2: the old content comes back after the journal says "written"', () => {
    it('applies the new key again from the journal instead of retiring the old key with no profile holding the new one', async () => {
      const old = await seed();
      const fresh = h.emulator.createAccessKey({ userName: 'alice' });
      await new Journal({ fs: nodeFs, stateDir: h.paths.stateDir }).write(journalEntry(old, fresh, 'written'));
      // The file is back to the old key (a backup restore, a git checkout of dotfiles).
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'rotated', newKeyId: fresh.accessKeyId });
      expect(outcome.kind === 'rotated' && outcome.holders).toEqual([{ file: 'credentials', profile: 'default' }]);
      expectUsableKeyInFile(await h.readCredentials());
      expect(await h.readCredentials()).toContain(fresh.secretAccessKey);
    });
  });

  describe('hole 3: the machine’s clock runs ahead of AWS', () => {
    it('recognises its own key after a lost CreateAccessKey answer with the clock 10 minutes ahead', async () => {
      await seed({ emulator: { now: () => new Date(Date.now() - 10 * MINUTE) } });
      h.emulator.injectFault({ kind: 'drop-response', action: 'CreateAccessKey' });
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'rotated' });
      expectUsableKeyInFile(await h.readCredentials());
    });
  });

  describe('hole 10: the credentials file cannot be written', () => {
    it('finds out before CreateAccessKey that the folder refuses new files, and creates nothing', async () => {
      const refusing = failingFs((op, path) => op === 'open-new' && dirname(path) === dirname(h.paths.credentialsFile) && 'EACCES');
      const old = await seed({ harness: { fs: refusing } });
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'failed' });
      expect(h.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey')).toEqual([]);
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
    });

    it('deletes the new key again when the write still fails after it was made (a bind-mounted file: EBUSY)', async () => {
      const busy = failingFs((op, path) => op === 'rename' && path === h.paths.credentialsFile && 'EBUSY');
      const old = await seed({ harness: { fs: busy } });
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'failed' });
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
      expect(await fs.readdir(join(h.paths.stateDir, 'journal')).catch(() => [])).toEqual([]);
      expectUsableKeyInFile(await h.readCredentials());
    });
  });

  describe('hole 11: the AWS config file holds the same old key', () => {
    it('gets the new key too', async () => {
      const old = await seed();
      await fs.writeFile(h.paths.awsConfigFile, `[default]\nregion = eu-west-1\n\n[profile legacy]\n${profile('x', old).split('\n').slice(1).join('\n')}output = json\n`);
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'rotated' });
      const config = await fs.readFile(h.paths.awsConfigFile, 'utf8');
      const fresh = h.keysOf('alice')[0]!;
      expect(config).toBe(`[default]\nregion = eu-west-1\n\n[profile legacy]\naws_access_key_id = ${fresh.accessKeyId}\naws_secret_access_key = ${fresh.secretAccessKey}\noutput = json\n`);
    });
  });

  describe('hole 12: key id and secret swapped in the file', () => {
    it('shows nothing of a value that is not shaped like a key id', async () => {
      h = await createRotationHarness();
      h.emulator.createUser({ userName: 'alice' });
      const key = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
      await h.writeCredentials(profile('default', { accessKeyId: key.secretAccessKey, secretAccessKey: key.accessKeyId }));
      const outcome = await h.rotate();
      expect(outcome.kind).toBe('failed');
      const said = outcome.kind === 'failed' ? formatErrorInfo(outcome.error) : '';
      for (const piece of [key.secretAccessKey.slice(0, 4), key.secretAccessKey.slice(-4)]) expect(said).not.toContain(piece);
      expect(h.logLines.join('\n')).not.toContain(key.secretAccessKey.slice(-4));
    });
  });

  describe('hole 15', () => {
    it('after an undo whose DeleteAccessKey answer was lost, the next run sees the new key is gone and rotates without verifying it', async () => {
      const old = await seed();
      const gone = h.emulator.createAccessKey({ userName: 'alice' });
      await new Journal({ fs: nodeFs, stateDir: h.paths.stateDir }).write(journalEntry(old, gone, 'created'));
      // The undo deleted it, but the answer never came back; the journal still says `created`.
      const before = h.emulator.getState().accessKeys.length;
      await deleteKey(h, gone.accessKeyId);
      expect(h.emulator.getState().accessKeys.length).toBe(before - 1);
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'rotated' });
      expect(h.emulator.getCallLog().filter((call) => call.accessKeyId === gone.accessKeyId)).toEqual([]);
      expectUsableKeyInFile(await h.readCredentials());
    });

    it('rotates a profile whose name is 300 characters long', async () => {
      h = await createRotationHarness();
      h.emulator.createUser({ userName: 'alice' });
      const key = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
      const name = `p${'x'.repeat(299)}`;
      await h.writeCredentials(profile(name, key));
      expect(await h.rotate({ profile: name })).toMatchObject({ kind: 'rotated' });
    });

    it('says the disk is full when the journal cannot be written (ENOSPC), not "an unexpected error"', async () => {
      const full = failingFs((op, path) => op === 'open-new' && path.includes('/journal/') && 'ENOSPC');
      await seed({ harness: { fs: full } });
      const outcome = await h.rotate();
      expect(outcome.kind).toBe('failed');
      const said = outcome.kind === 'failed' ? formatErrorInfo(outcome.error) : '';
      expect(said).not.toMatch(/unexpected/i);
      expect(said).toMatch(/no space|full/i);
      expect(said).toContain(join(h.paths.stateDir, 'journal'));
    });

    it('when IAM is slow to accept the new key, the retire failure does not tell the person to replace their key', async () => {
      await seed({ emulator: { activationDelayMs: { iam: 600_000, sts: 0 } } });
      const outcome = await h.rotate();
      expect(outcome.kind).toBe('failed');
      const said = outcome.kind === 'failed' ? formatErrorInfo(outcome.error) : '';
      expect(said).not.toMatch(/Put a working access key/);
      expect(said).toMatch(/next check/);
    }, 60_000);
  });
});

function journalEntry(old: SeededAccessKey, fresh: SeededAccessKey, step: 'created' | 'verified' | 'written'): JournalEntry {
  return {
    version: 1,
    profile: 'default',
    step,
    startedAt: new Date().toISOString(),
    force: false,
    user: { name: 'alice', arn: 'arn:aws:iam::123456789012:user/alice', account: '123456789012' },
    oldKey: 'delete',
    oldKeyId: old.accessKeyId,
    newKey: { accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey, createDate: fresh.createDate },
  };
}

/** Deletes a key the way a lost-answer undo would have, through IAM itself. */
async function deleteKey(h: RotationHarness, accessKeyId: string): Promise<void> {
  const { IAMClient, DeleteAccessKeyCommand } = await import('@aws-sdk/client-iam');
  const admin = h.emulator.getState().accessKeys.find((key) => key.userName === 'alice' && key.accessKeyId !== accessKeyId)!;
  const iam = new IAMClient({ region: 'us-east-1', endpoint: h.emulator.endpoint, credentials: admin, maxAttempts: 1 });
  try {
    await iam.send(new DeleteAccessKeyCommand({ AccessKeyId: accessKeyId, UserName: 'alice' }));
  } finally {
    iam.destroy();
  }
  h.emulator.clearCallLog();
}

type Operation = 'open-new' | 'rename';

/** node:fs with chosen operations failing with an OS error code, as a full disk or a bind mount does. */
function failingFs(fails: (op: Operation, path: string) => string | false): FileSystem {
  const error = (code: string, path: string) => Object.assign(new Error(`${code}: simulated, ${path}`), { code });
  const promises = nodeFs.promises;
  return {
    constants: nodeFs.constants,
    promises: {
      ...promises,
      async open(path: string, flags: string | number, mode?: number) {
        const code = typeof flags === 'string' && flags.startsWith('w') ? fails('open-new', path) : false;
        if (code !== false) throw error(code, path);
        return promises.open(path, flags, mode);
      },
      async rename(from: string, to: string) {
        const code = fails('rename', to);
        if (code !== false) throw error(code, to);
        return promises.rename(from, to);
      },
    } as unknown as FileSystem['promises'],
  };
}
