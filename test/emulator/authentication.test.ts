import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import {
  failure,
  iamClient,
  isolateAwsEnvironment,
  seedUser,
  stsClient,
  useEmulator,
  type Credentials,
} from './helpers.js';

isolateAwsEnvironment();

const INVALID_TOKEN = 'The security token included in the request is invalid.';

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Polls a call every 25 ms until it succeeds; returns how long that took. */
async function waitUntilAccepted(call: () => Promise<unknown>, deadlineMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    try {
      await call();
      return Date.now() - start;
    } catch (error) {
      if ((error as Error).name !== 'InvalidClientTokenId' || Date.now() - start > deadlineMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

async function createKey(emulator: Emulator, caller: Credentials): Promise<Credentials> {
  const out = await iamClient(emulator, caller).send(new CreateAccessKeyCommand({}));
  return { accessKeyId: out.AccessKey?.AccessKeyId ?? '', secretAccessKey: out.AccessKey?.SecretAccessKey ?? '' };
}

describe('SigV4 authentication', () => {
  it('an unknown key is InvalidClientTokenId (403) on both services', async () => {
    const emulator = await useEmulator();
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) };
    for (const send of [
      () => iamClient(emulator, stranger).send(new GetUserCommand({})),
      () => stsClient(emulator, stranger).send(new GetCallerIdentityCommand({})),
    ]) {
      const error = await failure(send());
      expect(error.name).toBe('InvalidClientTokenId');
      expect(error.message).toBe(INVALID_TOKEN);
      expect(statusOf(error)).toBe(403);
    }
  });

  it('a wrong secret is SignatureDoesNotMatch (403)', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    // Change the last character to one it is not (a secret ending in 'A' once made this flaky).
    const secret = alice.credentials.secretAccessKey;
    const forged = { ...alice.credentials, secretAccessKey: `${secret.slice(0, 39)}${secret.endsWith('A') ? 'B' : 'A'}` };
    expect(forged.secretAccessKey).not.toBe(secret);
    const error = await failure(stsClient(emulator, forged).send(new GetCallerIdentityCommand({})));
    expect(error.name).toBe('SignatureDoesNotMatch');
    expect(error.message).toMatch(/^The request signature we calculated does not match the signature you provided\./);
    expect(statusOf(error)).toBe(403);
  });

  it('an inactive key, and then a deleted one, is InvalidClientTokenId', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const spare = emulator.createAccessKey({ userName: 'alice' });
    const spareCredentials = { accessKeyId: spare.accessKeyId, secretAccessKey: spare.secretAccessKey };
    const iam = iamClient(emulator, alice.credentials);
    await iam.send(new UpdateAccessKeyCommand({ AccessKeyId: spare.accessKeyId, Status: 'Inactive' }));
    const inactive = await failure(stsClient(emulator, spareCredentials).send(new GetCallerIdentityCommand({})));
    expect(inactive.name).toBe('InvalidClientTokenId');
    await iam.send(new DeleteAccessKeyCommand({ AccessKeyId: spare.accessKeyId }));
    const deleted = await failure(stsClient(emulator, spareCredentials).send(new GetCallerIdentityCommand({})));
    expect(deleted.name).toBe('InvalidClientTokenId');
  });

  it('a seeded inactive key cannot sign', async () => {
    const emulator = await useEmulator();
    emulator.createUser({ userName: 'alice' });
    const key = emulator.createAccessKey({ userName: 'alice', status: 'Inactive' });
    const error = await failure(stsClient(emulator, key).send(new GetCallerIdentityCommand({})));
    expect(error.name).toBe('InvalidClientTokenId');
  });

  it('a request signed more than 15 minutes late or early is SignatureDoesNotMatch', async () => {
    for (const [offsetMs, pattern] of [
      [20 * 60_000, /^Signature expired: .* is now earlier than .* \(.* - 15 min\.\)$/],
      [-20 * 60_000, /^Signature not yet current: .* is still later than .* \(.* \+ 15 min\.\)$/],
    ] as const) {
      const emulator = await useEmulator({ now: () => new Date(Date.now() + offsetMs) });
      const alice = seedUser(emulator, 'alice');
      const error = await failure(stsClient(emulator, alice.credentials).send(new GetCallerIdentityCommand({})));
      expect(error.name).toBe('SignatureDoesNotMatch');
      expect(error.message).toMatch(pattern);
      expect(statusOf(error)).toBe(403);
    }
  });

  it('a request signed 10 minutes off is still accepted', async () => {
    const emulator = await useEmulator({ now: () => new Date(Date.now() + 10 * 60_000) });
    const alice = seedUser(emulator, 'alice');
    await expect(stsClient(emulator, alice.credentials).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
  });

  it('a failed authentication leaves no trace of use on the key', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const forged = { ...alice.credentials, secretAccessKey: 'y'.repeat(40) };
    await failure(stsClient(emulator, forged).send(new GetCallerIdentityCommand({})));
    expect(emulator.getState().accessKeys[0]?.lastUsed).toBeNull();
  });
});

