/**
 * The README's post_rotate examples (examples/post-rotate/), run as keyup runs a hook: the new
 * key as JSON on stdin, nothing secret in argv. gh, glab and aws are stand-ins on PATH that
 * record their arguments and what they read; jq and awk are the real ones (.ci/run installs jq).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
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

  /** Runs an example with the key on stdin, as keyup does; resolves with what the stand-ins were given. */
  function run(example: string, args: string[]): Promise<{ tool: string; argv: string[]; stdin: string }[]> {
    return new Promise((resolve, reject) => {
      const child = execFile(join(EXAMPLES, example), args, { env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home.dir }, cwd: home.dir }, async (error, _stdout, stderr) => {
        if (error !== null) reject(new Error(`${example} failed: ${stderr}`));
        else resolve((await readFile(record, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { tool: string; argv: string[]; stdin: string }));
      });
      child.stdin?.end(JSON.stringify(KEY));
    });
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
});
