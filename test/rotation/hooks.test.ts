/**
 * post_rotate hooks as real child processes (issue 12): the secret on stdin and nowhere else, the
 * facts in the environment, no shell, HOME as the folder, output redacted, a timeout that kills.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHookRunner, type HookSecret } from '../../src/rotation/hooks.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';
import { waitFor } from '../e2e/keyupd.js';

const SECRET: HookSecret = { accessKeyId: 'AKIANEWNEWNEWNEW0001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYNEWSECRET', createDate: '2026-12-01T07:00:00.000Z' };
const FACTS = { profile: 'default', user: 'alice', account: '123456789012', oldKeyId: 'AKIAOLDOLDOLDOLD0001', newKeyId: SECRET.accessKeyId };

describe('createHookRunner', () => {
  let home: TempHome;
  let bin: string;
  beforeEach(async () => {
    home = await createTempHome();
    bin = join(home.dir, 'bin');
    await mkdir(bin);
  });
  afterEach(() => home.remove());

  async function script(name: string, body: string): Promise<string> {
    const path = join(bin, name);
    await writeFile(path, `#!${process.execPath}\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it('gives the new key as JSON on stdin only: not in its arguments, not in its environment', async () => {
    const seen = join(home.dir, 'seen.json');
    const hook = await script(
      'dump',
      `let input = ''; process.stdin.on('data', (c) => (input += c)).on('end', () => require('fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ argv: process.argv, env: process.env, cwd: process.cwd(), stdin: input })));`,
    );
    const runHook = createHookRunner({ home: home.dir, env: { PATH: '/usr/bin:/bin', HOME: home.dir } });
    const result = await runHook({ hook: { command: `${hook} --name CI_KEY`, argv: [hook, '--name', 'CI_KEY'] }, facts: FACTS, secret: SECRET, onOutput: () => {} });
    expect(result.ok).toBe(true);
    const dump = JSON.parse(await readFile(seen, 'utf8')) as { argv: string[]; env: Record<string, string>; cwd: string; stdin: string };
    expect(JSON.parse(dump.stdin)).toEqual({
      Version: 1,
      AccessKeyId: SECRET.accessKeyId,
      SecretAccessKey: SECRET.secretAccessKey,
      CreateDate: SECRET.createDate,
      Profile: 'default',
      UserName: 'alice',
      Account: '123456789012',
      OldAccessKeyId: FACTS.oldKeyId,
    });
    expect(JSON.stringify(dump.argv)).not.toContain(SECRET.secretAccessKey);
    expect(JSON.stringify(dump.env)).not.toContain(SECRET.secretAccessKey);
    expect(dump.argv.slice(2)).toEqual(['--name', 'CI_KEY']);
    expect(dump.env).toMatchObject({ KEYUP_PROFILE: 'default', KEYUP_USER: 'alice', KEYUP_ACCOUNT: '123456789012', KEYUP_OLD_KEY_ID: FACTS.oldKeyId, KEYUP_NEW_KEY_ID: SECRET.accessKeyId });
    expect(dump.cwd).toBe(home.dir);
  });

  it('runs without a shell: shell syntax in an argument is just text', async () => {
    const seen = join(home.dir, 'args.json');
    const hook = await script('args', `require('fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify(process.argv.slice(2)));`);
    const marker = join(home.dir, 'pwned');
    const runHook = createHookRunner({ home: home.dir, env: {} });
    await runHook({ hook: { command: '', argv: [hook, `; touch ${marker}`, '$(id)'] }, facts: FACTS, secret: SECRET, onOutput: () => {} });
    expect(JSON.parse(await readFile(seen, 'utf8'))).toEqual([`; touch ${marker}`, '$(id)']);
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('hands its output over line by line with the secret replaced', async () => {
    const hook = await script('echo', `let input = ''; process.stdin.on('data', (c) => (input += c)).on('end', () => { const key = JSON.parse(input); console.log('pushed ' + key.AccessKeyId + ' secret ' + key.SecretAccessKey); console.error('warning: slow'); });`);
    const lines: [string, string][] = [];
    const result = await createHookRunner({ home: home.dir, env: {} })({ hook: { command: hook, argv: [hook] }, facts: FACTS, secret: SECRET, onOutput: (stream, line) => lines.push([stream, line]) });
    expect(result.ok).toBe(true);
    expect(lines).toEqual(
      expect.arrayContaining([
        ['stdout', `pushed ${SECRET.accessKeyId} secret [secret]`],
        ['stderr', 'warning: slow'],
      ]),
    );
  });

  it('keeps a secret redacted when long output without a newline is flushed in the middle of it', async () => {
    // Regression: output without a newline is flushed every 8,000 characters; a secret cut by that
    // flush went out as two pieces, and neither piece matched the secret, so neither was replaced.
    const flushed = join(home.dir, 'flushed');
    const hook = await script(
      'long',
      `const fs = require('fs');
let input = '';
process.stdin.on('data', (c) => (input += c)).on('end', () => {
  const secret = JSON.parse(input).SecretAccessKey;
  // 8,010 characters: over the flush limit, ending halfway through the secret.
  process.stdout.write('x'.repeat(7990) + secret.slice(0, 20));
  // Write the rest only once keyupd has flushed what it got, so the cut falls there every time.
  const wait = () => (fs.existsSync(${JSON.stringify(flushed)}) ? process.stdout.write(secret.slice(20) + 'y'.repeat(500)) : setTimeout(wait, 10));
  wait();
});`,
    );
    const lines: string[] = [];
    const result = await createHookRunner({ home: home.dir, env: {}, timeoutMs: 20_000 })({
      hook: { command: hook, argv: [hook] },
      facts: FACTS,
      secret: SECRET,
      onOutput: (_stream, line) => {
        lines.push(line);
        void writeFile(flushed, '');
      },
    });
    expect(result.ok).toBe(true);
    const log = lines.join('\n');
    const secret = SECRET.secretAccessKey;
    expect(log).not.toContain(secret.slice(0, 20));
    expect(log).not.toContain(secret.slice(20));
    for (let at = 0; at + 20 <= secret.length; at++) expect(log).not.toContain(secret.slice(at, at + 20));
    // Nothing but the secret is lost: the text after it arrives, after the marker.
    expect(log).toContain(`[secret]${'y'.repeat(500)}`);
  });

  it('does not hand keyupd’s own AWS credentials to a hook: its key arrives on stdin only', async () => {
    const seen = join(home.dir, 'env.json');
    const hook = await script('env', `require('fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify(process.env));`);
    const shell = {
      PATH: '/usr/bin:/bin',
      HOME: home.dir,
      AWS_PROFILE: 'default',
      AWS_ACCESS_KEY_ID: 'ASIASHELLSHELLSHELL1',
      AWS_SECRET_ACCESS_KEY: 'shellSecretShellSecretShellSecretShell01',
      AWS_SESSION_TOKEN: 'shell-session-token',
      AWS_SECURITY_TOKEN: 'shell-security-token',
      AWS_CREDENTIAL_EXPIRATION: '2026-12-01T08:00:00Z',
    };
    const result = await createHookRunner({ home: home.dir, env: shell })({ hook: { command: hook, argv: [hook] }, facts: FACTS, secret: SECRET, onOutput: () => {} });
    expect(result.ok).toBe(true);
    const env = JSON.parse(await readFile(seen, 'utf8')) as Record<string, string>;
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_CREDENTIAL_EXPIRATION']) expect(env).not.toHaveProperty(name);
    for (const value of Object.values(shell).filter((value) => value.includes('shell'))) expect(JSON.stringify(env)).not.toContain(value);
    // Everything else stays.
    expect(env).toMatchObject({ PATH: '/usr/bin:/bin', HOME: home.dir, AWS_PROFILE: 'default', KEYUP_PROFILE: 'default', KEYUP_NEW_KEY_ID: SECRET.accessKeyId });
  });

  it('says how a hook failed: an exit code, a program that does not exist', async () => {
    const failing = await script('fail', 'process.exit(3);');
    const runHook = createHookRunner({ home: home.dir, env: {} });
    expect(await runHook({ hook: { command: failing, argv: [failing] }, facts: FACTS, secret: SECRET, onOutput: () => {} })).toMatchObject({ ok: false, why: 'it exited with code 3' });
    const missing = join(bin, 'nope');
    expect(await runHook({ hook: { command: missing, argv: [missing] }, facts: FACTS, secret: SECRET, onOutput: () => {} })).toMatchObject({ ok: false, why: `${missing} does not exist` });
  });

  it('kills a hook that outlives its timeout, and what it started with it', async () => {
    const childPid = join(home.dir, 'child.pid');
    // A hook that starts a grandchild and waits forever.
    const hook = await script(
      'hang',
      `const { spawn } = require('child_process'); const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); require('fs').writeFileSync(${JSON.stringify(childPid)}, String(c.pid)); setInterval(() => {}, 1000);`,
    );
    const started = Date.now();
    const result = await createHookRunner({ home: home.dir, env: {}, timeoutMs: 500 })({ hook: { command: hook, argv: [hook] }, facts: FACTS, secret: SECRET, onOutput: () => {} });
    expect(result).toMatchObject({ ok: false, why: 'it did not finish within 1 s and was stopped' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number(await readFile(childPid, 'utf8'));
    await waitFor('the hook’s own child to be gone', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, { timeoutMs: 10_000 });
  });

  it('is stopped at once by the rotation’s signal (keyupd stopping)', async () => {
    const hook = await script('slow', 'setInterval(() => {}, 1000);');
    const stop = new AbortController();
    const running = createHookRunner({ home: home.dir, env: {} })({ hook: { command: hook, argv: [hook] }, facts: FACTS, secret: SECRET, signal: stop.signal, onOutput: () => {} });
    stop.abort();
    expect(await running).toMatchObject({ ok: false, why: 'keyupd stopped it, stopping itself' });
  });
});
