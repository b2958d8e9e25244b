import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, onTestFinished, vi } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.js';

export const REGION = 'eu-west-1';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Points every AWS setting the SDK might read from files or the environment at an empty temp
 * folder, so that no test depends on (or touches) the real ~/.aws of whoever runs it.
 */
export function isolateAwsEnvironment(): void {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyup-emulator-test-'));
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
    for (const name of [
      'AWS_PROFILE',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL_IAM',
      'AWS_ENDPOINT_URL_STS',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
    ]) {
      vi.stubEnv(name, undefined);
    }
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });
}

/** A fresh emulator for the current test, stopped when the test ends. */
export async function useEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({
    onUnexpectedError: (error) => {
      throw error;
    },
    ...options,
  });
  onTestFinished(() => emulator.stop());
  return emulator;
}

export interface ClientInit {
  /** Gives up on a request after this long (the SDK's socket-level request timeout). */
  requestTimeoutMs?: number;
}

// The SDK builds its Node handler from these options, so no handler package is imported here.
// Without throwOnRequestTimeout the handler only logs a warning when the timeout passes and
// goes on waiting.
function requestHandler({ requestTimeoutMs }: ClientInit): { requestTimeout: number; throwOnRequestTimeout: true } | undefined {
  return requestTimeoutMs === undefined ? undefined : { requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true };
}

/** A real IAM client with static credentials only: no default chain, no retries. */
export function iamClient(emulator: Emulator, credentials: Credentials, init: ClientInit = {}): IAMClient {
  const client = new IAMClient({
    region: REGION,
    endpoint: emulator.endpoint,
    credentials,
    maxAttempts: 1,
    requestHandler: requestHandler(init),
  });
  onTestFinished(() => client.destroy());
  return client;
}

/** A real STS client with static credentials only: no default chain, no retries. */
export function stsClient(emulator: Emulator, credentials: Credentials, init: ClientInit = {}): STSClient {
  const client = new STSClient({
    region: REGION,
    endpoint: emulator.endpoint,
    credentials,
    maxAttempts: 1,
    requestHandler: requestHandler(init),
  });
  onTestFinished(() => client.destroy());
  return client;
}

export interface SeededUser {
  userName: string;
  arn: string;
  userId: string;
  credentials: Credentials;
}

/** A user with one active key, the usual starting point. */
export function seedUser(
  emulator: Emulator,
  userName: string,
  init: { path?: string; admin?: boolean; deniedActions?: string[]; keyCreateDate?: string } = {},
): SeededUser {
  const user = emulator.createUser({ userName, path: init.path, admin: init.admin, deniedActions: init.deniedActions });
  const key = emulator.createAccessKey({ userName, createDate: init.keyCreateDate });
  return {
    userName,
    arn: user.arn,
    userId: user.userId,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
  };
}

/** Runs `promise`, expecting it to fail, and returns the error for assertions. */
export async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
