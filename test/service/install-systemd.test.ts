import { execFile } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyupError } from '../../src/errors.js';
import { install, uninstall, type InstallInit } from '../../src/service/install.js';
import { createRunCommand } from '../../src/service/run-command.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';
import { createFakeNode, createFakePackage, createStandIns, type StandIns } from './stand-ins.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The real install code, real files, real (stand-in) systemctl processes. */
describe('keyupctl install on Linux (systemd user unit)', () => {
  let home: TempHome;
  let standIns: StandIns;
  let keyupd: string;
  let node: string;
  let init: InstallInit;
  let unitFile: string;

  const withEnv = (extra: Record<string, string>): InstallInit => {
    const env = { ...init.env, ...extra };
    return { ...init, env, run: createRunCommand({ env }) };
  };

  beforeEach(async () => {
    home = await createTempHome();
    standIns = await createStandIns(home.dir);
    const fakePackage = await createFakePackage(home.dir);
    keyupd = await realpath(fakePackage.keyupd);
    node = await createFakeNode(home.dir);
    const env = { ...home.env, ...standIns.env };
    init = {
      platform: 'linux',
      env,
      homedir: home.dir,
      uid: 1000,
      run: createRunCommand({ env }),
      fs: nodeFs,
      execPath: node,
      scriptPath: fakePackage.keyupctlLink,
      templateDir: ROOT,
    };
    unitFile = join(home.dir, '.config', 'systemd', 'user', 'keyupd.service');
  });
  afterEach(() => home.remove());

  it('writes the unit with the absolute paths of this node and of the keyupd.js beside keyupctl, then reloads, enables and starts it', async () => {
    const { lines } = await install(init);

    const unit = await readFile(unitFile, 'utf8');
    expect(unit).toContain(`\nExecStart=${node} ${keyupd}\n`);
    // The paths keyupctl resolved are the daemon's too, whatever the user manager's environment.
    expect(unit).toContain(`\nEnvironment=XDG_CONFIG_HOME=${home.env.XDG_CONFIG_HOME}\nEnvironment=XDG_STATE_HOME=${home.env.XDG_STATE_HOME}\n`);
    expect(unit).not.toContain('{{');
    expect((await stat(unitFile)).mode & 0o777).toBe(0o600);
    expect(await standIns.calls()).toEqual(['systemctl --user show --property=Version', 'systemctl --user daemon-reload', 'systemctl --user enable --now keyupd.service']);
    expect(lines).toEqual([
      `Wrote ${unitFile} (keyupd runs as ${node} ${keyupd}).`,
      'Ran: systemctl --user daemon-reload',
      'Ran: systemctl --user enable --now keyupd.service',
      'keyupd.service is enabled and started: journalctl --user -u keyupd shows its log, keyupctl status whether it answers.',
    ]);
  });

  it.runIf(process.platform === 'linux')('writes a unit that systemd-analyze --user verify accepts without a warning', async () => {
    await install(init);

    // verify exits 0 on a bad value and only warns, so silence on stderr is what counts.
    const { stderr } = await promisify(execFile)('systemd-analyze', ['--user', 'verify', unitFile], { env: { ...process.env, XDG_RUNTIME_DIR: home.dir } });
    expect(stderr).toBe('');
  });

  it('says to run it again after switching Node versions when the node it names belongs to one (nvm, fnm, volta)', async () => {
    const nvmNode = await createFakeNode(join(home.dir, '.nvm', 'versions', 'node', 'v20.19.0'));

    const { lines } = await install({ ...init, execPath: nvmNode });

    expect(lines.at(-1)).toBe(`That node belongs to one Node version (${dirname(dirname(nvmNode))}): run keyupctl install again after switching versions.`);
  });

  it('changes nothing the second time: the unit is not rewritten, nothing is reloaded or restarted', async () => {
    await install(init);
    const before = await stat(unitFile);
    await standIns.clear();

    const { lines } = await install(init);

    const after = await stat(unitFile);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    // enable --now of an enabled, running unit does nothing; of a stopped one, starts it.
    expect(await standIns.calls()).toEqual(['systemctl --user show --property=Version', 'systemctl --user enable --now keyupd.service']);
    expect(lines[0]).toBe(`${unitFile} is up to date (keyupd runs as ${node} ${keyupd}).`);
  });

  it('rewrites a unit that differs and restarts keyupd on it', async () => {
    await install(init);
    await writeFile(unitFile, (await readFile(unitFile, 'utf8')).replace('RestartSec=10s', 'RestartSec=1s'));
    await standIns.clear();

    await install(init);

    expect(await readFile(unitFile, 'utf8')).toContain('\nRestartSec=10s\n');
    expect(await standIns.calls()).toEqual([
      'systemctl --user show --property=Version',
      'systemctl --user daemon-reload',
      'systemctl --user enable keyupd.service',
      'systemctl --user restart keyupd.service',
    ]);
  });

  it('with --dry-run, shows the unit and the commands, and writes and runs nothing', async () => {
    const { lines } = await install(init, { dryRun: true });

    expect(nodeFs.existsSync(join(home.dir, '.config', 'systemd'))).toBe(false);
    expect(await standIns.calls()).toEqual([]);
    expect(lines[0]).toBe(`Would write ${unitFile} (mode 0600, a new file):`);
    expect(lines).toContain(`ExecStart=${node} ${keyupd}`);
    expect(lines.slice(-2)).toEqual(['Would run: systemctl --user daemon-reload', 'Would run: systemctl --user enable --now keyupd.service']);
  });

  it('uninstall stops and disables keyupd, removes the unit and reloads', async () => {
    await install(init);
    await standIns.clear();

    const { lines } = await uninstall(init);

    expect(nodeFs.existsSync(unitFile)).toBe(false);
    expect(await standIns.calls()).toEqual(['systemctl --user show --property=Version', 'systemctl --user disable --now keyupd.service', 'systemctl --user daemon-reload']);
    expect(lines).toEqual(['Ran: systemctl --user disable --now keyupd.service', `Removed ${unitFile}.`, 'Ran: systemctl --user daemon-reload', 'keyupd.service is stopped and removed.']);
  });

  it('uninstall when nothing is installed says so, runs nothing and succeeds', async () => {
    const { lines } = await uninstall(init);

    expect(lines).toEqual([`keyupd.service is not installed (there is no ${unitFile}); nothing to do.`]);
    expect(await standIns.calls()).toEqual([]);
  });

  it('where no user bus answers, says so and what to do instead in one line, exit code 1, and leaves nothing behind', async () => {
    const error = await install(withEnv({ KEYUP_STAND_IN_SYSTEMCTL: 'no-bus' })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(KeyupError);
    const keyupError = error as KeyupError;
    expect(keyupError.exitCode).toBe(1);
    expect(keyupError.code).toBe('no-service-manager');
    expect(keyupError.userMessage).toBe(
      'No systemd user manager answers here (systemctl --user: Failed to connect to bus: No medium found, exit status 1), so keyupd cannot be installed as a service. ' +
        "Start keyupd from your session's autostart instead, or run keyupd --once daily from cron.",
    );
    expect(nodeFs.existsSync(unitFile)).toBe(false);
    expect(await standIns.calls()).toEqual(['systemctl --user show --property=Version']);
  });

  it('where systemctl is missing, says so the same way', async () => {
    const error = await install(withEnv({ PATH: join(home.dir, 'empty') })).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ exitCode: 1, code: 'no-service-manager', message: 'systemctl is not installed, so there is no systemd user manager here and keyupd cannot be installed as a service.' });
  });

  it('reports a command the manager refuses, with its own words', async () => {
    const error = await install(withEnv({ KEYUP_STAND_IN_SYSTEMCTL: 'fail-enable' })).catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      exitCode: 1,
      code: 'service-failed',
      message: 'systemctl --user enable --now keyupd.service failed (Failed to enable unit: Unit file keyupd.service does not exist, exit status 1).',
      hint: 'systemctl --user status keyupd.service and journalctl --user -u keyupd tell why.',
    });
  });
});
