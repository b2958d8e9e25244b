/**
 * Rotation where IAM demands MFA (issue 13), end to end: a real keyupd and keyupctl in a temp
 * HOME against the emulator, whose user alice is under AWS's force-MFA policy with a virtual MFA
 * device that accepts the codes the test sets.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import type { StatusDocument } from '../../src/ipc/protocol.js';
import { runKeyupctl, type CtlRun } from '../ctl/ctl-harness.js';
import { isolateAwsEnvironment } from '../emulator/helpers.js';
import { daysAgo } from '../support/time.js';
import { createDaemonScene, type DaemonScene } from './daemon-harness.js';
import { defaultKeyOf, waitFor } from './keyupd.js';

isolateAwsEnvironment();

const buildDir = inject('buildDir');
const KEYUPD = join(buildDir, 'src', 'bin', 'keyupd.js');
/** Codes no id, date or port of a run is likely to contain, so that a search for them means something. */
const CODE = '583920';
const NEXT_CODE = '719264';
const SESSION_KEY_ID = /\bASIA[A-Z2-7]{16}\b/;

interface MfaScene extends DaemonScene {
  /** alice's key in `[default]`: the one under the force-MFA policy. */
  readonly key: { accessKeyId: string; secretAccessKey: string };
  readonly serial: string;
  readonly original: string;
  setCodes(codes: string[]): void;
  /** keyupctl with the scene's environment, run to its end within a deadline. */
  keyupctl(args: string[]): Promise<CtlRun>;
  /** A stand-in notify-send's record of what it was asked to show. */
  notified(): Promise<{ argv: string[] }[]>;
  status(): Promise<StatusDocument>;
}

/** alice under the force-MFA policy, her 100-day-old key in `[default]`, a virtual device, and notify-send standing in. */
async function mfaScene(): Promise<MfaScene> {
  const s = await createDaemonScene({ buildDir });
  s.emulator.reset();
  s.emulator.createUser({ userName: 'alice', forceMfa: true });
  const key = s.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
  const device = s.emulator.createMfaDevice({ userName: 'alice', kind: 'virtual', codes: [CODE] });
  const original = `# mine\n[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`;
  await writeFile(s.paths.credentialsFile, original);

  const bin = join(s.home.dir, 'bin');
  const record = join(s.home.dir, 'notified.jsonl');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'notify-send'), `#!${process.execPath}\nrequire('fs').appendFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2) }) + '\\n');\n`, { mode: 0o755 });
  const env = { ...s.env, PATH: `${bin}:${s.env.PATH}` };
  Object.assign(s.env, env);

  const status = () => s.call<StatusDocument>('status');
  return Object.assign(s, {
    key: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    serial: device.serialNumber,
    original,
    setCodes: (codes: string[]) => void s.emulator.setMfaCodes({ serialNumber: device.serialNumber, codes }),
    keyupctl: (args: string[]) => runKeyupctl(buildDir, args, { env, cwd: s.home.dir }),
    notified: async () =>
      (await readFile(record, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { argv: string[] }),
    status,
  });
}

const createCalls = (s: MfaScene) => s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey');

/** The file's key is alice's one key, works, and is not the old one; no rotation is left under way. */
async function expectRotated(s: MfaScene) {
  const inFile = defaultKeyOf(await s.readCredentials());
  expect(inFile.accessKeyId).not.toBe(s.key.accessKeyId);
  expect(s.aliceKeys().map((key) => [key.accessKeyId, key.secretAccessKey, key.status])).toEqual([[inFile.accessKeyId, inFile.secretAccessKey, 'Active']]);
  const state = await s.readStateFiles();
  for (const [path, text] of state) if (path.includes('/journal/')) expect(JSON.parse(text), path).toMatchObject({ step: 'retired' });
  expect([...state.keys()].filter((path) => path.endsWith('.lock'))).toEqual([]);
}

