import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ControlClient } from '../../emulator/control-client.js';
import type { Emulator } from '../../emulator/index.js';
import { failure, iamClient, isolateAwsEnvironment, seedUser, stsClient, useEmulator, type Credentials } from './helpers.js';

/**
 * Issue 13: IAM users under AWS's "force MFA" example policy, their MFA devices, and sessions
 * made with a code. The wording of every refusal is AWS's, because keyup decides on it.
 */

isolateAwsEnvironment();

const ACCOUNT = '123456789012';
const FORCE_MFA_POLICY = `arn:aws:iam::${ACCOUNT}:policy/Force_MFA`;
const WRONG_CODE = '000000';
const INVALID_CODE = 'MultiFactorAuthentication failed with invalid MFA one time pass code.';
const UNKNOWN_DEVICE =
  'MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.';

function explicitDeny(userName: string, action: string, target = userName, policy = FORCE_MFA_POLICY): string {
  return (
    `User: arn:aws:iam::${ACCOUNT}:user/${userName} is not authorized to perform: ${action} on resource: user ${target} ` +
    `with an explicit deny in an identity-based policy: ${policy}`
  );
}

function sessionOf(out: { Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } }): Credentials {
  return {
    accessKeyId: out.Credentials?.AccessKeyId ?? '',
    secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
    sessionToken: out.Credentials?.SessionToken ?? '',
  };
}

/** alice under the force-MFA policy, with one key and a virtual MFA device showing `123456`. */
async function forcedAlice(emulator: Emulator) {
  emulator.createUser({ userName: 'alice', forceMfa: true });
  const key = emulator.createAccessKey({ userName: 'alice' });
  const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  const device = emulator.createMfaDevice({ userName: 'alice', kind: 'virtual', codes: ['123456'] });
  const mfaSession = async (code = '123456', durationSeconds?: number): Promise<Credentials> =>
    sessionOf(
      await stsClient(emulator, credentials).send(
        new GetSessionTokenCommand({ SerialNumber: device.serialNumber, TokenCode: code, DurationSeconds: durationSeconds }),
      ),
    );
  return { credentials, device, mfaSession };
}

