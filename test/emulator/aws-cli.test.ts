import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { REGION, seedUser, useEmulator, type Credentials } from './helpers.js';

// The AWS CLI (botocore) is a second client, independent of the JS SDK: what both accept and
// parse is more likely AWS's shape than one SDK's leniency. CI installs it when missing.

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'keyup-emulator-cli-'));
  // Empty files: the CLI must find nothing but what each call passes in its environment.
  writeFileSync(join(home, 'config'), '');
  writeFileSync(join(home, 'credentials'), '');
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

function runAws(emulator: Emulator, credentials: Credentials, args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    ...(process.env['PYENV_ROOT'] === undefined ? {} : { PYENV_ROOT: process.env['PYENV_ROOT'] }),
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: credentials.sessionToken }),
    AWS_DEFAULT_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    AWS_PAGER: '',
  };
  return new Promise((resolve) => {
    execFile('aws', [...args, '--endpoint-url', emulator.endpoint, '--output', 'json'], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function json(result: CliResult): Record<string, unknown> {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe('the AWS CLI against the emulator', () => {
  it('reads identity, keys and last use, and makes a key', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice', { path: '/team/', keyCreateDate: '2026-01-02T03:04:05Z' });
    const [identity, listed] = await Promise.all([
      runAws(emulator, alice.credentials, ['sts', 'get-caller-identity']),
      runAws(emulator, alice.credentials, ['iam', 'list-access-keys']),
    ]);
    const created = await runAws(emulator, alice.credentials, ['iam', 'create-access-key']);
    expect(json(identity)).toEqual({ UserId: alice.userId, Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/team/alice' });
    expect(json(listed)).toEqual({
      AccessKeyMetadata: [
        { UserName: 'alice', AccessKeyId: alice.credentials.accessKeyId, Status: 'Active', CreateDate: expect.stringMatching(/^2026-01-02T03:04:05/) },
      ],
    });
    const key = json(created)['AccessKey'] as Record<string, string>;
    expect(key).toMatchObject({ UserName: 'alice', Status: 'Active', AccessKeyId: expect.stringMatching(/^AKIA/) });
    const lastUsed = json(
      await runAws(emulator, alice.credentials, ['iam', 'get-access-key-last-used', '--access-key-id', alice.credentials.accessKeyId]),
    );
    expect(lastUsed).toMatchObject({ UserName: 'alice', AccessKeyLastUsed: { Region: REGION, ServiceName: expect.stringMatching(/^(iam|sts)$/) } });
  });

  it('gets and uses session credentials', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const out = json(await runAws(emulator, alice.credentials, ['sts', 'get-session-token', '--duration-seconds', '900']));
    const credentials = out['Credentials'] as Record<string, string>;
    const session = {
      accessKeyId: credentials['AccessKeyId'] ?? '',
      secretAccessKey: credentials['SecretAccessKey'] ?? '',
      sessionToken: credentials['SessionToken'] ?? '',
    };
    expect(session.accessKeyId).toMatch(/^ASIA/);
    const [identity, iam] = await Promise.all([
      runAws(emulator, session, ['sts', 'get-caller-identity']),
      runAws(emulator, session, ['iam', 'list-access-keys']),
    ]);
    expect(json(identity)['Arn']).toBe(alice.arn);
    expect(iam.code).not.toBe(0);
    expect(iam.stderr).toContain('(InvalidClientTokenId) when calling the ListAccessKeys operation');
  });

  it('reports AWS’s errors by code and message', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.createAccessKey({ userName: 'alice' });
    const forged = { ...alice.credentials, secretAccessKey: 'z'.repeat(40) };
    const [signature, limit, missing, denied] = await Promise.all([
      runAws(emulator, forged, ['sts', 'get-caller-identity']),
      runAws(emulator, alice.credentials, ['iam', 'create-access-key']),
      runAws(emulator, alice.credentials, ['iam', 'delete-access-key', '--access-key-id', 'AKIAZZZZZZZZZZZZZZZZ']),
      runAws(emulator, alice.credentials, ['iam', 'list-access-keys', '--user-name', 'bob']),
    ]);
    // botocore's standard retry mode inserts " (reached max retries: 0)" before the message.
    const error = (code: string, operation: string, message: string): RegExp =>
      new RegExp(`An error occurred \\(${code}\\) when calling the ${operation} operation( \\(reached max retries: 0\\))?: ${message}`);
    for (const result of [signature, limit, missing, denied]) expect(result.code).not.toBe(0);
    expect(signature.stderr).toMatch(error('SignatureDoesNotMatch', 'GetCallerIdentity', 'The request signature we calculated'));
    expect(limit.stderr).toMatch(error('LimitExceeded', 'CreateAccessKey', 'Cannot exceed quota for AccessKeysPerUser: 2'));
    expect(missing.stderr).toMatch(error('NoSuchEntity', 'DeleteAccessKey', 'The Access Key with id AKIAZZZZZZZZZZZZZZZZ cannot be found\\.'));
    expect(denied.stderr).toMatch(error('AccessDenied', 'ListAccessKeys', 'User: arn:aws:iam::123456789012:user/alice is not authorized'));
  });
});
