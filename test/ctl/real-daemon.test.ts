/**
 * The built keyupctl against the built keyupd, a real process serving the emulator in a temp
 * HOME: the fake daemons of keyupctl.test.ts answer as SPEC says, this proves keyupd does too.
 */
import { describe, expect, inject, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import type { StatusDocument } from '../../src/ipc/protocol.js';
import { maskKeyId } from '../../src/present/key-id.js';
import { createDaemonScene } from '../e2e/daemon-harness.js';
import { waitFor } from '../e2e/keyupd.js';
import { isolateAwsEnvironment } from '../emulator/helpers.js';
import { runKeyupctl } from './ctl-harness.js';

isolateAwsEnvironment();

const buildDir = inject('buildDir');

describe('keyupctl with a real keyupd', { timeout: 60_000 }, () => {
  it('shows status, keys and config, rotates with progress, and refuses an unmanaged profile', async () => {
    const scene = await createDaemonScene({ buildDir, ageDays: 10 });
    const daemon = scene.start();
    const ctl = (args: string[]) => runKeyupctl(buildDir, args, { env: { ...scene.env, TZ: 'UTC' }, cwd: scene.home.dir });
    await waitFor('keyupd to have checked default', async () => (await scene.call<StatusDocument>('status').catch(() => undefined))?.profiles[0]?.user === 'alice', { run: daemon });

    const status = await ctl(['status']);
    expect(status).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(status.stdout).toMatch(new RegExp(`^keyupd \\S+, pid ${daemon.child.pid}, up since .* · schedule 0 7 \\* \\* \\* · next check `));
    expect(status.stdout).toMatch(new RegExp(`\\ndefault +alice +${maskKeyId(scene.old.accessKeyId)} +10\\.0d +✓ ok +\\S+ / never\\n`));
    const json = JSON.parse((await ctl(['status', '--json'])).stdout) as StatusDocument;
    expect(json).toMatchObject({ pid: daemon.child.pid, schedule: '0 7 * * *', config_error: null, profiles: [{ profile: 'default', user: 'alice', key_id: scene.old.accessKeyId, state: 'ok' }] });

    const keys = await ctl(['keys', '--json']);
    expect(keys).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(JSON.parse(keys.stdout)).toMatchObject([{ profile: 'default', user: 'alice', keys: [{ key_id: scene.old.accessKeyId, status: 'Active', in_profiles: ['default'], managed: true }], error: null }]);
    expect((await ctl(['keys'])).stdout).toMatch(new RegExp(`\\n${scene.old.accessKeyId} +Active +`));

    const config = await ctl(['config']);
    expect(config).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(config.stdout).toMatch(/^\[keyup\]$/m);
    expect(config.stdout).toMatch(/^schedule = 0 7 \* \* \* +; default$/m);
    expect(config.stdout).toMatch(/^\[profile default\] +; managed: default$/m);
    expect(JSON.parse((await ctl(['config', '--json'])).stdout)).toEqual(await scene.call('config'));
    expect(await ctl(['reload'])).toMatchObject({ code: ExitCode.ok, stderr: '' });

    const rotation = await ctl(['rotate', 'now']);
    expect(rotation.stderr).toBe('');
    expect(rotation.code).toBe(ExitCode.ok);
    const newKey = scene.aliceKeys().find((key) => key.accessKeyId !== scene.old.accessKeyId)!;
    expect(rotation.stdout).toContain('default: creating new key…\n');
    expect(rotation.stdout).toContain(`default: old key ${maskKeyId(scene.old.accessKeyId)} deleted\n`);
    expect(rotation.stdout).toMatch(new RegExp(`default: rotated ${maskKeyId(scene.old.accessKeyId)} → ${maskKeyId(newKey.accessKeyId)} \\(\\d+\\.\\d s\\)\\n$`));

    const unmanaged = await ctl(['rotate', 'now', '--profile', 'nope']);
    expect(unmanaged).toMatchObject({ code: ExitCode.usage, stdout: '' });
    expect(unmanaged.stderr).toMatch(/^keyupctl: .*nope.*default/);
  });
});
