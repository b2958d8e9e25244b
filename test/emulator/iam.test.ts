import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  LimitExceededException,
  ListAccessKeysCommand,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { failure, iamClient, isolateAwsEnvironment, seedUser, useEmulator } from './helpers.js';

isolateAwsEnvironment();

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('IAM actions through the real SDK', () => {
  it('GetUser answers the caller, with path and ARN', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice', { path: '/team/' });
    const out = await iamClient(emulator, alice.credentials).send(new GetUserCommand({}));
    expect(out.User).toMatchObject({
      UserName: 'alice',
      Path: '/team/',
      Arn: `arn:aws:iam::123456789012:user/team/alice`,
      UserId: alice.userId,
    });
    expect(out.User?.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(out.User?.CreateDate).toBeInstanceOf(Date);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('ListAccessKeys without UserName lists the caller’s own keys, with and without UserName alike', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice', { keyCreateDate: '2026-01-02T03:04:05Z' });
    const second = emulator.createAccessKey({ userName: 'alice', status: 'Inactive' });
    const iam = iamClient(emulator, alice.credentials);
    const implicit = await iam.send(new ListAccessKeysCommand({}));
    const explicit = await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    expect(implicit.AccessKeyMetadata).toEqual(explicit.AccessKeyMetadata);
    expect(implicit.IsTruncated).toBe(false);
    expect(implicit.Marker).toBeUndefined();
    expect(implicit.AccessKeyMetadata).toEqual([
      {
        UserName: 'alice',
        AccessKeyId: alice.credentials.accessKeyId,
        Status: 'Active',
        CreateDate: new Date('2026-01-02T03:04:05Z'),
      },
      { UserName: 'alice', AccessKeyId: second.accessKeyId, Status: 'Inactive', CreateDate: new Date(second.createDate) },
    ]);
  });

  it('ListAccessKeys pages with MaxItems and Marker', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const second = emulator.createAccessKey({ userName: 'alice' });
    const iam = iamClient(emulator, alice.credentials);
    const first = await iam.send(new ListAccessKeysCommand({ MaxItems: 1 }));
    expect(first.IsTruncated).toBe(true);
    expect(first.AccessKeyMetadata?.map((key) => key.AccessKeyId)).toEqual([alice.credentials.accessKeyId]);
    const rest = await iam.send(new ListAccessKeysCommand({ MaxItems: 1, Marker: first.Marker }));
    expect(rest.IsTruncated).toBe(false);
    expect(rest.AccessKeyMetadata?.map((key) => key.AccessKeyId)).toEqual([second.accessKeyId]);
  });

  it('CreateAccessKey returns an AWS-shaped key that then signs requests', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const out = await iamClient(emulator, alice.credentials).send(new CreateAccessKeyCommand({}));
    const key = out.AccessKey;
    expect(key?.UserName).toBe('alice');
    expect(key?.Status).toBe('Active');
    expect(key?.AccessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(key?.SecretAccessKey).toHaveLength(40);
    expect(key?.CreateDate).toBeInstanceOf(Date);
    const fresh = { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' };
    const me = await iamClient(emulator, fresh).send(new GetUserCommand({}));
    expect(me.User?.UserName).toBe('alice');
    expect(emulator.getState().accessKeys.map((k) => k.accessKeyId)).toContain(fresh.accessKeyId);
  });

  it('UpdateAccessKey deactivates and reactivates a key', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const other = emulator.createAccessKey({ userName: 'alice' });
    const iam = iamClient(emulator, alice.credentials);
    const out = await iam.send(new UpdateAccessKeyCommand({ AccessKeyId: other.accessKeyId, Status: 'Inactive' }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(emulator.getState().accessKeys.find((k) => k.accessKeyId === other.accessKeyId)?.status).toBe('Inactive');
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: other.accessKeyId, Status: 'Active' }));
    expect(emulator.getState().accessKeys.find((k) => k.accessKeyId === other.accessKeyId)?.status).toBe('Active');
  });

  it('DeleteAccessKey removes the key', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const other = emulator.createAccessKey({ userName: 'alice' });
    await iamClient(emulator, alice.credentials).send(new DeleteAccessKeyCommand({ AccessKeyId: other.accessKeyId }));
    expect(emulator.getState().accessKeys.map((k) => k.accessKeyId)).toEqual([alice.credentials.accessKeyId]);
  });

  it('GetAccessKeyLastUsed says N/A for a key never used, then the date, service and region of its last use', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const other = emulator.createAccessKey({ userName: 'alice' });
    const iam = iamClient(emulator, alice.credentials);
    const never = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: other.accessKeyId }));
    expect(never.UserName).toBe('alice');
    expect(never.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });

    const before = Date.now();
    await iam.send(new GetUserCommand({}));
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: alice.credentials.accessKeyId }));
    expect(used.AccessKeyLastUsed?.ServiceName).toBe('iam');
    expect(used.AccessKeyLastUsed?.Region).toBe('eu-west-1');
    expect(used.AccessKeyLastUsed?.LastUsedDate?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(emulator.getState().accessKeys[0]?.lastUsed?.date).toMatch(ISO_SECONDS);
  });

  it('an admin manages another user’s keys', async () => {
    const emulator = await useEmulator();
    const admin = seedUser(emulator, 'admin', { admin: true });
    seedUser(emulator, 'ci-bot', { path: '/bots/' });
    const iam = iamClient(emulator, admin.credentials);
    const created = await iam.send(new CreateAccessKeyCommand({ UserName: 'ci-bot' }));
    expect(created.AccessKey?.UserName).toBe('ci-bot');
    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'ci-bot' }));
    expect(listed.AccessKeyMetadata).toHaveLength(2);
    const user = await iam.send(new GetUserCommand({ UserName: 'ci-bot' }));
    expect(user.User?.Arn).toBe('arn:aws:iam::123456789012:user/bots/ci-bot');
  });
});