describe('a user under the force-MFA policy, without MFA', () => {
  it('is refused every key action with an explicit deny worded as AWS words it, and nothing changes', async () => {
    const emulator = await useEmulator();
    const { credentials } = await forcedAlice(emulator);
    const iam = iamClient(emulator, credentials);
    const id = credentials.accessKeyId;
    const calls = [
      ['iam:ListAccessKeys', new ListAccessKeysCommand({})],
      ['iam:CreateAccessKey', new CreateAccessKeyCommand({})],
      ['iam:UpdateAccessKey', new UpdateAccessKeyCommand({ AccessKeyId: id, Status: 'Inactive' })],
      ['iam:DeleteAccessKey', new DeleteAccessKeyCommand({ AccessKeyId: id })],
      ['iam:GetAccessKeyLastUsed', new GetAccessKeyLastUsedCommand({ AccessKeyId: id })],
    ] as const;
    for (const [action, command] of calls) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one loop over several command types
      const error = await failure(iam.send(command as any));
      expect(error.name, action).toBe('AccessDenied');
      expect(error.message, action).toBe(explicitDeny('alice', action));
      expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(403);
    }
    expect(emulator.getState().accessKeys).toEqual([expect.objectContaining({ accessKeyId: id, status: 'Active' })]);
  });

  it('is told the explicit deny without a policy ARN when the policy has none (inline), unlike an implicit deny', async () => {
    const emulator = await useEmulator();
    emulator.createUser({ userName: 'alice', forceMfa: true, forceMfaPolicyArn: null });
    const alice = emulator.createAccessKey({ userName: 'alice' });
    const inline = await failure(iamClient(emulator, alice).send(new CreateAccessKeyCommand({})));
    expect(inline.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: iam:CreateAccessKey on resource: user alice ` +
        'with an explicit deny in an identity-based policy',
    );
    const bob = seedUser(emulator, 'bob', { deniedActions: ['iam:CreateAccessKey'] });
    const implicit = await failure(iamClient(emulator, bob.credentials).send(new CreateAccessKeyCommand({})));
    expect(implicit.name).toBe('AccessDenied');
    expect(implicit.message).toBe(
      `User: ${bob.arn} is not authorized to perform: iam:CreateAccessKey on resource: user bob ` +
        'because no identity-based policy allows the iam:CreateAccessKey action',
    );
  });

  it('is denied explicitly even where an admin would be allowed: the deny wins over any allow', async () => {
    const emulator = await useEmulator();
    emulator.createUser({ userName: 'root', admin: true, forceMfa: true });
    const root = emulator.createAccessKey({ userName: 'root' });
    seedUser(emulator, 'bob');
    const error = await failure(iamClient(emulator, root).send(new ListAccessKeysCommand({ UserName: 'bob' })));
    expect(error.message).toBe(explicitDeny('root', 'iam:ListAccessKeys', 'bob'));
  });

  it('may still do what the policy leaves open: GetUser, ListMFADevices, and STS', async () => {
    const emulator = await useEmulator();
    const { credentials, device } = await forcedAlice(emulator);
    const iam = iamClient(emulator, credentials);
    expect((await iam.send(new GetUserCommand({}))).User?.UserName).toBe('alice');
    const devices = await iam.send(new ListMFADevicesCommand({}));
    expect(devices.MFADevices?.map((listed) => listed.SerialNumber)).toEqual([device.serialNumber]);
    const sts = stsClient(emulator, credentials);
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/alice`);
    // A session without MFA is no way round the policy: IAM refuses it outright, as AWS does.
    const plain = sessionOf(await sts.send(new GetSessionTokenCommand({})));
    expect((await failure(iamClient(emulator, plain).send(new ListAccessKeysCommand({})))).name).toBe('InvalidClientTokenId');
  });
});

