import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createTempHome, type TempHome } from '../support/temp-home.js';
import { createFakePackage, createStandIns, type FakePackage, type StandIns } from './stand-ins.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'keyupctl-service.mjs');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The compiled service module in a process of its own, as keyupctl will run it. */
describe('the compiled service module, as keyupctl runs it', () => {
  let home: TempHome;
  let standIns: StandIns;
  let fakePackage: FakePackage;

  beforeEach(async () => {
    home = await createTempHome();
    standIns = await createStandIns(home.dir);
    fakePackage = await createFakePackage(home.dir);
  });
  afterEach(() => home.remove());

  const runService = (action: string, extraEnv: Record<string, string> = {}): Promise<Outcome> => {
    const moduleUrl = pathToFileURL(join(inject('buildDir'), 'src', 'service', 'install.js')).href;
    const overrides = JSON.stringify({ platform: 'linux', scriptPath: fakePackage.keyupctlLink });
    return new Promise((resolve) => {
      execFile(process.execPath, [FIXTURE, moduleUrl, action, overrides], { env: { ...home.env, ...standIns.env, ...extraEnv } }, (error, stdout, stderr) => {
        resolve({ code: typeof error?.code === 'number' ? error.code : error === null ? 0 : -1, stdout, stderr });
      });
    });
  };

  it('finds its templates from the build and, dry, prints the unit with this node and keyupd.js, running nothing', async () => {
    const { code, stdout, stderr } = await runService('install-dry-run');

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Would write ${join(home.dir, '.config', 'systemd', 'user', 'keyupd.service')} (mode 0600, a new file):\n`);
    expect(stdout).toMatch(new RegExp(`^ExecStart=/\\S+ ${await realpath(fakePackage.keyupd)}$`, 'm'));
    expect(await standIns.calls()).toEqual([]);
  });

  it('where no user manager answers, prints one line saying so and what to do, and exits 1', async () => {
    const { code, stdout, stderr } = await runService('install', { KEYUP_STAND_IN_SYSTEMCTL: 'no-bus' });

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^keyupctl: No systemd user manager answers here \(systemctl --user: Failed to connect to bus: No medium found, exit status 1\), so keyupd cannot be installed as a service\. Start keyupd .*daily from cron\.\n$/);
  });
});