describe('IAM errors through the real SDK', () => {
  it('a third key is LimitExceeded (409) and changes nothing', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.createAccessKey({ userName: 'alice' });
    const error = await failure(iamClient(emulator, alice.credentials).send(new CreateAccessKeyCommand({})));
    expect(error).toBeInstanceOf(LimitExceededException);
    expect(error.name).toBe('LimitExceededException');
    expect(error.message).toBe('Cannot exceed quota for AccessKeysPerUser: 2');
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(409);
    expect(emulator.getState().accessKeys).toHaveLength(2);
  });

  it('an unknown user is NoSuchEntity (404)', async () => {
    const emulator = await useEmulator();
    const admin = seedUser(emulator, 'admin', { admin: true });
    const error = await failure(iamClient(emulator, admin.credentials).send(new ListAccessKeysCommand({ UserName: 'nobody' })));
    expect(error).toBeInstanceOf(NoSuchEntityException);
    expect(error.message).toBe('The user with name nobody cannot be found.');
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(404);
  });

  it('an unknown key, or another user’s key named under the wrong user, is NoSuchEntity', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice', { admin: true });
    const bob = seedUser(emulator, 'bob');
    const iam = iamClient(emulator, alice.credentials);
    const missing = 'AKIAZZZZZZZZZZZZZZZZ';
    for (const command of [
      new UpdateAccessKeyCommand({ AccessKeyId: missing, Status: 'Inactive' }),
      new DeleteAccessKeyCommand({ AccessKeyId: missing }),
      new GetAccessKeyLastUsedCommand({ AccessKeyId: missing }),
    ]) {
      const error = await failure(iam.send(command as never));
      expect(error).toBeInstanceOf(NoSuchEntityException);
      expect(error.message).toBe(`The Access Key with id ${missing} cannot be found.`);
    }
    // Bob's key exists, but not as alice's (UserName defaults to the caller).
    const wrongOwner = await failure(iam.send(new DeleteAccessKeyCommand({ AccessKeyId: bob.credentials.accessKeyId })));
    expect(wrongOwner).toBeInstanceOf(NoSuchEntityException);
    expect(emulator.getState().accessKeys).toHaveLength(2);
  });

  it('a plain user touching another user’s keys is AccessDenied (403) in AWS’s words', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice', { path: '/team/' });
    const bob = seedUser(emulator, 'bob');
    const iam = iamClient(emulator, alice.credentials);
    const error = await failure(iam.send(new ListAccessKeysCommand({ UserName: 'bob' })));
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toBe(
      'User: arn:aws:iam::123456789012:user/team/alice is not authorized to perform: iam:ListAccessKeys ' +
        'on resource: user bob because no identity-based policy allows the iam:ListAccessKeys action',
    );
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(403);
    const lastUsed = await failure(iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: bob.credentials.accessKeyId })));
    expect(lastUsed.name).toBe('AccessDenied');
    const del = await failure(iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: bob.credentials.accessKeyId })));
    expect(del.name).toBe('AccessDenied');
    expect(emulator.getState().accessKeys).toHaveLength(2);
  });

  it('a denied action is AccessDenied even on the user’s own keys', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice', { deniedActions: ['iam:CreateAccessKey', 'DeleteAccessKey'] });
    const iam = iamClient(emulator, alice.credentials);
    const create = await failure(iam.send(new CreateAccessKeyCommand({})));
    expect(create.name).toBe('AccessDenied');
    expect(create.message).toContain('is not authorized to perform: iam:CreateAccessKey on resource: user alice');
    const del = await failure(iam.send(new DeleteAccessKeyCommand({ AccessKeyId: alice.credentials.accessKeyId })));
    expect(del.name).toBe('AccessDenied');
    await expect(iam.send(new ListAccessKeysCommand({}))).resolves.toBeDefined();
  });

  it('a bad Status is a ValidationError (400)', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const error = await failure(
      iamClient(emulator, alice.credentials).send(
        new UpdateAccessKeyCommand({ AccessKeyId: alice.credentials.accessKeyId, Status: 'Paused' as 'Active' }),
      ),
    );
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(
      "1 validation error detected: Value 'Paused' at 'status' failed to satisfy constraint: " +
        'Member must satisfy enum value set: [Active, Inactive]',
    );
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
  });
});