describe('ListMFADevices', () => {
  it('lists virtual, hardware and U2F devices as AWS shapes them, for the caller by default', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const virtual = emulator.createMfaDevice({ userName: 'alice', kind: 'virtual', enableDate: '2026-01-02T03:04:05.600Z' });
    const hardware = emulator.createMfaDevice({ userName: 'alice', kind: 'hardware', serialNumber: 'GAHT12345678' });
    const u2f = emulator.createMfaDevice({ userName: 'alice', kind: 'u2f', name: 'yubikey' });
    expect(virtual.serialNumber).toBe(`arn:aws:iam::${ACCOUNT}:mfa/alice`);
    expect(u2f.serialNumber).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT}:u2f/user/alice/yubikey-[A-Z2-7]{26}$`));
    const out = await iamClient(emulator, alice.credentials).send(new ListMFADevicesCommand({}));
    expect(out.IsTruncated).toBe(false);
    expect(out.Marker).toBeUndefined();
    expect(out.MFADevices).toEqual([
      { UserName: 'alice', SerialNumber: virtual.serialNumber, EnableDate: new Date('2026-01-02T03:04:05Z') },
      { UserName: 'alice', SerialNumber: 'GAHT12345678', EnableDate: new Date(hardware.enableDate) },
      { UserName: 'alice', SerialNumber: u2f.serialNumber, EnableDate: new Date(u2f.enableDate) },
    ]);
  });

  it('answers an empty list for a user with no device, pages, and guards other users as the other IAM actions do', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const root = seedUser(emulator, 'root', { admin: true });
    const iam = iamClient(emulator, alice.credentials);
    expect((await iam.send(new ListMFADevicesCommand({}))).MFADevices).toEqual([]);

    emulator.createMfaDevice({ userName: 'root', kind: 'virtual' });
    emulator.createMfaDevice({ userName: 'root', kind: 'hardware' });
    const denied = await failure(iam.send(new ListMFADevicesCommand({ UserName: 'root' })));
    expect(denied.message).toBe(
      `User: ${alice.arn} is not authorized to perform: iam:ListMFADevices on resource: user root ` +
        'because no identity-based policy allows the iam:ListMFADevices action',
    );
    const admin = iamClient(emulator, root.credentials);
    const first = await admin.send(new ListMFADevicesCommand({ UserName: 'root', MaxItems: 1 }));
    expect(first.IsTruncated).toBe(true);
    expect(first.MFADevices).toHaveLength(1);
    const rest = await admin.send(new ListMFADevicesCommand({ UserName: 'root', Marker: first.Marker }));
    expect(rest.IsTruncated).toBe(false);
    expect(rest.MFADevices?.map((device) => device.SerialNumber)).toEqual([emulator.getState().mfaDevices[1]?.serialNumber]);
    expect((await failure(admin.send(new ListMFADevicesCommand({ UserName: 'nobody' })))).name).toBe('NoSuchEntityException');
  });
});

describe('GetSessionToken with an MFA code', () => {
  it('gives a session that may create and delete keys despite the force-MFA policy', async () => {
    const emulator = await useEmulator();
    const { credentials, device, mfaSession } = await forcedAlice(emulator);
    const session = await mfaSession('123456', 900);
    expect(session.accessKeyId).toMatch(/^ASIA/);
    const iam = iamClient(emulator, session);
    const created = await iam.send(new CreateAccessKeyCommand({}));
    const newId = created.AccessKey?.AccessKeyId ?? '';
    expect((await iam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata?.map((key) => key.AccessKeyId)).toEqual([
      credentials.accessKeyId,
      newId,
    ]);
    await iam.send(new DeleteAccessKeyCommand({ AccessKeyId: newId }));
    expect(emulator.getState().sessions).toEqual([
      expect.objectContaining({ accessKeyId: session.accessKeyId, parentAccessKeyId: credentials.accessKeyId, mfaSerialNumber: device.serialNumber }),
    ]);
  });

  it('refuses a wrong code with AWS’s message and makes no session; the right code still works after', async () => {
    const emulator = await useEmulator();
    const { credentials, device, mfaSession } = await forcedAlice(emulator);
    const error = await failure(mfaSession(WRONG_CODE));
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toBe(INVALID_CODE);
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(403);
    expect(emulator.getState().sessions).toEqual([]);
    expect(emulator.getState().accessKeys.map((key) => key.accessKeyId)).toEqual([credentials.accessKeyId]);
    await expect(mfaSession('123456')).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/) });
    expect(emulator.getState().mfaDevices).toEqual([expect.objectContaining({ serialNumber: device.serialNumber, codes: ['123456'] })]);
  });

  it('refuses a code already used within 30 s by the emulator’s clock, as AWS refuses a reused code', async () => {
    let offsetMs = 0;
    const emulator = await useEmulator({ now: () => new Date(Date.now() + offsetMs) });
    const { mfaSession } = await forcedAlice(emulator);
    await mfaSession();
    expect((await failure(mfaSession())).message).toBe(INVALID_CODE);
    offsetMs = 29_000;
    expect((await failure(mfaSession())).message).toBe(INVALID_CODE);
    offsetMs = 31_000;
    await expect(mfaSession()).resolves.toBeDefined();
  });

  it('takes the codes set for a device; setting them starts a new 30 s window', async () => {
    const emulator = await useEmulator();
    const { device, mfaSession } = await forcedAlice(emulator);
    await mfaSession('123456');
    expect(emulator.setMfaCodes({ serialNumber: device.serialNumber, codes: ['222222', '123456'] })).toMatchObject({
      codes: ['222222', '123456'],
    });
    await mfaSession('222222');
    await mfaSession('123456');
    expect((await failure(mfaSession('222222'))).message).toBe(INVALID_CODE);
  });

  it('validates DurationSeconds before the code, so a refused duration leaves the code unused', async () => {
    const emulator = await useEmulator();
    const { mfaSession } = await forcedAlice(emulator);
    expect((await failure(mfaSession('123456', 899))).name).toBe('ValidationError');
    const session = await mfaSession('123456', 129_600);
    const out = await stsClient(emulator, session).send(new GetCallerIdentityCommand({}));
    expect(out.Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/alice`);
    const [view] = emulator.getState().sessions;
    expect(Math.round((Date.parse(view?.expiration ?? '') - Date.now()) / 3_600_000)).toBe(36);
  });

  it('cannot validate a serial that is no TOTP device of the caller: unknown, another user’s, or a U2F key', async () => {
    const emulator = await useEmulator();
    const { credentials } = await forcedAlice(emulator);
    seedUser(emulator, 'bob');
    const bobs = emulator.createMfaDevice({ userName: 'bob', kind: 'virtual', codes: ['123456'] });
    const key = emulator.createMfaDevice({ userName: 'alice', kind: 'u2f' });
    const sts = stsClient(emulator, credentials);
    for (const serial of [`arn:aws:iam::${ACCOUNT}:mfa/nobody`, 'GAHT00000000', bobs.serialNumber, key.serialNumber]) {
      const error = await failure(sts.send(new GetSessionTokenCommand({ SerialNumber: serial, TokenCode: '123456' })));
      expect(error.name, serial).toBe('AccessDenied');
      expect(error.message, serial).toBe(UNKNOWN_DEVICE);
    }
    expect(emulator.getState().sessions).toEqual([]);
  });

  it('leaves a user whose only device is a U2F key without any session that IAM accepts', async () => {
    const emulator = await useEmulator();
    emulator.createUser({ userName: 'carol', forceMfa: true });
    const carol = emulator.createAccessKey({ userName: 'carol' });
    const key = emulator.createMfaDevice({ userName: 'carol', kind: 'u2f' });
    expect(key.codes).toEqual([]);
    const sts = stsClient(emulator, carol);
    const refused = await failure(sts.send(new GetSessionTokenCommand({ SerialNumber: key.serialNumber, TokenCode: '123456' })));
    expect(refused.message).toBe(UNKNOWN_DEVICE);
    const plain = sessionOf(await sts.send(new GetSessionTokenCommand({})));
    expect((await failure(iamClient(emulator, plain).send(new CreateAccessKeyCommand({})))).name).toBe('InvalidClientTokenId');
    expect((await failure(iamClient(emulator, carol).send(new CreateAccessKeyCommand({})))).message).toBe(
      explicitDeny('carol', 'iam:CreateAccessKey'),
    );
  });
});