describe('eventual consistency of new keys', () => {
  it('a new key is refused until the activation delay has passed, then accepted', async () => {
    const emulator = await useEmulator({ activationDelayMs: 300 });
    const alice = seedUser(emulator, 'alice');
    const created = Date.now();
    const fresh = await createKey(emulator, alice.credentials);
    const sts = stsClient(emulator, fresh);
    const early = await failure(sts.send(new GetCallerIdentityCommand({})));
    expect(early.name).toBe('InvalidClientTokenId');
    expect(early.message).toBe(INVALID_TOKEN);
    await waitUntilAccepted(() => sts.send(new GetCallerIdentityCommand({})), 3000);
    expect(Date.now() - created).toBeGreaterThanOrEqual(300);
    expect(emulator.getCallLog()).toContainEqual(
      expect.objectContaining({ action: 'GetCallerIdentity', accessKeyId: fresh.accessKeyId, errorCode: 'InvalidClientTokenId', httpStatus: 403 }),
    );
  });

  it('the delay may differ per service: STS accepts a key IAM still refuses', async () => {
    const emulator = await useEmulator({ activationDelayMs: { iam: 400, sts: 0 } });
    const alice = seedUser(emulator, 'alice');
    const fresh = await createKey(emulator, alice.credentials);
    const identity = await stsClient(emulator, fresh).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(alice.arn);
    const iam = iamClient(emulator, fresh);
    const refused = await failure(iam.send(new ListAccessKeysCommand({})));
    expect(refused.name).toBe('InvalidClientTokenId');
    const waited = await waitUntilAccepted(() => iam.send(new ListAccessKeysCommand({})), 3000);
    expect(waited).toBeGreaterThan(0);
  });

  it('the delay can be changed while running', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    expect(emulator.setActivationDelay(60_000)).toEqual({ iam: 60_000, sts: 60_000 });
    const fresh = await createKey(emulator, alice.credentials);
    const sts = stsClient(emulator, fresh);
    expect((await failure(sts.send(new GetCallerIdentityCommand({})))).name).toBe('InvalidClientTokenId');
    emulator.setActivationDelay({ sts: 0 });
    await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    expect(emulator.getState().activationDelayMs).toEqual({ iam: 60_000, sts: 0 });
  });
});

describe('last use of a key', () => {
  it('records the date, service and region of each authenticated call on the key that signed it', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const spare = emulator.createAccessKey({ userName: 'alice' });
    const before = Math.floor(Date.now() / 1000) * 1000;
    await stsClient(emulator, alice.credentials).send(new GetCallerIdentityCommand({}));
    const iam = iamClient(emulator, { accessKeyId: spare.accessKeyId, secretAccessKey: spare.secretAccessKey });
    const afterSts = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: alice.credentials.accessKeyId }));
    expect(afterSts.AccessKeyLastUsed?.ServiceName).toBe('sts');
    expect(afterSts.AccessKeyLastUsed?.Region).toBe('eu-west-1');
    expect(afterSts.AccessKeyLastUsed?.LastUsedDate?.getTime()).toBeGreaterThanOrEqual(before);
    // The spare key signed that IAM call, and is now recorded as used by IAM.
    const spareUse = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: spare.accessKeyId }));
    expect(spareUse.AccessKeyLastUsed?.ServiceName).toBe('iam');
  });
});
