import { execFile } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { install, uninstall, type InstallInit } from '../../src/service/install.js';
import { resolvePaths } from '../../src/paths.js';
import { createRunCommand } from '../../src/service/run-command.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';
import { createFakeNode, createFakePackage, createStandIns, type StandIns } from './stand-ins.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The real install code with the platform said to be macOS, real files, a stand-in launchctl. */
describe('keyupctl install on macOS (launchd agent)', () => {
  let home: TempHome;
  let standIns: StandIns;
  let keyupd: string;
  let node: string;
  let init: InstallInit;
  let plist: string;
  let logFile: string;

  const withEnv = (extra: Record<string, string>): InstallInit => {
    const env = { ...init.env, ...extra };
    return { ...init, env, run: createRunCommand({ env }) };
  };
  const bootstrap = () => `launchctl bootstrap gui/501 ${plist}`;

  beforeEach(async () => {
    home = await createTempHome();
    standIns = await createStandIns(home.dir);
    const fakePackage = await createFakePackage(home.dir);
    keyupd = await realpath(fakePackage.keyupd);
    node = await createFakeNode(home.dir);
    const env = { ...home.env, ...standIns.env };
    init = { platform: 'darwin', env, homedir: home.dir, uid: 501, run: createRunCommand({ env }), fs: nodeFs, execPath: node, scriptPath: fakePackage.keyupctlLink, templateDir: ROOT };
    plist = join(home.dir, 'Library', 'LaunchAgents', 'dev.keyup.keyupd.plist');
    logFile = join(resolvePaths({ env: home.env, home: home.dir }).stateDir, 'launchd.log');
  });
  afterEach(() => home.remove());

  it('writes the agent with absolute paths, makes its private log file, boots out any old agent, then bootstraps it', async () => {
    const { lines } = await install(init);

    const script = 'import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))';
    const { stdout } = await promisify(execFile)('python3', ['-c', script, plist]);
    expect(JSON.parse(stdout)).toMatchObject({
      Label: 'dev.keyup.keyupd',
      ProgramArguments: [node, keyupd],
      StandardOutPath: logFile,
      StandardErrorPath: logFile,
      EnvironmentVariables: {
        XDG_CONFIG_HOME: home.env.XDG_CONFIG_HOME,
        XDG_STATE_HOME: home.env.XDG_STATE_HOME,
        XDG_RUNTIME_DIR: home.env.XDG_RUNTIME_DIR,
        AWS_SHARED_CREDENTIALS_FILE: home.env.AWS_SHARED_CREDENTIALS_FILE,
        AWS_CONFIG_FILE: home.env.AWS_CONFIG_FILE,
      },
    });
    expect((await stat(plist)).mode & 0o777).toBe(0o600);
    expect((await stat(logFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(logFile))).mode & 0o777).toBe(0o700);
    expect(await standIns.calls()).toEqual(['launchctl print gui/501', 'launchctl bootout gui/501/dev.keyup.keyupd', 'launchctl enable gui/501/dev.keyup.keyupd', bootstrap()]);
    expect(lines).toEqual([
      `Wrote ${plist} (keyupd runs as ${node} ${keyupd}).`,
      'Ran: launchctl bootout gui/501/dev.keyup.keyupd (it was not loaded)',
      'Ran: launchctl enable gui/501/dev.keyup.keyupd',
      `Ran: ${bootstrap()}`,
      `dev.keyup.keyupd is loaded and started: ${logFile} holds its log, keyupctl status tells whether it answers.`,
    ]);
  });

  it('changes nothing the second time: the agent is neither rewritten nor booted out, and kickstart starts it only if it stopped', async () => {
    await install(init);
    const before = await stat(plist);
    await standIns.clear();

    const { lines } = await install(init);

    const after = await stat(plist);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await standIns.calls()).toEqual([
      'launchctl print gui/501',
      'launchctl enable gui/501/dev.keyup.keyupd',
      bootstrap(),
      'launchctl print gui/501/dev.keyup.keyupd',
      'launchctl kickstart gui/501/dev.keyup.keyupd',
    ]);
    expect(lines).toContain(`Ran: ${bootstrap()} (it was loaded already)`);
  });

  it('after a change, waits while launchd still holds the old agent (bootstrap error 5), then bootstraps the new one', async () => {
    await install(init);
    await writeFile(plist, (await readFile(plist, 'utf8')).replace('<integer>30</integer>', '<integer>5</integer>'));
    await standIns.clear();

    const { lines } = await install(withEnv({ KEYUP_STAND_IN_LINGER: '1' }));

    expect(await readFile(plist, 'utf8')).toContain('<integer>30</integer>');
    expect(await standIns.calls()).toEqual([
      'launchctl print gui/501',
      'launchctl bootout gui/501/dev.keyup.keyupd',
      'launchctl enable gui/501/dev.keyup.keyupd',
      bootstrap(),
      'launchctl print gui/501/dev.keyup.keyupd',
      'launchctl print gui/501/dev.keyup.keyupd',
      bootstrap(),
    ]);
    expect(lines).toContain(`Ran: ${bootstrap()} (once launchd had let go of the old agent)`);
    expect(await readFile(join(standIns.state, 'loaded'), 'utf8')).toBe(plist);
  });

  it('reports a bootstrap that launchd refuses with nothing loaded (error 5 of a bad agent) in launchctl’s words', async () => {
    const error = await install(withEnv({ KEYUP_STAND_IN_LAUNCHCTL: 'bad-plist' })).catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      exitCode: 1,
      code: 'service-failed',
      message: `${bootstrap()} failed (Bootstrap failed: 5: Input/output error, exit status 5).`,
      hint: `plutil -lint ${plist} and launchctl print gui/501/dev.keyup.keyupd tell more.`,
    });
  });

  it('with --dry-run, shows the agent and the commands, and writes and runs nothing', async () => {
    const { lines } = await install(init, { dryRun: true });

    expect(nodeFs.existsSync(join(home.dir, 'Library'))).toBe(false);
    expect(nodeFs.existsSync(dirname(logFile))).toBe(false);
    expect(await standIns.calls()).toEqual([]);
    expect(lines).toContain(`    <string>${keyupd}</string>`);
    expect(lines.slice(-4)).toEqual([
      `Would make ${logFile} (mode 0600) for keyupd's output, if it is not there.`,
      'Would run: launchctl bootout gui/501/dev.keyup.keyupd',
      'Would run: launchctl enable gui/501/dev.keyup.keyupd',
      `Would run: ${bootstrap()}`,
    ]);
  });

  it('uninstall boots the agent out and removes it, waiting while keyupd stops', async () => {
    await install(init);
    await standIns.clear();

    const { lines } = await uninstall(withEnv({ KEYUP_STAND_IN_LAUNCHCTL: 'slow-bootout' }));

    expect(nodeFs.existsSync(plist)).toBe(false);
    expect(nodeFs.existsSync(join(standIns.state, 'loaded'))).toBe(false);
    expect(await standIns.calls()).toEqual(['launchctl print gui/501', 'launchctl bootout gui/501/dev.keyup.keyupd', 'launchctl print gui/501/dev.keyup.keyupd']);
    expect(lines).toEqual(['Ran: launchctl bootout gui/501/dev.keyup.keyupd (once keyupd had stopped)', `Removed ${plist}.`, 'dev.keyup.keyupd is stopped and removed.']);
  });

  it('uninstall when nothing is installed says so, runs nothing and succeeds', async () => {
    const { lines } = await uninstall(init);

    expect(lines).toEqual([`dev.keyup.keyupd is not installed (there is no ${plist}); nothing to do.`]);
    expect(await standIns.calls()).toEqual([]);
  });

  it('without a GUI session (over ssh), says so and what to do instead, exit code 1, and leaves nothing behind', async () => {
    const error = await install(withEnv({ KEYUP_STAND_IN_LAUNCHCTL: 'no-gui' })).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ exitCode: 1, code: 'no-service-manager' });
    expect((error as { userMessage: string }).userMessage).toBe(
      'launchd has no desktop session for user 501 (launchctl print gui/501: Could not find domain for user gui: 501, exit status 113), so keyupd cannot be installed as an agent. ' +
        'Log in at the desktop and run keyupctl install there, or run keyupd --once daily from cron.',
    );
    expect(nodeFs.existsSync(plist)).toBe(false);
  });
});
