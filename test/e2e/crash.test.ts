import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { readFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import type { CallLogEntry } from '../../emulator/index.js';
import { isolateAwsEnvironment } from '../emulator/helpers.js';
import { createScene, credentialsText, DAY_MS, defaultKeyOf, finish, killHard, waitFor, type KeyupdRun, type Scene, type SceneInit } from './keyupd.js';

// The test process's own SDK calls (proving the new key works) must not read the real ~/.aws.
isolateAwsEnvironment();

const buildDir = inject('buildDir');
const scene = (init: Omit<SceneInit, 'buildDir'> = {}) => createScene({ buildDir, ...init });

const called = (s: Scene, action: string, fault: CallLogEntry['fault']) => () => s.emulator.getCallLog().some((call) => call.action === action && call.fault === fault);

/** SIGKILL at the moment, then clear the faults: from here on IAM behaves. */
async function crash(s: Scene, run: KeyupdRun): Promise<void> {
  await killHard(run);
  s.emulator.clearFaults();
  s.snapshotSecrets();
}

const ROTATED = /^keyupd: default \(alice\): rotated AKIA…\w{4} → AKIA…\w{4} in profile default\.$/m;

/** Runs keyupd again to its end and checks that it finished the rotation and left nothing behind. */
async function restartAndCheck(s: Scene, options: { oldKey?: 'delete' | 'deactivate' } = {}): Promise<void> {
  const restart = s.start();
  const { code } = await finish(restart);
  expect(code, `stdout: ${restart.stdout()}\nstderr: ${restart.stderr()}`).toBe(0);
  expect(restart.stdout()).toMatch(ROTATED);
  await expectRotatedCleanly(s, options);
}

function everySecretBut(s: Scene, kept: string): string[] {
  return [...s.aliceSecrets, s.bob.secretAccessKey].filter((secret) => secret !== kept);
}

/** One rotation happened, completely: a working new key in the file, nothing orphaned, left behind or leaked. */
async function expectRotatedCleanly(s: Scene, { oldKey = 'delete' }: { oldKey?: 'delete' | 'deactivate' } = {}): Promise<void> {
  s.snapshotSecrets();

  // The file's key is alice's, Active, with the secret IAM gave, and every other byte is as written.
  const text = await readFile(s.paths.credentialsFile, 'utf8');
  const inFile = defaultKeyOf(text);
  expect(inFile.accessKeyId).not.toBe(s.old.accessKeyId);
  const keys = s.aliceKeys();
  const fresh = keys.find((key) => key.accessKeyId === inFile.accessKeyId);
  expect(fresh).toMatchObject({ status: 'Active', secretAccessKey: inFile.secretAccessKey });
  expect(text).toBe(credentialsText(inFile, s.bob));

  // No orphan: the new key alone, or beside the old one made inactive.
  if (oldKey === 'delete') expect(keys.map((key) => key.accessKeyId)).toEqual([inFile.accessKeyId]);
  else expect(keys.map((key) => [key.accessKeyId, key.status]).sort()).toEqual([[inFile.accessKeyId, 'Active'], [s.old.accessKeyId, 'Inactive']].sort());

  // It works with the real SDK, as the user's tools will use it.
  const sts = new STSClient({ region: 'us-east-1', endpoint: s.emulator.endpoint, credentials: inFile, maxAttempts: 1 });
  try {
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${s.emulator.accountId}:user/alice`);
  } finally {
    sts.destroy();
  }

  // The journal is left only as the finished rotation's safety copy of the new key.
  expect(JSON.parse(await readFile(s.journalFile, 'utf8'))).toMatchObject({ step: 'retired', newKey: { accessKeyId: inFile.accessKeyId } });
  expect(await s.exists(s.lockFile)).toBe(false);

  // No secret in any output, the log or the state folder. Backups are copies of the file taken
  // before a rewrite: the old secret (and bob's) is in them by design, the new one never; the
  // safety copy holds the new secret and no other.
  const state = await s.readStateFiles();
  const safetyCopy = state.get(s.journalFile) ?? '';
  for (const secret of [...everySecretBut(s, inFile.secretAccessKey)]) expect(safetyCopy).not.toContain(secret);
  state.delete(s.journalFile);
  expect(state.get(s.logFile)).toMatch(/Rotated profile default/);
  const everySecret = [...s.aliceSecrets, s.bob.secretAccessKey];
  expect(s.aliceSecrets.has(inFile.secretAccessKey)).toBe(true);
  for (const [path, content] of state) {
    if (path.startsWith(`${s.paths.stateDir}/backups/`)) {
      expect(content, path).toBe(s.original);
      expect(content, path).not.toContain(inFile.secretAccessKey);
      continue;
    }
    for (const secret of everySecret) expect(content, path).not.toContain(secret);
  }
  for (const run of s.runs) {
    for (const secret of everySecret) {
      expect(run.stdout()).not.toContain(secret);
      expect(run.stderr()).not.toContain(secret);
    }
  }
}

describe('keyupd --once killed with SIGKILL at every step, then run again', { timeout: 30_000 }, () => {
  it('(1) while ListAccessKeys hangs, before anything is journaled', async () => {
    const s = await scene();
    s.emulator.injectFault({ kind: 'hang', action: 'ListAccessKeys' });
    const run = s.start();
    await waitFor('a hung ListAccessKeys', called(s, 'ListAccessKeys', 'hang'), { run });
    await crash(s, run);
    expect(await s.exists(s.journalFile)).toBe(false);
    expect(await s.exists(s.lockFile)).toBe(false);
    await restartAndCheck(s);
  });

  it('(2) while CreateAccessKey is in flight and has made nothing', async () => {
    const s = await scene();
    s.emulator.injectFault({ kind: 'hang', action: 'CreateAccessKey' });
    const run = s.start();
    await waitFor('a hung CreateAccessKey', called(s, 'CreateAccessKey', 'hang'), { run });
    await crash(s, run);
    expect(await s.journalStep()).toBe('creating');
    // The dead process's lock stays behind; the restart must take it over.
    expect(await s.exists(s.lockFile)).toBe(true);
    expect(s.aliceKeys()).toHaveLength(1);
    await restartAndCheck(s);
  });

  it('(3) after CreateAccessKey made a key whose answer never came: the orphan goes', async () => {
    const s = await scene();
    s.emulator.injectFault({ kind: 'hang-after-commit', action: 'CreateAccessKey' });
    const run = s.start();
    await waitFor('a committed CreateAccessKey', called(s, 'CreateAccessKey', 'hang-after-commit'), { run });
    await crash(s, run);
    expect(await s.journalStep()).toBe('creating');
    const orphan = s.aliceKeys().find((key) => key.accessKeyId !== s.old.accessKeyId);
    expect(orphan).toBeDefined();
    await restartAndCheck(s);
    expect(s.aliceKeys().map((key) => key.accessKeyId)).not.toContain(orphan?.accessKeyId);
  });

  it('(4) while verifying a new key STS still refuses', async () => {
    const s = await scene({ emulator: { activationDelayMs: 600_000 } });
    const run = s.start();
    await waitFor('the journal at "created"', async () => (await s.journalStep()) === 'created', { run });
    await waitFor('STS refusing the new key', () => s.emulator.getCallLog().some((call) => call.action === 'GetCallerIdentity' && call.errorCode === 'InvalidClientTokenId'), { run });
    await crash(s, run);
    expect(await readFile(s.paths.credentialsFile, 'utf8')).toBe(s.original);
    s.emulator.setActivationDelay(0);
    await restartAndCheck(s);
  });

  it('(5) after the file was written, while the delete of the old key hangs', async () => {
    const s = await scene();
    s.emulator.injectFault({ kind: 'hang', action: 'DeleteAccessKey' });
    const run = s.start();
    await waitFor('a hung DeleteAccessKey', called(s, 'DeleteAccessKey', 'hang'), { run, timeoutMs: 20_000 });
    await crash(s, run);
    // `created`: keyup writes the journal next at `retired`; the file holding the new key says the rest.
    expect(await s.journalStep()).toBe('created');
    expect(defaultKeyOf(await readFile(s.paths.credentialsFile, 'utf8')).accessKeyId).not.toBe(s.old.accessKeyId);
    expect(s.aliceKeys().map((key) => key.accessKeyId)).toContain(s.old.accessKeyId);
    await restartAndCheck(s);
  });

  it('(6) after the old key was deleted but the answer was lost', async () => {
    const s = await scene();
    s.emulator.injectFault({ kind: 'hang-after-commit', action: 'DeleteAccessKey' });
    const run = s.start();
    await waitFor('a committed DeleteAccessKey', called(s, 'DeleteAccessKey', 'hang-after-commit'), { run, timeoutMs: 20_000 });
    await crash(s, run);
    // `created`: keyup writes the journal next at `retired`; the file holding the new key says the rest.
    expect(await s.journalStep()).toBe('created');
    expect(s.aliceKeys().map((key) => key.accessKeyId)).not.toContain(s.old.accessKeyId);
    await restartAndCheck(s);
  });

  it('(7) while making room: the delete of an inactive second key hangs', async () => {
    const s = await scene();
    const spare = s.emulator.createAccessKey({ userName: 'alice', status: 'Inactive', createDate: new Date(Date.now() - 300 * DAY_MS) });
    s.snapshotSecrets();
    s.emulator.injectFault({ kind: 'hang', action: 'DeleteAccessKey' });
    const run = s.start();
    await waitFor('a hung DeleteAccessKey', called(s, 'DeleteAccessKey', 'hang'), { run });
    await crash(s, run);
    expect(await s.exists(s.journalFile)).toBe(false);
    expect(s.aliceKeys().map((key) => key.accessKeyId)).toContain(spare.accessKeyId);
    await restartAndCheck(s);
  });

  it('(8) old_key = deactivate: after the old key was deactivated but the answer was lost', async () => {
    const s = await scene({ config: ['old_key = deactivate'] });
    s.emulator.injectFault({ kind: 'hang-after-commit', action: 'UpdateAccessKey' });
    const run = s.start();
    await waitFor('a committed UpdateAccessKey', called(s, 'UpdateAccessKey', 'hang-after-commit'), { run, timeoutMs: 20_000 });
    await crash(s, run);
    // `created`: keyup writes the journal next at `retired`; the file holding the new key says the rest.
    expect(await s.journalStep()).toBe('created');
    expect(s.aliceKeys().find((key) => key.accessKeyId === s.old.accessKeyId)?.status).toBe('Inactive');
    await restartAndCheck(s, { oldKey: 'deactivate' });
  });
});

describe('two keyupd --once started at the same time on a due key', { timeout: 30_000 }, () => {
  it('rotate it once: one rotates, the other reports it busy naming the holder, or finds the fresh key current', async () => {
    // New keys are refused for a second, so the rotation outlasts the other process's check.
    const s = await scene({ emulator: { activationDelayMs: 1_000 } });
    const runs = [s.start(), s.start()];
    const ends = await Promise.all(runs.map((run) => finish(run)));
    const winner = runs.findIndex((run) => ROTATED.test(run.stdout()));
    expect(winner, runs.map((run) => run.stdout()).join('\n')).toBeGreaterThanOrEqual(0);
    const [won, lost] = [runs[winner]!, runs[1 - winner]!];
    expect(ends[winner]?.code).toBe(0);
    expect(won.stdout().trim().split('\n')).toHaveLength(1);
    // The lock is taken after the key is found due, so the other one, a moment behind, meets it
    // held and reports the profile busy (not a failure: exit 0); only if it came after the whole
    // rotation would it find the fresh key not due.
    const lostLines = lost.stdout().trim().split('\n');
    expect(ends[1 - winner]?.code).toBe(0);
    const busy = `^keyupd: default: busy: (keyup process ${won.child.pid}|another keyup process) is rotating it \\(since \\S+\\); left to it\\.$`;
    expect(lostLines).toEqual([expect.stringMatching(new RegExp(`${busy}|^keyupd: default \\(alice\\): key AKIA…\\w{4} is 0\\.0 days old, ok; `))]);
    for (const run of runs) expect(run.stderr()).toBe('');
    // One CreateAccessKey, and it stuck.
    const creates = s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey');
    expect(creates.map((call) => call.httpStatus)).toEqual([200]);
    await expectRotatedCleanly(s);
  });
});

describe('a keyupd --once started while another is rotating the same profile', { timeout: 30_000 }, () => {
  it('reports the profile busy, naming the process that rotates it, exits 0 and leaves it alone', async () => {
    // New keys are refused for two seconds: the first process sits in verification meanwhile.
    const s = await scene({ emulator: { activationDelayMs: 2_000 } });
    const first = s.start();
    await waitFor('the first process to have made its key', async () => (await s.journalStep()) === 'created', { run: first });
    const { since } = JSON.parse(await readFile(s.lockFile, 'utf8')) as { since: string };
    const second = s.start();
    const { code } = await finish(second);
    expect(code, second.stdout() + second.stderr()).toBe(0);
    expect(second.stdout().trim()).toBe(`keyupd: default: busy: keyup process ${first.child.pid} is rotating it (since ${since}); left to it.`);
    expect((await finish(first)).code).toBe(0);
    expect(s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey')).toHaveLength(1);
    await expectRotatedCleanly(s);
  });
});
