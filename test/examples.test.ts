/**
 * The README's post_rotate examples (examples/post-rotate/), run as keyup runs a hook: the new
 * key as JSON on stdin, nothing secret in argv. gh, glab and aws are stand-ins on PATH that
 * record their arguments and what they read; jq and awk are the real ones (.ci/run installs jq).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempHome, type TempHome } from './support/temp-home.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'post-rotate');
const KEY = { Version: 1, AccessKeyId: 'AKIANEWNEWNEWNEW0001', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYNEWSECRET', CreateDate: '2026-12-01T07:00:00Z', Profile: 'default', UserName: 'alice', Account: '123456789012', OldAccessKeyId: 'AKIAOLDOLDOLDOLD0001' };

describe('the post_rotate examples', () => {
  let home: TempHome;
  let bin: string;
  let record: string;
  beforeEach(async () => {
    home = await createTempHome();
    bin = join(home.dir, 'bin');
    record = join(home.dir, 'calls.jsonl');
    await mkdir(bin);
    for (const tool of ['gh', 'glab', 'aws']) {
      await writeFile(join(bin, tool), `#!${process.execPath}\nlet stdin = '';\nprocess.stdin.on('data', (c) => (stdin += c)).on('end', () => require('fs').appendFileSync(${JSON.stringify(record)}, JSON.stringify({ tool: ${JSON.stringify(tool)}, argv: process.argv.slice(2), stdin }) + '\\n'));\n`);
      await chmod(join(bin, tool), 0o755);
    }
  });
  afterEach(() => home.remove());

  type Call = { tool: string; argv: string[]; stdin: string };

  /** Runs an example as keyup runs a hook; resolves with its exit code, its stderr and what the stand-ins were given. */
  function attempt(example: string, args: string[], { input = JSON.stringify(KEY), path = `${bin}:/usr/bin:/bin` } = {}): Promise<{ code: number; stderr: string; calls: Call[] }> {
    return new Promise((resolve) => {
      const child = execFile(join(EXAMPLES, example), args, { env: { PATH: path, HOME: home.dir }, cwd: home.dir }, async (error, _stdout, stderr) => {
        const calls = (await readFile(record, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Call);
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr, calls });
      });
      child.stdin?.end(input);
    });
  }

  /** Runs an example with the key on stdin, as keyup does; resolves with what the stand-ins were given. */
  async function run(example: string, args: string[]): Promise<Call[]> {
    const { code, stderr, calls } = await attempt(example, args);
    if (code !== 0) throw new Error(`${example} failed: ${stderr}`);
    return calls;
  }

  /** A PATH holding the stand-ins and the few tools the examples use, but no jq. */
  async function pathWithoutJq(): Promise<string> {
    const tools = join(home.dir, 'tools');
    await mkdir(tools);
    for (const tool of ['cat', 'awk', 'mktemp', 'chmod', 'mv', 'rm']) {
      const found = ['/usr/bin', '/bin'].map((folder) => join(folder, tool)).find((candidate) => existsSync(candidate));
      if (found === undefined) throw new Error(`no ${tool} in /usr/bin or /bin`);
      await symlink(found, join(tools, tool));
    }
    return `${bin}:${tools}`;
  }

  const noSecretInArgs = (calls: { argv: string[] }[]) => {
    for (const call of calls) expect(call.argv.join(' ')).not.toContain(KEY.SecretAccessKey);
  };

  it('github-actions-secret sets both secrets through gh secret set reading stdin', async () => {
    const calls = await run('github-actions-secret', ['acme/app']);
    expect(calls).toEqual([
      { tool: 'gh', argv: ['secret', 'set', 'AWS_ACCESS_KEY_ID', '--repo', 'acme/app'], stdin: KEY.AccessKeyId },
      { tool: 'gh', argv: ['secret', 'set', 'AWS_SECRET_ACCESS_KEY', '--repo', 'acme/app'], stdin: KEY.SecretAccessKey },
    ]);
  });

  it('gitlab-variable updates both variables through glab reading stdin', async () => {
    const calls = await run('gitlab-variable', ['acme/app']);
    expect(calls).toEqual([
      { tool: 'glab', argv: ['variable', 'update', 'AWS_ACCESS_KEY_ID', '--repo', 'acme/app'], stdin: KEY.AccessKeyId },
      { tool: 'glab', argv: ['variable', 'update', 'AWS_SECRET_ACCESS_KEY', '--masked', '--repo', 'acme/app'], stdin: KEY.SecretAccessKey },
    ]);
  });

  it('secrets-manager puts the key as JSON through --secret-string file:///dev/stdin', async () => {
    const calls = await run('secrets-manager', ['prod/app/aws']);
    expect(calls.map((call) => call.argv)).toEqual([['secretsmanager', 'put-secret-value', '--secret-id', 'prod/app/aws', '--secret-string', 'file:///dev/stdin']]);
    expect(JSON.parse(calls[0]?.stdin ?? '')).toEqual({ AccessKeyId: KEY.AccessKeyId, SecretAccessKey: KEY.SecretAccessKey });
    noSecretInArgs(calls);
  });

  it('dotenv replaces the two lines of a .env file atomically, keeping the rest, 0600', async () => {
    const file = join(home.dir, 'project', '.env');
    await mkdir(dirname(file));
    await writeFile(file, 'APP=demo\nAWS_ACCESS_KEY_ID=AKIAOLDOLDOLDOLD0001\nAWS_SECRET_ACCESS_KEY=old\n# keep me\n', { mode: 0o644 });
    const before = await stat(file);
    await run('dotenv', [file]);
    expect(await readFile(file, 'utf8')).toBe(`APP=demo\nAWS_ACCESS_KEY_ID=${KEY.AccessKeyId}\nAWS_SECRET_ACCESS_KEY=${KEY.SecretAccessKey}\n# keep me\n`);
    const after = await stat(file);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o600);
    expect(await readdir(dirname(file))).toEqual(['.env']);
  });

  it('other-credentials-file changes only the named profile of a second credentials file', async () => {
    const file = join(home.dir, 'srv', 'credentials');
    await mkdir(dirname(file));
    const text = '# mounted into the container\n[app]\naws_access_key_id = AKIAOLDOLDOLDOLD0001\naws_secret_access_key = old\n\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = other\n';
    await writeFile(file, text);
    await run('other-credentials-file', [file, 'app']);
    expect(await readFile(file, 'utf8')).toBe(text.replace('AKIAOLDOLDOLDOLD0001', KEY.AccessKeyId).replace('= old', `= ${KEY.SecretAccessKey}`));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  // Review finding: plain sh has no pipefail, so `jq … | gh secret set …` exited 0 after setting an
  // empty secret when jq was missing or the field absent, and keyup then retired the old key.
  describe.each([
    ['github-actions-secret', ['acme/app']],
    ['gitlab-variable', ['acme/app']],
    ['secrets-manager', ['prod/app/aws']],
  ])('%s fails, and sets nothing, when it cannot read the key', (example, args) => {
    it('without jq on PATH', async () => {
      const { code, calls } = await attempt(example, args, { path: await pathWithoutJq() });
      expect(code).not.toBe(0);
      expect(calls).toEqual([]);
    });

    it('with JSON that lacks SecretAccessKey', async () => {
      const { SecretAccessKey: _omitted, ...partial } = KEY;
      const { code, calls } = await attempt(example, args, { input: JSON.stringify(partial) });
      expect(code).not.toBe(0);
      expect(calls).toEqual([]);
    });
  });

  // Review finding: a .env without the two lines, or a misspelt profile, exited 0 having changed nothing.
  it('dotenv fails, and leaves the file as it was, when the file has no AWS lines', async () => {
    const file = join(home.dir, 'project', '.env');
    await mkdir(dirname(file));
    await writeFile(file, 'APP=demo\nAWS_ACCESS_KEY_ID=AKIAOLDOLDOLDOLD0001\n', { mode: 0o644 });
    const before = await stat(file);
    const { code, stderr } = await attempt('dotenv', [file]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('AWS_SECRET_ACCESS_KEY');
    expect(stderr).not.toContain(KEY.SecretAccessKey);
    expect(await readFile(file, 'utf8')).toBe('APP=demo\nAWS_ACCESS_KEY_ID=AKIAOLDOLDOLDOLD0001\n');
    expect((await stat(file)).ino).toBe(before.ino);
    expect(await readdir(dirname(file))).toEqual(['.env']);
  });

  it('dotenv fails, and leaves the file as it was, when it cannot read the key', async () => {
    const file = join(home.dir, 'project', '.env');
    await mkdir(dirname(file));
    const text = 'AWS_ACCESS_KEY_ID=AKIAOLDOLDOLDOLD0001\nAWS_SECRET_ACCESS_KEY=old\n';
    await writeFile(file, text);
    const { SecretAccessKey: _omitted, ...partial } = KEY;
    const { code } = await attempt('dotenv', [file], { input: JSON.stringify(partial) });
    expect(code).not.toBe(0);
    expect(await readFile(file, 'utf8')).toBe(text);
    expect(await readdir(dirname(file))).toEqual(['.env']);
  });

  it('other-credentials-file fails, and leaves the file as it was, for a profile it does not hold', async () => {
    const file = join(home.dir, 'srv', 'credentials');
    await mkdir(dirname(file));
    const text = '[app]\naws_access_key_id = AKIAOLDOLDOLDOLD0001\naws_secret_access_key = old\n';
    await writeFile(file, text, { mode: 0o644 });
    const before = await stat(file);
    const { code, stderr } = await attempt('other-credentials-file', [file, 'ap']);
    expect(code).not.toBe(0);
    expect(stderr).toContain('[ap]');
    expect(stderr).not.toContain(KEY.SecretAccessKey);
    expect(await readFile(file, 'utf8')).toBe(text);
    expect((await stat(file)).ino).toBe(before.ino);
    expect(await readdir(dirname(file))).toEqual(['credentials']);
  });

  it('other-credentials-file fails, and leaves the file as it was, when it cannot read the key', async () => {
    const file = join(home.dir, 'srv', 'credentials');
    await mkdir(dirname(file));
    const text = '[app]\naws_access_key_id = AKIAOLDOLDOLDOLD0001\naws_secret_access_key = old\n';
    await writeFile(file, text);
    const { SecretAccessKey: _omitted, ...partial } = KEY;
    const { code } = await attempt('other-credentials-file', [file, 'app'], { input: JSON.stringify(partial) });
    expect(code).not.toBe(0);
    expect(await readFile(file, 'utf8')).toBe(text);
    expect(await readdir(dirname(file))).toEqual(['credentials']);
  });
});