describe('keyupd and keyupctl where IAM demands MFA', { timeout: 90_000 }, () => {
  it('a scheduled check ends in needs-mfa, tells the person once, and creates nothing', async () => {
    const s = await mfaScene();
    const run = s.start();
    const status = await s.waitForStatus('needs-mfa after the start-up check', (doc) => doc.profiles[0]?.state === 'needs-mfa', run);
    expect(status.profiles[0]?.error).toEqual({
      code: 'needs-mfa',
      message: `IAM lets user alice change access keys only with MFA, so profile default needs a code from the MFA device ${s.serial} to rotate.`,
      hint: 'Run keyupctl rotate now --profile default (or keyupd --once at a terminal); it asks for the code, or give it with --mfa-code.',
    });
    // The human view says which device, and what to run.
    const shown = await s.keyupctl(['status']);
    expect(shown.stdout).toMatch(/^default .* needs-mfa .* needs a code from the MFA device arn:aws:iam::123456789012:mfa\/alice to rotate\.$/m);
    expect(shown.stdout).toContain('default: Run keyupctl rotate now --profile default');

    // More checks meet the same wish: no second notification, and still nothing made.
    await s.call('reload');
    await s.call('rotate', {});
    await waitFor('the notification', async () => (await s.notified()).length > 0, { timeoutMs: 10_000 });
    const notified = await s.notified();
    expect(notified).toHaveLength(1);
    expect(notified[0]?.argv.slice(1)).toEqual(['Profile default needs an MFA code to rotate its AWS key', 'Run: keyupctl rotate now --profile default (it asks for the code).']);
    expect(createCalls(s)).toEqual([]);
    expect(s.aliceKeys()).toHaveLength(1);
    expect(await s.readCredentials()).toBe(s.original);
    // One refused ListAccessKeys per check: no retry loop.
    const refused = s.emulator.getCallLog().filter((call) => call.action === 'ListAccessKeys');
    expect(refused.every((call) => call.errorCode === 'AccessDenied')).toBe(true);
    expect(refused.length).toBeLessThanOrEqual(3);
  });

  it('rotate now with the right code rotates: the file, IAM and the retirement, all with one MFA session', async () => {
    const s = await mfaScene();
    const run = s.start();
    await s.waitForStatus('needs-mfa', (doc) => doc.profiles[0]?.state === 'needs-mfa', run);

    const rotated = await s.keyupctl(['rotate', 'now', '--mfa-code', CODE]);
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain(`MFA session made with the code of ${s.serial}`);
    expect(rotated.stdout).toMatch(/default: rotated AKIA…\w{4} → AKIA…\w{4}/);
    await expectRotated(s);
    // Only the two values changed.
    const inFile = defaultKeyOf(await s.readCredentials());
    expect((await s.readCredentials()).replace(inFile.accessKeyId, s.key.accessKeyId).replace(inFile.secretAccessKey, s.key.secretAccessKey)).toBe(s.original);
    const sessions = s.emulator.getState().sessions;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ mfaSerialNumber: s.serial, parentAccessKeyId: s.key.accessKeyId });
    const deletes = s.emulator.getCallLog().filter((call) => call.action === 'DeleteAccessKey');
    expect(deletes.map((call) => [call.accessKeyId, call.httpStatus])).toEqual([[sessions[0]!.accessKeyId, 200]]);
    expect((await s.status()).profiles[0]).toMatchObject({ state: 'ok', error: null, last_rotation: { old_key_id: s.key.accessKeyId, ok: true } });

    // No code and no session credential in any log, status or state file.
    const everything = [run.stdout(), run.stderr(), rotated.stdout, JSON.stringify(await s.status()), ...(await s.readStateFiles()).values()].join('\n');
    expect(everything).not.toContain(CODE);
    expect(everything).not.toMatch(SESSION_KEY_ID);
    expect(everything).not.toMatch(/session_?token/i);
  });

  it('a wrong code is refused clearly and changes nothing; the next code works', async () => {
    const s = await mfaScene();
    const run = s.start();
    await s.waitForStatus('needs-mfa', (doc) => doc.profiles[0]?.state === 'needs-mfa', run);

    const wrong = await s.keyupctl(['rotate', 'now', '--mfa-code', '000000']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`AWS refused the MFA code for the device ${s.serial}: it is not the one the device shows now, or it was used already; nothing was changed.`);
    expect(createCalls(s)).toEqual([]);
    expect(s.aliceKeys()).toHaveLength(1);
    expect(await s.readCredentials()).toBe(s.original);
    expect(s.emulator.getState().sessions).toEqual([]);
    expect((await s.status()).profiles[0]).toMatchObject({ state: 'needs-mfa', error: { code: 'mfa-code-refused' } });

    expect((await s.keyupctl(['rotate', 'now', '--mfa-code', CODE])).code).toBe(0);
    await expectRotated(s);
    expect([run.stdout(), run.stderr()].join('\n')).not.toContain(CODE);
  });

  it.each([
    ['the new key was created', /^Created the new key /, false],
    ['the new key was written, while a hook ran', /^Running the post_rotate hook /, true],
  ])('kill -9 after %s: the restart leaves both keys working, and rotate now with a fresh code finishes with no orphan', async (_moment, killAt, withHook) => {
    const s = await mfaScene();
    if (withHook) {
      const hook = join(s.home.dir, 'push-key');
      await s.writeConfig(['[keyup]', `post_rotate = ${hook}`]);
      // A hook that hangs the first time it runs (keyupd is killed under it), and succeeds after.
      await writeFile(hook, `#!/bin/sh\nif [ ! -e "${hook}.ran" ]; then touch "${hook}.ran"; sleep 60; fi\nexit 0\n`, { mode: 0o755 });
    }
    // Verification waits out IAM's spread of the new key: a moment to kill keyupd in.
    s.emulator.setActivationDelay(1_500);
    const first = s.start();
    await s.waitForStatus('needs-mfa', (doc) => doc.profiles[0]?.state === 'needs-mfa', first);

    const rotating = s.keyupctl(['rotate', 'now', '--mfa-code', CODE]);
    await first.waitForLog(killAt, 30_000);
    // keyupd logs the hook just before it starts it: killed in between, the hook would first run
    // (and hang) after the restart. The hook's mark says it runs.
    const hookMark = join(s.home.dir, 'push-key.ran');
    if (withHook) await waitFor('the hook to have started', () => existsSync(hookMark), { run: first });
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await rotating).code).not.toBe(0);
    const keys = s.aliceKeys();
    expect(keys).toHaveLength(2);
    expect(keys.every((key) => key.status === 'Active')).toBe(true);

    // The restart's own check cannot finish without a code: both keys stay, and it says so.
    s.emulator.setActivationDelay(0);
    const second = s.start();
    const waiting = await s.waitForStatus('needs-mfa after the restart', (doc) => doc.pid === second.child.pid && doc.profiles[0]?.state === 'needs-mfa', second);
    expect(waiting.profiles[0]?.error?.message).toContain(s.serial);
    expect(s.aliceKeys()).toHaveLength(2);
    const inFile = defaultKeyOf(await s.readCredentials());
    expect(s.aliceKeys().map((key) => key.accessKeyId)).toContain(inFile.accessKeyId);

    s.setCodes([NEXT_CODE]);
    const finished = await s.keyupctl(['rotate', 'now', '--mfa-code', NEXT_CODE]);
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
    await expectRotated(s);
    expect(s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey' && call.httpStatus === 200)).toHaveLength(1);
  });
});

