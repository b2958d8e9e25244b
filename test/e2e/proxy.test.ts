/** keyupd --once as a person behind a proxy runs it: HTTP(S)_PROXY in the environment, nothing else. */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

const KEYUPD = join(inject('buildDir'), 'src', 'bin', 'keyupd.js');

describe('keyupd --once behind a proxy', () => {
  let emulator: Emulator | undefined;
  let home: TempHome | undefined;
  let proxy: ConnectProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await emulator?.stop();
    await home?.remove();
  });

  it('rotates with every AWS call through the proxy', async () => {
    emulator = await startEmulator();
    proxy = await startConnectProxy();
    home = await createTempHome('keyup-proxy-');
    emulator.createUser({ userName: 'alice' });
    const old = emulator.createAccessKey({ userName: 'alice', createDate: new Date(Date.now() - 100 * 86_400_000).toISOString() });
    const credentialsFile = home.env.AWS_SHARED_CREDENTIALS_FILE ?? '';
    await mkdir(dirname(credentialsFile), { recursive: true, mode: 0o700 });
    await writeFile(credentialsFile, `[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`, { mode: 0o600 });
    // Hosts nobody resolves: only the proxy, which sends them to the emulator, reaches them.
    const port = new URL(emulator.endpoint).port;
    const env = { ...home.env, PATH: process.env.PATH ?? '', HTTP_PROXY: proxy.url, AWS_ENDPOINT_URL_IAM: `http://iam.keyup.test:${port}`, AWS_ENDPOINT_URL_STS: `http://sts.keyup.test:${port}`, AWS_REGION: 'us-east-1' };

    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [KEYUPD, '--once'], { env, cwd: home?.dir, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      });
    });

    expect(run, run.stdout + run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/^keyupd: default \(alice\): rotated AKIA…\w{4} → AKIA…\w{4} in profile default\.$/m);
    const keys = emulator.getState().accessKeys.filter((key) => key.userName === 'alice');
    expect(keys).toHaveLength(1);
    expect(await readFile(credentialsFile, 'utf8')).toContain(keys[0]?.accessKeyId);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`iam.keyup.test:${port}`, `sts.keyup.test:${port}`]));
    expect(run.stdout + run.stderr).not.toContain(proxy.url);
  });
});
