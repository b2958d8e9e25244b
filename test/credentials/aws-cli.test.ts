import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsStore } from '../../src/credentials/store.js';
import { resolvePaths } from '../../src/paths.js';
import type { KeyupPaths } from '../../src/paths.js';
import { NEW_KEY, OLD_ID, OLD_SECRET } from './support.js';

/**
 * The AWS CLI (botocore) must read what keyup wrote. CI installs Debian's awscli when `aws` is
 * missing. Each test runs with HOME and both AWS file variables pointing into a fresh temp folder,
 * and without the caller's AWS_* variables.
 */

const run = promisify(execFile);
const UNTOUCHED_ID = 'AKIAUNTOUCHEDUNTOUC5';

let root: string;
let paths: KeyupPaths;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'keyup-aws-cli-'));
  paths = resolvePaths({ env: { AWS_SHARED_CREDENTIALS_FILE: join(root, 'credentials'), AWS_CONFIG_FILE: join(root, 'config'), XDG_STATE_HOME: join(root, 'state') }, home: root });
  await writeFile(paths.awsConfigFile, '[profile from-config]\nregion = us-east-1\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `aws configure get NAME --profile PROFILE`: the value, or undefined when the CLI fails. */
async function getWithCli(name: string, profile: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('aws', ['configure', 'get', name, '--profile', profile], {
      timeout: 20_000,
      env: {
        PATH: process.env.PATH,
        ...(process.env.PYENV_ROOT === undefined ? {} : { PYENV_ROOT: process.env.PYENV_ROOT }),
        HOME: root,
        LANG: 'C.UTF-8',
        PYTHONUTF8: '1',
        AWS_SHARED_CREDENTIALS_FILE: paths.credentialsFile,
        AWS_CONFIG_FILE: paths.awsConfigFile,
      },
    });
    return stdout.replace(/\r?\n$/, '');
  } catch {
    return undefined;
  }
}

/** Profile names that are hard for hand-written parsers, and settings around them that must survive. */
function createTrickyFile(eol: string, bom: boolean): string {
  const lines = [
    '# keyup test file ; with comments',
    '[default]',
    `aws_access_key_id = ${OLD_ID}`,
    `aws_secret_access_key = ${OLD_SECRET}`,
    'region = eu-west-1 ; the CLI keeps this text',
    '',
    '[team.dev ops]',
    `AWS_ACCESS_KEY_ID:${OLD_ID}`,
    '; between the two',
    `Aws_Secret_Access_Key\t=\t${OLD_SECRET}   `,
    '',
    '[ünïcödé-日本]',
    `aws_access_key_id=${OLD_ID}`,
    's3 =',
    '    max_concurrent_requests = 5',
    `aws_secret_access_key=${OLD_SECRET}`,
    '',
    '[untouched]',
    `aws_access_key_id = ${UNTOUCHED_ID}`,
    'aws_secret_access_key = keep/this+secret',
  ];
  return (bom ? '\ufeff' : '') + lines.join(eol);
}

const ROTATED = ['default', 'team.dev ops', 'ünïcödé-日本'];

async function expectCliReads(expected: Record<string, Record<string, string>>): Promise<void> {
  const checks = Object.entries(expected).flatMap(([profile, values]) => Object.entries(values).map(async ([name, value]) => [profile, name, await getWithCli(name, profile), value]));
  for (const [profile, name, actual, value] of await Promise.all(checks)) {
    expect({ profile, name, value: actual }).toEqual({ profile, name, value });
  }
}

describe('the AWS CLI reads the rewritten file', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('with %s line endings, dotted, spaced and unicode names, comments and a nested block', async (_case, eol) => {
    const original = createTrickyFile(eol, false);
    await writeFile(paths.credentialsFile, original);
    const store = new CredentialsStore({ fs, paths });
    expect((await store.replaceKey(OLD_ID, NEW_KEY)).changed).toEqual(ROTATED);
    expect(await readFile(paths.credentialsFile, 'utf8')).toBe(original.replaceAll(OLD_ID, NEW_KEY.accessKeyId).replaceAll(OLD_SECRET, NEW_KEY.secretAccessKey));

    const rotated = { aws_access_key_id: NEW_KEY.accessKeyId, aws_secret_access_key: NEW_KEY.secretAccessKey };
    await expectCliReads({
      default: { ...rotated, region: 'eu-west-1 ; the CLI keeps this text' },
      'team.dev ops': rotated,
      'ünïcödé-日本': { ...rotated, 's3.max_concurrent_requests': '5' },
      untouched: { aws_access_key_id: UNTOUCHED_ID, aws_secret_access_key: 'keep/this+secret' },
      'from-config': { region: 'us-east-1' },
    });
  });

  // botocore opens the file as plain UTF-8, so '\ufeff[default]' is no section header and the
  // CLI refuses the whole file. keyup keeps the BOM (every byte stays), so the CLI is no worse off
  // than before; without the BOM it reads the new key.
  it('with a byte-order mark: keyup keeps it, and the CLI fails on it before and after alike', async () => {
    const original = createTrickyFile('\r\n', true);
    await writeFile(paths.credentialsFile, original);
    expect(await getWithCli('aws_access_key_id', 'default')).toBeUndefined();

    await new CredentialsStore({ fs, paths }).replaceKey(OLD_ID, NEW_KEY);
    const written = await readFile(paths.credentialsFile);
    expect(written.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(await getWithCli('aws_access_key_id', 'default')).toBeUndefined();

    await writeFile(paths.credentialsFile, written.subarray(3));
    await expectCliReads({ 'ünïcödé-日本': { aws_access_key_id: NEW_KEY.accessKeyId, aws_secret_access_key: NEW_KEY.secretAccessKey } });
  });
});