describe('keyupd --once where IAM demands MFA', { timeout: 60_000 }, () => {
  it.skipIf(process.platform !== 'linux')('asks for the code at a terminal and rotates', async () => {
    const s = await mfaScene();
    // script(1) gives keyupd a pseudo-terminal, as a person running it by hand has.
    const child = spawn('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(KEYUPD)} --once`, '/dev/null'], { env: { ...s.env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (!answered && output.includes('MFA code for profile default: ')) {
        answered = true;
        child.stdin.write(`${CODE}\r`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(output).toContain(`needs a code from the MFA device ${s.serial}`);
    expect(code).toBe(0);
    expect(output).toMatch(/keyupd: default \(alice\): rotated AKIA…\w{4} → AKIA…\w{4} in profile default\./);
    await expectRotated(s);
  });

  it('from cron (no terminal) reports needs-mfa in one sentence, exits 1, and makes nothing', async () => {
    const s = await mfaScene();
    const ran = await promisify(execFile)(process.execPath, [KEYUPD, '--once'], { env: s.env }).then(
      (done) => ({ code: 0, ...done }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(ran.code).toBe(1);
    expect(ran.stdout).toContain(`needs a code from the MFA device ${s.serial} to rotate`);
    expect(ran.stderr).not.toContain('MFA code for profile');
    expect(createCalls(s)).toEqual([]);
    expect(await s.readCredentials()).toBe(s.original);
  });
});