describe('a session and the long-term key that made it', () => {
  it('keeps working after that key is deactivated, then deleted, until it expires (AWS cannot revoke it)', async () => {
    const emulator = await useEmulator();
    const { credentials, mfaSession } = await forcedAlice(emulator);
    const session = await mfaSession();
    const iam = iamClient(emulator, session);
    const created = await iam.send(new CreateAccessKeyCommand({}));
    const newId = created.AccessKey?.AccessKeyId ?? '';

    await iam.send(new UpdateAccessKeyCommand({ AccessKeyId: credentials.accessKeyId, Status: 'Inactive' }));
    expect((await failure(stsClient(emulator, credentials).send(new GetCallerIdentityCommand({})))).name).toBe('InvalidClientTokenId');
    await iam.send(new DeleteAccessKeyCommand({ AccessKeyId: credentials.accessKeyId }));
    expect((await iam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata?.map((key) => key.AccessKeyId)).toEqual([newId]);
    expect((await stsClient(emulator, session).send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/alice`);
    expect(emulator.getState().sessions[0]).toMatchObject({ parentAccessKeyId: credentials.accessKeyId, expired: false });

    emulator.expireSessionToken({ accessKeyId: session.accessKeyId });
    expect((await failure(iam.send(new ListAccessKeysCommand({})))).name).toBe('ExpiredToken');
  });
});

describe('the MFA control API', () => {
  it('names devices as AWS does and keeps them in getState; codes default to six random digits', async () => {
    const emulator = await useEmulator({ accountId: '210987654321' });
    emulator.createUser({ userName: 'alice' });
    const virtual = emulator.createMfaDevice({ userName: 'alice', kind: 'virtual', name: 'phone' });
    const hardware = emulator.createMfaDevice({ userName: 'alice', kind: 'hardware' });
    const u2f = emulator.createMfaDevice({ userName: 'alice', kind: 'u2f' });
    expect(virtual).toEqual({
      userName: 'alice',
      serialNumber: 'arn:aws:iam::210987654321:mfa/phone',
      kind: 'virtual',
      enableDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      codes: [expect.stringMatching(/^[1-9]\d{5}$/)],
    });
    expect(hardware.serialNumber).toMatch(/^GAHT\d{8}$/);
    expect(hardware.codes).toEqual([expect.stringMatching(/^[1-9]\d{5}$/)]);
    expect(u2f.serialNumber).toMatch(/^arn:aws:iam::210987654321:u2f\/user\/alice\/securitykey-[A-Z2-7]{26}$/);
    expect(emulator.getState().mfaDevices).toEqual([virtual, hardware, u2f]);
    expect(emulator.getState().users[0]).toMatchObject({ forceMfa: false, forceMfaPolicyArn: null });
    expect(emulator.createUser({ userName: 'bob', forceMfa: true })).toMatchObject({
      forceMfa: true,
      forceMfaPolicyArn: 'arn:aws:iam::210987654321:policy/Force_MFA',
    });
  });

  it('refuses what IAM could not hold', async () => {
    const emulator = await useEmulator();
    emulator.createUser({ userName: 'alice' });
    expect(() => emulator.createMfaDevice({ userName: 'nobody', kind: 'virtual' })).toThrow(/does not exist/);
    expect(() => emulator.createMfaDevice({ userName: 'alice', kind: 'sms' as 'u2f' })).toThrow(/kind must be/);
    emulator.createMfaDevice({ userName: 'alice', kind: 'virtual' });
    expect(() => emulator.createMfaDevice({ userName: 'alice', kind: 'virtual' })).toThrow(/already in use/);
    expect(() => emulator.createMfaDevice({ userName: 'alice', kind: 'hardware', serialNumber: 'bad serial!' })).toThrow(/serialNumber/);
    expect(() => emulator.createMfaDevice({ userName: 'alice', kind: 'hardware', codes: ['12345'] })).toThrow(/six digits/);
    const key = emulator.createMfaDevice({ userName: 'alice', kind: 'u2f' });
    expect(() => emulator.setMfaCodes({ serialNumber: key.serialNumber, codes: ['123456'] })).toThrow(/U2F/);
    expect(() => emulator.setMfaCodes({ serialNumber: 'GAHT99999999', codes: [] })).toThrow(/No MFA device/);
    for (let i = 3; i <= 8; i += 1) emulator.createMfaDevice({ userName: 'alice', kind: 'hardware' });
    expect(() => emulator.createMfaDevice({ userName: 'alice', kind: 'hardware' })).toThrow(/8 MFA devices/);
    expect(() => emulator.createUser({ userName: 'bob', forceMfaPolicyArn: 'not an arn' })).toThrow(/forceMfaPolicyArn/);
    emulator.reset();
    expect(emulator.getState().mfaDevices).toEqual([]);
  });

  it('works the same over HTTP', async () => {
    const emulator = await useEmulator();
    const control = new ControlClient({ endpoint: emulator.endpoint });
    await control.createUser({ userName: 'alice', forceMfa: true });
    const key = await control.createAccessKey({ userName: 'alice' });
    const device = await control.createMfaDevice({ userName: 'alice', kind: 'virtual' });
    expect(await control.setMfaCodes({ serialNumber: device.serialNumber, codes: ['654321'] })).toEqual({ ...device, codes: ['654321'] });
    const out = await stsClient(emulator, key).send(new GetSessionTokenCommand({ SerialNumber: device.serialNumber, TokenCode: '654321' }));
    await expect(iamClient(emulator, sessionOf(out)).send(new ListAccessKeysCommand({}))).resolves.toBeDefined();
    expect(await control.getState()).toEqual(emulator.getState());
  });
});
