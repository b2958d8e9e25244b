/**
 * Every command and example the README shows, run or read by something real (issue 11): the
 * "Using it" commands by bash against a real keyupd and the emulator, the configuration examples
 * by keyup's own parsers, the IAM policy against the one keyup prints. The first block is
 * .ci/run's to run; the install, timer and uninstall blocks are test/install.test.ts's.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { formatIamPolicy } from '../src/aws/errors.js';
import { getDefaultConfig, parseConfig } from '../src/config/parse-config.js';
import { parseIni } from '../src/credentials/parse.js';
import { listProfiles } from '../src/credentials/profiles.js';
import { createDaemonScene } from './e2e/daemon-harness.js';
import { isolateAwsEnvironment } from './emulator/helpers.js';
import { commandsOf, readReadmeBlocks, shBlocksUnder, type ReadmeBlock } from './support/readme.js';
import { daysAgo } from './support/time.js';

isolateAwsEnvironment();

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const exec = promisify(execFile);
const buildDir = inject('buildDir');
const blocks = readReadmeBlocks();

function only(found: ReadmeBlock[], what: string): ReadmeBlock {
  expect(found, `the README's ${what}`).toHaveLength(1);
  return found[0]!;
}

describe('the README', () => {
  it('gives .ci/run exactly the commands of its first screen, in order', async () => {
    const first = blocks[0]!;
    expect(first.line).toBeLessThan(15);
    const commands = commandsOf(first).flatMap((line) => line.split('&&').map((command) => command.trim()));
    expect(commands).toEqual(['npm ci', 'npm run demo', 'npm test']);
    const ci = (await readFile(join(ROOT, '.ci', 'run'), 'utf8')).split('\n').filter((line) => /^npm /.test(line));
    expect(ci).toEqual(commands);
  });

  it("has only blocks this file or test/install.test.ts runs or reads", () => {
    const known = new Set(['sh', 'ini', 'json', 'console']);
    expect(blocks.filter((block) => !known.has(block.lang)).map((block) => `${block.lang} at line ${block.line}`)).toEqual([]);
    const shHeadings = blocks.filter((block) => block.lang === 'sh').map((block) => block.heading);
    expect(shHeadings).toEqual(['keyup', 'Install', 'Install', 'No daemon: a daily `keyupd --once`', 'Using it']);
  });

  it('"Using it": every command works against a real keyupd, as the comments say', { timeout: 90_000 }, async () => {
    const scene = await createDaemonScene({ buildDir, ageDays: 10, config: ['[profile default]', '', '[profile work]'] });
    // A second profile, work, holding bob's key.
    scene.emulator.createUser({ userName: 'bob' });
    const bob = scene.emulator.createAccessKey({ userName: 'bob', createDate: daysAgo(20) });
    await writeFile(scene.paths.credentialsFile, `${await scene.readCredentials()}\n[work]\naws_access_key_id = ${bob.accessKeyId}\naws_secret_access_key = ${bob.secretAccessKey}\n`);
    // keyupctl on PATH, as npm puts it there.
    const bin = join(scene.home.dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'keyupctl'), `#!/bin/sh\nexec '${process.execPath}' '${join(buildDir, 'src', 'bin', 'keyupctl.cjs')}' "$@"\n`);
    await chmod(join(bin, 'keyupctl'), 0o755);
    const daemon = scene.start();
    await scene.waitForStatus('keyupd to have checked both profiles', (status) => status.profiles.every((profile) => profile.user !== null), daemon);

    const env = { ...scene.env, PATH: `${bin}:${scene.env.PATH}`, TZ: 'UTC', NO_COLOR: '1' };
    const outputs = new Map<string, string>();
    const block = only(shBlocksUnder('Using it'), '"Using it" block');
    for (const command of commandsOf(block)) {
      const { stdout, stderr } = await exec('bash', ['--norc', '--noprofile', '-eo', 'pipefail', '-c', command], { cwd: scene.home.dir, env, timeout: 60_000 });
      expect(stderr, command).toBe('');
      outputs.set(command, stdout);
    }
    expect([...outputs.keys()]).toEqual(['keyupctl status', 'keyupctl keys', 'keyupctl rotate now', 'keyupctl rotate now --profile work --force', 'keyupctl config', 'keyupctl reload']);

    expect(outputs.get('keyupctl status')).toMatch(/\ndefault +alice +AKIA…\w{4} +10\.0d +✓ ok +\S+ \/ never *\n(.*\n)?work +bob +AKIA…\w{4} +20\.0d +/);
    expect(outputs.get('keyupctl keys')).toContain(scene.old.accessKeyId);
    expect(outputs.get('keyupctl keys')).toContain(bob.accessKeyId);
    // "whatever the age": both keys are young, both rotate.
    expect(outputs.get('keyupctl rotate now')).toMatch(/^default: rotated AKIA…\w{4} → AKIA…\w{4} /m);
    expect(outputs.get('keyupctl rotate now')).toMatch(/^work: rotated AKIA…\w{4} → AKIA…\w{4} /m);
    const onlyWork = outputs.get('keyupctl rotate now --profile work --force')!;
    expect(onlyWork).toMatch(/^work: rotated /m);
    expect(onlyWork.split('\n').filter((line) => line !== '' && !line.startsWith('work: '))).toEqual([]);
    expect(scene.emulator.getState().accessKeys.filter((key) => key.userName === 'bob')).toHaveLength(1);
    expect(outputs.get('keyupctl config')).toMatch(/^\[profile work\] +; managed: /m);
    expect(outputs.get('keyupctl reload')).not.toBe('');

    // The commands of the console sample (MFA) are these same commands; test/e2e/mfa.test.ts runs that flow.
    const consoleCommands = blocks.filter((each) => each.lang === 'console').flatMap((each) => each.text.split('\n').filter((line) => line.startsWith('$ ')).map((line) => line.slice(2)));
    expect(consoleCommands.length).toBeGreaterThan(0);
    for (const command of consoleCommands) expect(outputs.has(command), command).toBe(true);
  });

  describe('configuration examples', () => {
    const env = { XDG_STATE_HOME: '/home/alice/.local/state' };
    const home = '/home/alice';
    const iniBlocks = blocks.filter((block) => block.lang === 'ini');

    it('the configuration file example is valid, and its [keyup] lines are the defaults', () => {
      const example = only(
        iniBlocks.filter((block) => block.heading === 'Configuration'),
        'configuration example',
      );
      const config = parseConfig(example.text, '/home/alice/.config/keyup/config', env, home);
      const defaults = getDefaultConfig('/home/alice/.config/keyup/config', env, home);
      expect({ ...config.daemon, postRotate: [] }).toEqual(defaults.daemon);
      expect(config.daemon.postRotate.map((hook) => hook.argv)).toEqual([['/home/alice/bin/github-actions-secret', 'acme/app']]);
      expect(config.profiles.map((profile) => [profile.name, profile.settings.maxAgeDays, profile.manageWith])).toEqual([
        ['default', 30, undefined],
        ['ci-bot', 90, 'admin'],
      ]);
    });

    it('the post_rotate example is valid and names the examples that ship in examples/post-rotate/', async () => {
      const example = only(
        iniBlocks.filter((block) => block.heading === 'Carrying the new key elsewhere: `post_rotate` hooks'),
        'post_rotate example',
      );
      const [ci] = parseConfig(example.text, '/home/alice/.config/keyup/config', env, home).profiles;
      expect(ci?.name).toBe('ci');
      const programs = ci!.settings.postRotate.map((hook) => hook.argv[0]);
      expect(programs).toHaveLength(5);
      for (const program of programs) {
        expect(program).toMatch(/^\/home\/alice\/bin\//);
        const shipped = join(ROOT, 'examples', 'post-rotate', program!.slice('/home/alice/bin/'.length));
        expect((await readFile(shipped, 'utf8')).startsWith('#!'), shipped).toBe(true);
      }
    });

    it("the mfa_serial example gives the profile its device, read as keyup reads ~/.aws/config", () => {
      const example = only(
        iniBlocks.filter((block) => block.heading === 'Accounts that demand MFA'),
        'mfa_serial example',
      );
      const credentials = parseIni('[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n', '/home/alice/.aws/credentials');
      const [profile] = listProfiles(credentials, parseIni(example.text, '/home/alice/.aws/config'));
      expect(profile).toMatchObject({ name: 'default', kind: 'long-term', mfaSerial: 'arn:aws:iam::123456789012:mfa/alice' });
    });

    it('the IAM policy is the one keyup prints when IAM refuses a call', () => {
      const policy = only(
        blocks.filter((block) => block.lang === 'json'),
        'IAM policy',
      );
      expect(JSON.parse(policy.text)).toEqual(JSON.parse(formatIamPolicy()));
    });
  });
});
