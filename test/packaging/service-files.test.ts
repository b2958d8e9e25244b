import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

describe.runIf(process.platform === 'linux')('the systemd user units', () => {
  let runtimeDir: string;
  beforeAll(async () => {
    // systemd-analyze --user wants a runtime folder even to verify files; .ci/run installs it.
    runtimeDir = await mkdtemp(join(tmpdir(), 'keyup-systemd-'));
  });
  afterAll(() => rm(runtimeDir, { recursive: true, force: true }));

  const verify = (...units: string[]) => run('systemd-analyze', ['--user', 'verify', ...units], { env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir } });

  // verify exits 0 on a bad value and only warns, so silence on stderr is what counts.
  it('pass systemd-analyze verify without a warning', async () => {
    const { stderr } = await verify(join(ROOT, 'systemd', 'keyupd-once.service'), join(ROOT, 'systemd', 'keyupd-once.timer'));
    expect(stderr).toBe('');
  });

  it('would be caught if broken (the check is real)', async () => {
    const broken = join(runtimeDir, 'keyupd-once.service');
    const unit = await readFile(join(ROOT, 'systemd', 'keyupd-once.service'), 'utf8');
    await writeFile(broken, unit.replace('Type=oneshot', 'Type=oneshoot'));
    const { stderr } = await verify(broken).catch((error: { stderr: string }) => error);
    expect(stderr).toContain('oneshoot');
  });

  it('treat a deferral (exit code 4) as success and keep files private', async () => {
    const unit = await readFile(join(ROOT, 'systemd', 'keyupd-once.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=.*keyupd --once$/m);
    expect(unit).toMatch(/^SuccessExitStatus=4$/m);
    expect(unit).toMatch(/^UMask=0077$/m);
    expect(await readFile(join(ROOT, 'systemd', 'keyupd-once.timer'), 'utf8')).toMatch(/^Persistent=true$/m);
  });
});

describe('the launchd agent', () => {
  it('is a valid property list that runs keyupd --once daily with a private umask', async () => {
    // Python's plistlib reads plists as macOS does; this machine has no plutil.
    const script = 'import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))';
    const { stdout } = await run('python3', ['-c', script, join(ROOT, 'launchd', 'dev.keyup.keyupd-once.plist')]);
    expect(JSON.parse(stdout)).toEqual({
      Label: 'dev.keyup.keyupd-once',
      ProgramArguments: ['/usr/bin/env', 'keyupd', '--once'],
      StartCalendarInterval: { Hour: 7, Minute: 0 },
      Umask: 0o077,
      ProcessType: 'Background',
    });
  });
});
