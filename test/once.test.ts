import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { createSdkKeyApi } from '../src/aws/sdk-key-api.js';
import { runOnce } from '../src/once.js';
import { resolvePaths } from '../src/paths.js';
import { Journal } from '../src/rotation/journal.js';
import { createTempHome, type TempHome } from './support/temp-home.js';

describe('runOnce', () => {
  let emulator: Emulator;
  let home: TempHome;
  afterEach(async () => {
    await emulator?.stop();
    await home?.remove();
  });

  it('reports a profile another live process is rotating as busy, once, and leaves it alone (exit 0)', async () => {
    emulator = await startEmulator();
    home = await createTempHome();
    const paths = resolvePaths({ env: home.env, home: home.dir });
    emulator.createUser({ userName: 'alice' });
    const old = emulator.createAccessKey({ userName: 'alice', createDate: '2020-01-01T00:00:00Z' });
    const fresh = emulator.createAccessKey({ userName: 'alice' });
    await fs.mkdir(dirname(paths.credentialsFile), { recursive: true });
    await fs.writeFile(paths.credentialsFile, `[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`, { mode: 0o600 });
    await fs.mkdir(dirname(paths.keyupConfigFile), { recursive: true });
    await fs.writeFile(paths.keyupConfigFile, '[keyup]\nlog = file\n');
    // Another live process (our parent) is in the middle of rotating default.
    await new Journal({ fs: nodeFs, stateDir: paths.stateDir }).write({
      version: 1,
      profile: 'default',
      step: 'created',
      startedAt: new Date().toISOString(),
      force: false,
      user: { name: 'alice', arn: `arn:aws:iam::${emulator.accountId}:user/alice`, account: emulator.accountId },
      oldKey: 'delete',
      oldKeyId: old.accessKeyId,
      newKey: { accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey, createDate: fresh.createDate },
    });
    const since = new Date().toISOString();
    await fs.mkdir(join(paths.stateDir, 'locks'), { recursive: true });
    await fs.writeFile(join(paths.stateDir, 'locks', `${old.accessKeyId}.lock`), JSON.stringify({ pid: process.ppid, token: 'theirs', profile: 'default', since }));

    const lines: string[] = [];
    const code = await runOnce({
      env: home.env,
      home: home.dir,
      print: (line) => lines.push(line),
      keyApi: createSdkKeyApi({ iamEndpoint: emulator.endpoint, stsEndpoint: emulator.endpoint }),
    });
    // Busy is not a failure (SPEC): every profile busy or done exits 0.
    expect(code).toBe(0);
    expect(lines).toEqual([`default: busy: keyup process ${process.ppid} is rotating it (since ${since}); left to it.`]);
    // Logged once, as information, and the other process's rotation was left alone.
    const log = await fs.readFile(join(paths.stateDir, 'keyupd.log'), 'utf8');
    expect(log.split('\n').filter((line) => line.includes(`is being rotated by keyup process ${process.ppid}`))).toHaveLength(1);
    expect(log).not.toContain('"level":50');
    expect(emulator.getCallLog()).toEqual([]);
  });

  // Without a KeyApi of its own, runOnce once made the SDK's with process.env, not the env given.
  it('reaches AWS where the env it is given and the AWS config file say, not process.env', async () => {
    emulator = await startEmulator();
    home = await createTempHome();
    const paths = resolvePaths({ env: home.env, home: home.dir });
    emulator.createUser({ userName: 'alice' });
    const old = emulator.createAccessKey({ userName: 'alice', createDate: '2020-01-01T00:00:00Z' });
    await fs.mkdir(dirname(paths.credentialsFile), { recursive: true });
    await fs.writeFile(paths.credentialsFile, `[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`, { mode: 0o600 });
    // IAM from the environment given; STS from the AWS config file's services section.
    await fs.mkdir(dirname(paths.keyupConfigFile), { recursive: true });
    await fs.writeFile(paths.keyupConfigFile, '[keyup]\nlog = file\n');
    await fs.writeFile(paths.awsConfigFile, `[default]\nservices = local\n\n[services local]\nsts =\n  endpoint_url = ${emulator.endpoint}\n`);
    const env = { ...home.env, AWS_ENDPOINT_URL_IAM: emulator.endpoint };
    expect(process.env.AWS_ENDPOINT_URL_IAM).toBeUndefined();

    const lines: string[] = [];
    const code = await runOnce({ env, home: home.dir, print: (line) => lines.push(line) });
    expect(lines.join('\n')).toMatch(/^default \(alice\): rotated /);
    expect(code).toBe(0);
    const actions = new Set(emulator.getCallLog().map((call) => call.action));
    expect(actions).toContain('GetCallerIdentity');
    expect(actions).toContain('CreateAccessKey');
  });
});
