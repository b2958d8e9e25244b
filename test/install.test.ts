/**
 * The README's install, daily-timer and uninstall commands, run as written (issue 11), each line
 * by bash in a copy of the clone: a package packed from this build, installed globally into a
 * temporary prefix (npm_config_prefix, as `npm config set prefix` would set it), its programs run
 * from there, not from the clone. `keyupctl install` meets a stand-in systemd user manager that
 * really starts the unit it wrote, so the README's `keyupctl status` right after it proves the
 * unit's command line and environment give a keyupd that keyupctl finds.
 *
 * Not run here: the block's `npm ci`, which .ci/run runs on the fresh clone (its `prepare`
 * builds, as `npm pack`'s would; here the packing skips scripts and takes this run's build).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, lstat, mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEmulator, type Emulator, type SeededAccessKey } from '../emulator/index.js';
import { maskKeyId } from '../src/present/key-id.js';
import { waitFor } from './e2e/keyupd.js';
import { isolateAwsEnvironment } from './emulator/helpers.js';
import { commandsOf, shBlocksUnder } from './support/readme.js';
import { writeStandInUserManager, type StandInUserManager } from './support/user-manager.js';

isolateAwsEnvironment();

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const exec = promisify(execFile);
const buildDir = inject('buildDir');

/** Ended: no such process, or a zombie (a detached service's parent is gone, and nothing here may reap it). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

const [installBlock, uninstallBlock] = shBlocksUnder('Install');
const [timerBlock] = shBlocksUnder('No daemon: a daily `keyupd --once`');

describe('installing keyup as the README says', { timeout: 180_000 }, () => {
  let work: string;
  let clone: string;
  let prefix: string;
  let home: string;
  let env: Record<string, string>;
  let manager: StandInUserManager;
  let emulator: Emulator;
  let old: SeededAccessKey;

  /** One README line, by bash in the clone, as a newcomer would type it. */
  const sh = (line: string) => exec('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', line], { cwd: clone, env, timeout: 150_000 });
  const installed = () => join(prefix, 'lib', 'node_modules', 'keyup');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'keyup-install-'));
    clone = join(work, 'clone');
    prefix = join(work, 'prefix');
    home = join(work, 'home');
    // A clone after `npm ci`: this run's build as dist/, and the files package.json ships.
    await mkdir(clone);
    await cp(buildDir, join(clone, 'dist'), { recursive: true });
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    for (const name of ['package.json', 'README.md', ...pkg.files.filter((file) => !file.startsWith('dist'))]) await cp(join(ROOT, name), join(clone, name), { recursive: true });
    const bin = join(work, 'bin');
    const managerState = join(work, 'user-manager');
    await mkdir(bin);
    await mkdir(managerState);
    manager = await writeStandInUserManager(bin, managerState);
    emulator = await startEmulator();
    emulator.createUser({ userName: 'alice' });
    old = emulator.createAccessKey({ userName: 'alice', createDate: new Date(Date.now() - 10 * 86_400_000).toISOString() });
    await mkdir(join(home, '.aws'), { recursive: true, mode: 0o700 });
    await writeFile(join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`, { mode: 0o600 });
    env = {
      PATH: `${join(prefix, 'bin')}:${bin}:${process.env.PATH ?? ''}`,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_STATE_HOME: join(home, '.local', 'state'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      npm_config_prefix: prefix,
      // npm's own cache (where npm ci put every dependency) serves the install: the one thing of the
      // real HOME it reads. npm would also write its debug logs there (_logs); they go to `work`.
      npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/root', '.npm'),
      npm_config_logs_dir: join(work, 'npm-logs'),
      npm_config_prefer_offline: 'true',
      // What npm must still ask the registry (the metadata of packages npm ci does not keep) is
      // retried after 20 s instead of waiting out npm's 5 minutes on a request that hangs.
      npm_config_fetch_timeout: '20000',
      npm_config_fetch_retries: '4',
      npm_config_ignore_scripts: 'true',
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      // The user manager's environment, which the service inherits: the emulator, not AWS.
      AWS_ENDPOINT_URL_IAM: emulator.endpoint,
      AWS_ENDPOINT_URL_STS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
    };
    await mkdir(env.XDG_RUNTIME_DIR!, { recursive: true, mode: 0o700 });
  });

  afterAll(async () => {
    // Whatever a failed step left running.
    const pid = Number(await readFile(manager.pidFile('keyupd.service'), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(pid)) process.kill(pid, 'SIGKILL');
    await emulator.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('the README has the blocks this test runs', () => {
    expect(commandsOf(installBlock!)).toEqual(['npm ci', 'npm pack', expect.stringMatching(/^npm install -g \.\/keyup-[\d.]+\.tgz$/), 'keyupctl install', 'keyupctl status']);
    expect(commandsOf(uninstallBlock!)).toEqual(['keyupctl uninstall', 'npm uninstall -g keyup']);
    expect(commandsOf(timerBlock!)).toHaveLength(4);
  });

  it('install: packs, installs globally (not a link into the clone), installs the service, and status answers', async () => {
    const outputs: string[] = [];
    for (const line of commandsOf(installBlock!).filter((command) => command !== 'npm ci')) outputs.push((await sh(line)).stdout);

    expect((await lstat(installed())).isSymbolicLink()).toBe(false);
    for (const program of ['keyupd', 'keyupctl']) expect((await realpath(join(prefix, 'bin', program))).startsWith(installed())).toBe(true);
    const unit = await readFile(join(home, '.config', 'systemd', 'user', 'keyupd.service'), 'utf8');
    const installedKeyupd = join(await realpath(installed()), 'dist', 'src', 'bin', 'keyupd.js');
    expect(unit).toContain(`ExecStart=${process.execPath} ${installedKeyupd}`);
    expect(await readFile(manager.log, 'utf8')).toBe('systemctl --user show --property=Version\nsystemctl --user daemon-reload\nsystemctl --user enable --now keyupd.service\n');

    const [, , install, status] = outputs;
    const pid = (await readFile(manager.pidFile('keyupd.service'), 'utf8')).trim();
    expect(install).toMatch(new RegExp(`keyupd [\\d.]+ answers at ${join(home, 'run', 'keyup', 'keyupd.sock')} \\(pid ${pid}\\)\\.\\n$`));
    expect(status).toMatch(new RegExp(`^keyupd \\S+, pid ${pid}, `));
    expect(status).toMatch(/\ndefault +/);
    // The installed keyupd reaches IAM with the installed package's own SDK: its first check finds alice.
    await waitFor('the installed keyupd to have checked default', async () => {
      const { stdout } = await sh('keyupctl status');
      return new RegExp(`\\ndefault +alice +${maskKeyId(old.accessKeyId)} +10\\.0d +`).test(stdout);
    });
  });

  it('the daily timer instead: the units copied and pointed at the installed keyupd, which systemd-analyze accepts', async () => {
    for (const line of commandsOf(timerBlock!)) await sh(line);
    const units = join(home, '.config', 'systemd', 'user');
    const service = await readFile(join(units, 'keyupd-once.service'), 'utf8');
    expect(service).toMatch(new RegExp(`^ExecStart=${process.execPath} ${join(await realpath(installed()), 'dist', 'src', 'bin', 'keyupd.js')} --once$`, 'm'));
    expect((await readFile(manager.log, 'utf8')).split('\n').slice(-3)).toEqual(['systemctl --user daemon-reload', 'systemctl --user enable --now keyupd-once.timer', '']);
    // verify exits 0 on a bad value and only warns: silence on stderr is what counts.
    const verify = await exec('systemd-analyze', ['--user', 'verify', join(units, 'keyupd-once.service'), join(units, 'keyupd-once.timer')], { env: { ...process.env, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR! } });
    expect(verify.stderr).toBe('');
    await rm(join(units, 'keyupd-once.service'));
    await rm(join(units, 'keyupd-once.timer'));
  });

  it('uninstall: stops keyupd, removes the unit and both programs', async () => {
    const pid = Number(await readFile(manager.pidFile('keyupd.service'), 'utf8'));
    for (const line of commandsOf(uninstallBlock!)) await sh(line);
    expect(await readdir(join(home, '.config', 'systemd', 'user'))).toEqual([]);
    expect(await readFile(manager.log, 'utf8')).toMatch(/systemctl --user disable --now keyupd\.service\nsystemctl --user daemon-reload\n$/);
    expect(isGone(pid)).toBe(true);
    await expect(lstat(join(prefix, 'bin', 'keyupd'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(join(prefix, 'bin', 'keyupctl'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(installed())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
