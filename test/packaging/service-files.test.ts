import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillTemplate, renderLaunchdPlist, renderSystemdUnit } from '../../src/service/render.js';

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

  /**
   * A node that verify finds executable, in a folder whose name systemd would misread unescaped;
   * keyupd.js's folder has what no program's path may have in a unit (quotes, a backslash) too.
   */
  async function createOddNode(): Promise<{ node: string; keyupd: string }> {
    const folder = join(runtimeDir, 'my tools 100%d $HOME');
    await mkdir(folder, { recursive: true });
    const node = join(folder, 'node');
    await writeFile(node, '#!/bin/sh\n');
    await chmod(node, 0o755);
    return { node, keyupd: join(runtimeDir, 'lib "it\'s" \\ 5% $HOME', 'keyupd.js') };
  }

  it('render keyupd.service into a unit that passes systemd-analyze verify without a warning, whatever the paths hold', async () => {
    const { node, keyupd } = await createOddNode();
    const template = await readFile(join(ROOT, 'systemd', 'keyupd.service'), 'utf8');
    const unit = join(runtimeDir, 'keyupd.service');
    await writeFile(unit, renderSystemdUnit(template, { node, keyupd, environment: [['XDG_STATE_HOME', '/home/a b/50%s "state"'], ['KEYUP_CONFIG', '/c/$HOME\\x']] }));
    const { stderr } = await verify(unit);
    expect(stderr).toBe('');
  });

  it('would be caught if the paths were not escaped (the check is real)', async () => {
    const { node, keyupd } = await createOddNode();
    const template = await readFile(join(ROOT, 'systemd', 'keyupd.service'), 'utf8');
    const unit = join(runtimeDir, 'keyupd.service');
    await writeFile(unit, fillTemplate(template, { node, keyupd }, { environment: [] }));
    const { stderr } = await verify(unit).catch((error: { stderr: string }) => error);
    expect(stderr).toContain('not executable');
  });

  it('run keyupd in the foreground as a user service that restarts on failure, stops gracefully and keeps its socket folder', async () => {
    const unit = await readFile(join(ROOT, 'systemd', 'keyupd.service'), 'utf8');
    for (const line of [
      'Type=exec',
      'ExecStart={{node}} {{keyupd}}',
      'Restart=on-failure',
      'RestartSec=10s',
      'RestartPreventExitStatus=2',
      'TimeoutStopSec=15s',
      'StandardOutput=journal',
      'StandardError=journal',
      'SyslogIdentifier=keyupd',
      'RuntimeDirectory=keyup',
      'RuntimeDirectoryMode=0700',
      'RuntimeDirectoryPreserve=restart',
      'UMask=0077',
      'NoNewPrivileges=yes',
      'RestrictSUIDSGID=yes',
      'LockPersonality=yes',
      'WantedBy=default.target',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
  });

  // In a user unit these need unprivileged user namespaces (they imply PrivateUsers=), which many
  // systems turn off: the service then fails to start at all. CapabilityBoundingSet= fails with 218.
  it.each(['keyupd.service', 'keyupd-once.service'])('%s uses no option a user manager cannot honour everywhere', async (name) => {
    const unit = await readFile(join(ROOT, 'systemd', name), 'utf8');
    const refused = /^(ProtectSystem|ProtectHome|PrivateTmp|PrivateUsers|PrivateDevices|PrivateMounts|ProtectKernel\w*|ProtectControlGroups|ProtectHostname|ProtectClock|CapabilityBoundingSet|AmbientCapabilities|MemoryDenyWriteExecute)=/m;
    expect(unit).not.toMatch(refused);
    // network-online.target is the system manager's: in a user unit it names nothing.
    expect(unit).not.toMatch(/^(Wants|After|Requires|BindsTo)=.*network-online\.target/m);
    for (const line of ['UMask=0077', 'NoNewPrivileges=yes', 'RestrictSUIDSGID=yes', 'LockPersonality=yes']) expect(unit.split('\n')).toContain(line);
  });

  it('treat a deferral (exit code 4) as success and keep files private', async () => {
    const unit = await readFile(join(ROOT, 'systemd', 'keyupd-once.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=.*keyupd --once$/m);
    expect(unit).toMatch(/^SuccessExitStatus=4$/m);
    expect(unit).toMatch(/^UMask=0077$/m);
    expect(await readFile(join(ROOT, 'systemd', 'keyupd-once.timer'), 'utf8')).toMatch(/^Persistent=true$/m);
  });
});

describe('the launchd agents', () => {
  const loadPlist = async (file: string): Promise<unknown> => {
    // Python's plistlib reads plists as macOS does; this machine has no plutil.
    const script = 'import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))';
    const { stdout } = await run('python3', ['-c', script, file]);
    return JSON.parse(stdout);
  };

  it('dev.keyup.keyupd renders into a valid property list that keeps keyupd running from login, privately', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyup-launchd-'));
    try {
      const template = await readFile(join(ROOT, 'launchd', 'dev.keyup.keyupd.plist'), 'utf8');
      const values = {
        node: '/opt/homebrew/opt/node@20/bin/node',
        keyupd: '/Users/a & b/<lib>/keyupd.js',
        log: '/Users/a & b/.local/state/keyup/launchd.log',
        environment: [['XDG_STATE_HOME', '/Users/a & b/state']] as const,
      };
      await writeFile(join(dir, 'agent.plist'), renderLaunchdPlist(template, values));
      expect(await loadPlist(join(dir, 'agent.plist'))).toEqual({
        Label: 'dev.keyup.keyupd',
        ProgramArguments: [values.node, values.keyupd],
        EnvironmentVariables: { XDG_STATE_HOME: '/Users/a & b/state' },
        RunAtLoad: true,
        KeepAlive: { SuccessfulExit: false },
        ThrottleInterval: 30,
        ExitTimeOut: 15,
        StandardOutPath: values.log,
        StandardErrorPath: values.log,
        ProcessType: 'Background',
        Umask: 0o077,
      });
      // No variable to pin: an empty dictionary, still a valid property list.
      await writeFile(join(dir, 'bare.plist'), renderLaunchdPlist(template, { ...values, environment: [] }));
      expect(await loadPlist(join(dir, 'bare.plist'))).toMatchObject({ EnvironmentVariables: {}, RunAtLoad: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('dev.keyup.keyupd-once is a valid property list that runs keyupd --once daily with a private umask', async () => {
    expect(await loadPlist(join(ROOT, 'launchd', 'dev.keyup.keyupd-once.plist'))).toEqual({
      Label: 'dev.keyup.keyupd-once',
      ProgramArguments: ['/usr/bin/env', 'keyupd', '--once'],
      StartCalendarInterval: { Hour: 7, Minute: 0 },
      Umask: 0o077,
      ProcessType: 'Background',
    });
  });
});
