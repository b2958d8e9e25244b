/**
 * Issue 7, "Holes found in the rotation engine", end to end: the built `keyupd --once`, killed
 * where the holes were found, against the emulator. Each failed before the fix.
 */
import { execFileSync } from 'node:child_process';
import { chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { isolateAwsEnvironment } from '../emulator/helpers.js';
import { createScene, defaultKeyOf, finish, killHard, waitFor, type SceneInit } from './keyupd.js';

isolateAwsEnvironment();

const buildDir = inject('buildDir');
const scene = (init: Omit<SceneInit, 'buildDir'> = {}) => createScene({ buildDir, ...init });
const MINUTE = 60_000;

describe('issue 7 end to end', { timeout: 40_000 }, () => {
  it('hole 4: a key the person makes by hand after keyupd was killed in a hung CreateAccessKey is never deleted', async () => {
    let offset = 0;
    const s = await scene({ emulator: { now: () => new Date(Date.now() + offset) } });
    s.emulator.injectFault({ kind: 'hang', action: 'CreateAccessKey' });
    const run = s.start();
    await waitFor('a hung CreateAccessKey', () => s.emulator.getCallLog().some((call) => call.action === 'CreateAccessKey'), { run });
    await killHard(run);
    s.emulator.clearFaults();
    // A minute later, by IAM's clock, the person makes a key for CI by hand.
    offset += MINUTE;
    const ci = s.emulator.createAccessKey({ userName: 'alice' });

    const restart = s.start();
    const { code } = await finish(restart);
    expect(s.aliceKeys().map((key) => key.accessKeyId)).toEqual([s.old.accessKeyId, ci.accessKeyId]);
    expect(code).toBe(1);
    expect(restart.stdout()).toContain(`already has a second active key ${ci.accessKeyId}`);
    expect(restart.stdout()).not.toMatch(/Deleted/);
  });

  it('hole 3: with the machine 10 minutes ahead of AWS, a key whose CreateAccessKey answer was lost is found and deleted, and the summary says so', async () => {
    const s = await scene({ emulator: { now: () => new Date(Date.now() - 10 * MINUTE) } });
    s.emulator.injectFault({ kind: 'hang-after-commit', action: 'CreateAccessKey' });
    const run = s.start();
    await waitFor('a committed CreateAccessKey', () => s.aliceKeys().length === 2, { run });
    const orphan = s.aliceKeys().find((key) => key.accessKeyId !== s.old.accessKeyId)!;
    await killHard(run);
    s.emulator.clearFaults();

    const restart = s.start();
    const { code } = await finish(restart);
    expect(code, restart.stdout() + restart.stderr()).toBe(0);
    const masked = `${orphan.accessKeyId.slice(0, 4)}…${orphan.accessKeyId.slice(-4)}`;
    expect(restart.stdout()).toMatch(new RegExp(`^keyupd: default: Deleted the key ${masked} \\(created [^)]+\\) that an interrupted CreateAccessKey made for user alice`, 'm'));
    const inFile = defaultKeyOf(await readFile(s.paths.credentialsFile, 'utf8'));
    expect(s.aliceKeys().map((key) => key.accessKeyId)).toEqual([inFile.accessKeyId]);
  });

  it('hole 15: two managed profiles holding one key rotate it once in a check', async () => {
    const s = await scene({ config: ['max_age_days = 0', '', '[profile default]', '[profile copy]'] });
    const text = await readFile(s.paths.credentialsFile, 'utf8');
    await writeFile(s.paths.credentialsFile, `${text}\n[copy]\naws_access_key_id = ${s.old.accessKeyId}\naws_secret_access_key = ${s.old.secretAccessKey}\n`);
    const run = s.start();
    const { code } = await finish(run);
    expect(code, run.stdout() + run.stderr()).toBe(0);
    expect(s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey')).toHaveLength(1);
    expect(run.stdout()).toMatch(/^keyupd: default \(alice\): rotated AKIA…\w{4} → AKIA…\w{4} in profiles default, copy\.$/m);
    expect(s.aliceKeys()).toHaveLength(1);
  });

  it.runIf(process.getuid?.() === 0)('hole 6: run as root on a person’s HOME, the credentials file and its backup stay the person’s', async () => {
    const s = await scene();
    await chown(s.paths.credentialsFile, 1000, 1000);
    const run = s.start();
    const { code } = await finish(run);
    expect(code, run.stdout() + run.stderr()).toBe(0);
    const after = await stat(s.paths.credentialsFile);
    expect([after.uid, after.gid]).toEqual([1000, 1000]);
    const backups = join(s.paths.stateDir, 'backups');
    for (const name of await readdir(backups)) {
      const backup = await stat(join(backups, name));
      expect([backup.uid, backup.gid], name).toEqual([1000, 1000]);
    }
  });

  it('hole 13: a temp file a killed keyupd left beside the credentials file is removed at the next start', async () => {
    const s = await scene({ ageDays: 10 });
    // What a kill -9 between the temp file's write and its rename leaves: the whole file, new secret included.
    const dead = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));
    const leftover = join(s.paths.credentialsFile, '..', `.credentials.keyup-${dead}-0123456789ab.tmp`);
    await writeFile(leftover, 'aws_secret_access_key = the-new-secret\n', { mode: 0o600 });
    const { code } = await finish(s.start());
    expect(code).toBe(0);
    expect(await readdir(join(s.paths.credentialsFile, '..'))).toEqual(['credentials']);
  });

  it('hole 9: an AWS config file that is a named pipe ends the run at once with one sentence', async () => {
    const s = await scene();
    await mkdir(join(s.paths.awsConfigFile, '..'), { recursive: true });
    execFileSync('mkfifo', [s.paths.awsConfigFile]);
    const run = s.start();
    const { code } = await finish(run, 10_000);
    expect(code).toBe(1);
    expect(run.stdout()).toContain(`The AWS config file ${s.paths.awsConfigFile} is not a regular file.`);
    expect(s.aliceKeys()).toHaveLength(1);
  });

  it('hole 8: a huge max_age_days is a configuration error naming file, line and key', async () => {
    const s = await scene({ config: ['max_age_days = 100000000'] });
    const run = s.start();
    const { code } = await finish(run);
    expect(code).toBe(2);
    expect(run.stderr()).toMatch(new RegExp(`^keyupd: ${s.paths.keyupConfigFile.replace(/[.]/g, '\\.')}, line 5: max_age_days`, 'm'));
  });
});
