/**
 * The built keyupctl's install, with stand-ins for systemctl on PATH: what it prints and runs
 * where a person types it. (test/install.test.ts runs it from a real global install with a
 * stand-in user manager that starts the unit.)
 */
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { runKeyupctl } from '../ctl/ctl-harness.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';
import { createStandIns, type StandIns } from './stand-ins.js';

const buildDir = inject('buildDir');

describe.runIf(process.platform === 'linux')('keyupctl install, built, as a person runs it', () => {
  let home: TempHome;
  let standIns: StandIns;

  beforeEach(async () => {
    home = await createTempHome();
    standIns = await createStandIns(home.dir);
  });
  afterEach(() => home.remove());

  const keyupctl = (args: string[], extraEnv: Record<string, string> = {}) => runKeyupctl(buildDir, args, { env: { ...home.env, ...standIns.env, ...extraEnv }, cwd: home.dir });

  it('finds its templates from the build and, dry, prints the unit with this node and keyupd.js, running nothing', async () => {
    const { code, stdout, stderr } = await keyupctl(['install', '--dry-run']);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Would write ${join(home.dir, '.config', 'systemd', 'user', 'keyupd.service')} (mode 0600, a new file):\n`);
    expect(stdout).toMatch(new RegExp(`^ExecStart=/\\S+ ${await realpath(join(buildDir, 'src', 'bin', 'keyupd.js'))}$`, 'm'));
    expect(await standIns.calls()).toEqual([]);
  });

  it('where no user manager answers, prints one line saying so and what to do, and exits 1', async () => {
    const { code, stdout, stderr } = await keyupctl(['install'], { KEYUP_STAND_IN_SYSTEMCTL: 'no-bus' });

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^keyupctl: No systemd user manager answers here \(systemctl --user: Failed to connect to bus: No medium found, exit status 1\), so keyupd cannot be installed as a service\. Start keyupd .*daily from cron\.\n$/);
  });
});
