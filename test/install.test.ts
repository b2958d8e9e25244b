/**
 * The README's install and uninstall commands, for real (issue 11): a package packed from this
 * build, installed globally into a temporary prefix, its programs run from there (not from the
 * clone), `keyupctl install` and `uninstall` with a stand-in systemctl, `npm uninstall -g`.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { isolateAwsEnvironment } from './emulator/helpers.js';

isolateAwsEnvironment();

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const buildDir = inject('buildDir');

describe('installing keyup as a package, as the README says', { timeout: 180_000 }, () => {
  let work: string;
  let prefix: string;
  let home: string;
  let env: Record<string, string>;
  let tarball: string;
  let systemctlLog: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'keyup-install-'));
    prefix = join(work, 'prefix');
    home = join(work, 'home');
    systemctlLog = join(work, 'systemctl.log');
    // The package as `npm pack` makes it from a clone: this run's build as dist/, and the files
    // package.json ships. Packed without scripts: the build is already there.
    const stage = join(work, 'stage');
    await mkdir(stage);
    await cp(buildDir, join(stage, 'dist'), { recursive: true });
    for (const name of ['package.json', 'README.md', 'systemd', 'launchd']) await cp(join(ROOT, name), join(stage, name), { recursive: true });
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: stage });
    tarball = join(work, packed.stdout.trim().split('\n').at(-1) ?? '');
    // A stand-in systemctl that records what it is asked and answers as a user manager would.
    const bin = join(work, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${systemctlLog}\nexit 0\n`);
    await chmod(join(bin, 'systemctl'), 0o755);
    env = {
      PATH: `${join(prefix, 'bin')}:${bin}:${process.env.PATH ?? ''}`,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_STATE_HOME: join(home, '.local', 'state'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      // npm's own cache (where npm ci put every dependency) serves the install; nothing else of the real HOME.
      npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/root', '.npm'),
      npm_config_update_notifier: 'false',
    };
    await mkdir(env.XDG_RUNTIME_DIR!, { recursive: true, mode: 0o700 });
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('npm install -g of the tarball puts keyupd and keyupctl on PATH, independent of the clone', async () => {
    await run('npm', ['install', '-g', tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'], { env: { ...process.env, ...env } });
    const installed = join(prefix, 'lib', 'node_modules', 'keyup');
    expect((await lstat(installed)).isDirectory()).toBe(true);
    expect((await lstat(installed)).isSymbolicLink()).toBe(false);
    for (const program of ['keyupd', 'keyupctl']) {
      const target = await realpath(join(prefix, 'bin', program));
      expect(target.startsWith(installed)).toBe(true);
      const { stdout } = await run(program, ['--version'], { env });
      expect(stdout.trim()).toMatch(/^(keyupctl )?\d+\.\d+\.\d+$/);
    }
  });

  it('the installed keyupd rotates a key against the emulator', async () => {
    const emulator: Emulator = await startEmulator();
    try {
      emulator.createUser({ userName: 'alice' });
      const old = emulator.createAccessKey({ userName: 'alice', createDate: new Date(Date.now() - 100 * 86_400_000).toISOString() });
      await mkdir(join(home, '.aws'), { recursive: true, mode: 0o700 });
      await writeFile(join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`, { mode: 0o600 });
      const once = await run('keyupd', ['--once'], { env: { ...env, AWS_ENDPOINT_URL_IAM: emulator.endpoint, AWS_ENDPOINT_URL_STS: emulator.endpoint, AWS_REGION: 'us-east-1' } });
      expect(once.stdout).toMatch(/^keyupd: default \(alice\): rotated AKIA…\w{4} → AKIA…\w{4} in profile default\.$/m);
    } finally {
      await emulator.stop();
    }
  });

  it('keyupctl install writes the unit with this node and the installed keyupd, and starts it; uninstall removes it', async () => {
    const { stdout } = await run('keyupctl', ['install'], { env });
    expect(stdout).toMatch(/keyupd/);
    const unit = await readFile(join(home, '.config', 'systemd', 'user', 'keyupd.service'), 'utf8');
    const installedKeyupd = join(await realpath(join(prefix, 'lib', 'node_modules', 'keyup')), 'dist', 'src', 'bin', 'keyupd.js');
    expect(unit).toContain(`ExecStart=${process.execPath} ${installedKeyupd}`);
    const asked = (await readFile(systemctlLog, 'utf8')).trim().split('\n');
    expect(asked).toEqual(expect.arrayContaining(['--user daemon-reload', '--user enable --now keyupd.service']));
    await run('keyupctl', ['uninstall'], { env });
    expect(await readdir(join(home, '.config', 'systemd', 'user'))).toEqual([]);
    expect((await readFile(systemctlLog, 'utf8')).trim().split('\n')).toEqual(expect.arrayContaining(['--user disable --now keyupd.service']));
  });

  it('npm uninstall -g removes both programs', async () => {
    await run('npm', ['uninstall', '-g', 'keyup', '--prefix', prefix], { env: { ...process.env, ...env } });
    await expect(lstat(join(prefix, 'bin', 'keyupd'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(join(prefix, 'bin', 'keyupctl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
