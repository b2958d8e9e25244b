import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';
import { daysAgo } from '../support/time.js';

const KEYUPD = join(inject('buildDir'), 'src', 'bin', 'keyupd.js');

// SPEC "Files and places": endpoint_url in the AWS config file is honoured. Production once never
// passed the config file's endpoints to the SDK KeyApi, so only AWS_ENDPOINT_URL_* reached it.
describe('keyupd --once with endpoint_url in the AWS config file and no AWS_ENDPOINT_URL_* variable', () => {
  let emulator: Emulator | undefined;
  let home: TempHome | undefined;
  afterEach(async () => {
    await emulator?.stop();
    await home?.remove();
  });

  it('rotates against that endpoint', async () => {
    emulator = await startEmulator();
    home = await createTempHome('keyup-endpoint-url-');
    const { env } = home;
    emulator.createUser({ userName: 'alice' });
    const old = emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
    const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE ?? '';
    const configFile = env.AWS_CONFIG_FILE ?? '';
    await mkdir(dirname(credentialsFile), { recursive: true, mode: 0o700 });
    await writeFile(credentialsFile, `[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`, { mode: 0o600 });
    await writeFile(configFile, `[default]\nregion = us-east-1\nendpoint_url = ${emulator.endpoint}\n`, { mode: 0o600 });

    // Nothing but the temp home: no AWS_ENDPOINT_URL*, no AWS_REGION, not the real HOME.
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [KEYUPD, '--once'], { env: { ...env, PATH: process.env.PATH ?? '' }, cwd: home?.dir, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      });
    });

    expect(run, run.stdout + run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/^keyupd: default \(alice\): rotated AKIA…\w{4} → AKIA…\w{4} in profile default\.$/m);
    const keys = emulator.getState().accessKeys.filter((key) => key.userName === 'alice');
    expect(keys.map((key) => key.accessKeyId)).not.toContain(old.accessKeyId);
    expect(keys).toHaveLength(1);
    expect(await readFile(credentialsFile, 'utf8')).toContain(keys[0]?.accessKeyId);
    for (const secret of [old.secretAccessKey, ...keys.map((key) => key.secretAccessKey)]) expect(run.stdout + run.stderr).not.toContain(secret);
  });
});
