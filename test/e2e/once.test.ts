import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';
import { daysAgo } from '../support/time.js';

const KEYUPD = join(inject('buildDir'), 'src', 'bin', 'keyupd.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** keyupd --once as cron would run it: a clean environment, nothing but what it is given. */
function runKeyupd(env: Record<string, string>, args: string[] = ['--once']): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KEYUPD, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

describe('keyupd --once, as a user or cron meets it', () => {
  let emulator: Emulator;
  let home: TempHome;
  let env: Record<string, string>;

  type Key = { accessKeyId: string; secretAccessKey: string };
  async function setUp(credentials: (keys: { alice: Key; bob: Key }) => string, config?: string) {
    emulator = await startEmulator();
    home = await createTempHome();
    env = { ...home.env, AWS_ENDPOINT_URL_IAM: emulator.endpoint, AWS_ENDPOINT_URL_STS: emulator.endpoint, AWS_REGION: 'us-east-1' };
    emulator.createUser({ userName: 'alice' });
    emulator.createUser({ userName: 'bob' });
    const keys = {
      alice: emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) }),
      bob: emulator.createAccessKey({ userName: 'bob', createDate: daysAgo(10) }),
    };
    await mkdir(dirname(env.AWS_SHARED_CREDENTIALS_FILE!), { recursive: true });
    await writeFile(env.AWS_SHARED_CREDENTIALS_FILE!, credentials(keys), { mode: 0o600 });
    if (config !== undefined) {
      await mkdir(join(env.XDG_CONFIG_HOME!, 'keyup'), { recursive: true });
      await writeFile(join(env.XDG_CONFIG_HOME!, 'keyup', 'config'), config);
    }
    return keys;
  }
  const profile = (name: string, key: Key) => `[${name}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`;

  afterEach(async () => {
    await emulator?.stop();
    await home?.remove();
  });

  it('prints one line per managed profile, exits 0, and shows no secret and no SDK notice', async () => {
    const keys = await setUp((k) => profile('default', k.alice) + profile('bob', k.bob), '[profile default]\n[profile bob]\n');
    const run = await runKeyupd(env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^keyupd: default \(alice\): rotated AKIA…\w{4} → AKIA…\w{4} in profile default\.$/);
    expect(lines[1]).toMatch(/^keyupd: bob \(bob\): key AKIA…\w{4} is 10\.0 days old, ok; rotation due on \d{4}-\d\d-\d\d\.$/);
    const output = run.stdout + run.stderr;
    expect(output).not.toMatch(/NodeVersionSupportWarning|node >=22/);
    const secrets = [keys.alice.secretAccessKey, keys.bob.secretAccessKey, ...emulator.getState().accessKeys.map((key) => key.secretAccessKey)];
    for (const secret of secrets) expect(output).not.toContain(secret);
  });

  it('exits 4 when a live session defers the rotation, and names it', async () => {
    await setUp((k) => profile('default', k.alice));
    const sessionKey = emulator.createAccessKey({ userName: 'bob' });
    const { STSClient, GetSessionTokenCommand } = await import('@aws-sdk/client-sts');
    const sts = new STSClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: sessionKey, maxAttempts: 1 });
    const { Credentials: session } = await sts.send(new GetSessionTokenCommand({}));
    sts.destroy();
    await writeFile(
      env.AWS_SHARED_CREDENTIALS_FILE!,
      `${profile('default', emulator.getState().accessKeys.find((key) => key.userName === 'alice')!)}\n[mfa]\naws_access_key_id = ${session!.AccessKeyId}\naws_secret_access_key = ${session!.SecretAccessKey}\naws_session_token = ${session!.SessionToken}\n`,
    );
    const run = await runKeyupd(env);
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('keyupd: default (alice): deferred until its session ends: profile mfa holds temporary credentials that AWS still accepts.');
    expect(run.stdout + run.stderr).not.toContain(session!.SessionToken!);
  });

  it('exits 1 when one profile fails, after still rotating the others', async () => {
    await setUp((k) => profile('default', k.alice) + profile('gone', { accessKeyId: 'AKIAUNKNOWNUNKNOWN12', secretAccessKey: 'x' }), '[profile gone]\n[profile default]\n');
    const run = await runKeyupd(env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^keyupd: gone: The key AKIA…WN12 in profile gone is not valid: AWS does not accept it\. Put a working access key in profile gone \(aws configure --profile gone\)\.$/m);
    expect(run.stdout).toMatch(/^keyupd: default \(alice\): rotated /m);
    // The hints promise details with --debug: the stack of what AWS answered.
    const debug = await runKeyupd(env, ['--once', '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/InvalidClientTokenId[^\n]*\n\s+at /);
  });

  it('refuses a bad configuration with exit 2, naming the file, the line and the key', async () => {
    await setUp((k) => profile('default', k.alice), '[keyup]\nold_key = shred\n');
    const run = await runKeyupd(env);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/^keyupd: \S+\/keyup\/config, line 2: old_key /);
    expect(run.stdout).toBe('');
    expect(emulator.getCallLog()).toEqual([]);
  });

  it('says what is wrong with bad usage in one sentence and exits 2', async () => {
    await setUp((k) => profile('default', k.alice));
    for (const args of [['--once', '--log-level', 'loud'], ['--once', '--frobnicate'], ['--once', 'extra'], ['--config']]) {
      expect(await runKeyupd(env, args), args.join(' ')).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^keyupd: [^\n]*Run keyupd --help for usage\.\n$/) });
    }
    expect(emulator.getCallLog()).toEqual([]);
  });

  it('prints its help and its version, without the AWS SDK or a configuration', async () => {
    await setUp((k) => profile('default', k.alice));
    const help = await runKeyupd(env, ['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: keyupd \[--once\]/);
    for (const flag of ['--once', '--config', '--socket', '--log-level', '--debug', '--version']) expect(help.stdout).toContain(flag);
    expect(await runKeyupd(env, ['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });
});
