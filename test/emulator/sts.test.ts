import { GetUserCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { failure, iamClient, isolateAwsEnvironment, seedUser, stsClient, useEmulator, type Credentials } from './helpers.js';

isolateAwsEnvironment();

function sessionCredentials(out: { Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } }): Credentials {
  return {
    accessKeyId: out.Credentials?.AccessKeyId ?? '',
    secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
    sessionToken: out.Credentials?.SessionToken ?? '',
  };
}

describe('STS actions through the real SDK', () => {
  it('GetCallerIdentity names the IAM user, account and ARN', async () => {
    const emulator = await useEmulator({ accountId: '210987654321' });
    const alice = seedUser(emulator, 'alice', { path: '/team/' });
    const out = await stsClient(emulator, alice.credentials).send(new GetCallerIdentityCommand({}));
    expect(out).toMatchObject({
      UserId: alice.userId,
      Account: '210987654321',
      Arn: 'arn:aws:iam::210987654321:user/team/alice',
    });
  });

  it('GetSessionToken returns working ASIA credentials that expire after DurationSeconds', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const before = Date.now();
    const out = await stsClient(emulator, alice.credentials).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.Credentials?.SecretAccessKey).toHaveLength(40);
    expect(out.Credentials?.SessionToken?.length).toBeGreaterThan(100);
    const expiresIn = (out.Credentials?.Expiration?.getTime() ?? 0) - before;
    expect(expiresIn).toBeGreaterThan(899_000 - 1000);
    expect(expiresIn).toBeLessThanOrEqual(901_000);

    const viaSession = await stsClient(emulator, sessionCredentials(out)).send(new GetCallerIdentityCommand({}));
    expect(viaSession.Arn).toBe(alice.arn);
    expect(viaSession.UserId).toBe(alice.userId);
    expect(emulator.getState().sessions).toEqual([
      expect.objectContaining({ userName: 'alice', parentAccessKeyId: alice.credentials.accessKeyId, expired: false }),
    ]);
  });

  it('GetSessionToken defaults to 12 hours and honours 36 hours', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const sts = stsClient(emulator, alice.credentials);
    const hours = async (duration?: number): Promise<number> => {
      const out = await sts.send(new GetSessionTokenCommand({ DurationSeconds: duration }));
      return Math.round(((out.Credentials?.Expiration?.getTime() ?? 0) - Date.now()) / 3_600_000);
    };
    expect(await hours()).toBe(12);
    expect(await hours(129_600)).toBe(36);
  });

  it('a DurationSeconds outside 900–129600 is a ValidationError', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const sts = stsClient(emulator, alice.credentials);
    const short = await failure(sts.send(new GetSessionTokenCommand({ DurationSeconds: 899 })));
    expect(short.name).toBe('ValidationError');
    expect(short.message).toBe(
      "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: " +
        'Member must have value greater than or equal to 900',
    );
    const long = await failure(sts.send(new GetSessionTokenCommand({ DurationSeconds: 129_601 })));
    expect(long.name).toBe('ValidationError');
    expect(emulator.getState().sessions).toEqual([]);
  });

  it('session credentials cannot call GetSessionToken (AccessDenied)', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const out = await stsClient(emulator, alice.credentials).send(new GetSessionTokenCommand({}));
    const error = await failure(stsClient(emulator, sessionCredentials(out)).send(new GetSessionTokenCommand({})));
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toBe('Cannot call GetSessionToken with session credentials');
  });

  it('session credentials without MFA are refused by IAM as AWS refuses them (InvalidClientTokenId)', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const out = await stsClient(emulator, alice.credentials).send(new GetSessionTokenCommand({}));
    const error = await failure(iamClient(emulator, sessionCredentials(out)).send(new ListAccessKeysCommand({})));
    expect(error.name).toBe('InvalidClientTokenId');
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(403);
  });

  it('session credentials made with a code of the user’s MFA device may call IAM', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const device = emulator.createMfaDevice({ userName: 'alice', kind: 'virtual' });
    const out = await stsClient(emulator, alice.credentials).send(
      new GetSessionTokenCommand({ SerialNumber: 'arn:aws:iam::123456789012:mfa/alice', TokenCode: device.codes[0] }),
    );
    const me = await iamClient(emulator, sessionCredentials(out)).send(new GetUserCommand({}));
    expect(me.User?.UserName).toBe('alice');
    expect(emulator.getState().sessions).toEqual([expect.objectContaining({ mfaSerialNumber: device.serialNumber })]);
  });

  it('an MFA serial and code are checked: any six digits for any serial no longer make an MFA session', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const error = await failure(
      stsClient(emulator, alice.credentials).send(
        new GetSessionTokenCommand({ SerialNumber: 'arn:aws:iam::123456789012:mfa/alice', TokenCode: '123456' }),
      ),
    );
    expect(error.name).toBe('AccessDenied');
    expect(emulator.getState().sessions).toEqual([]);
  });

  it('a TokenCode or SerialNumber of the wrong shape is a ValidationError with STS’s patterns', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const error = await failure(
      stsClient(emulator, alice.credentials).send(new GetSessionTokenCommand({ SerialNumber: 'GAHT 1234 5678', TokenCode: '12a456' })),
    );
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe(
      "2 validation errors detected: Value 'GAHT 1234 5678' at 'serialNumber' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: [\\w+=/:,.@-]*; ' +
        "Value '12a456' at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*",
    );
  });

  it('an expired session token is ExpiredToken; a wrong or missing one is InvalidClientTokenId', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const out = await stsClient(emulator, alice.credentials).send(new GetSessionTokenCommand({}));
    const session = sessionCredentials(out);

    const wrong = await failure(stsClient(emulator, { ...session, sessionToken: 'bogus' }).send(new GetCallerIdentityCommand({})));
    expect(wrong.name).toBe('InvalidClientTokenId');
    const missing = await failure(
      stsClient(emulator, { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(missing.name).toBe('InvalidClientTokenId');

    emulator.expireSessionToken({ accessKeyId: session.accessKeyId });
    const expired = await failure(stsClient(emulator, session).send(new GetCallerIdentityCommand({})));
    expect(expired.name).toBe('ExpiredToken');
    expect(expired.message).toBe('The security token included in the request is expired');
    expect(emulator.getState().sessions[0]?.expired).toBe(true);
  });

  it('a session expires by the emulator’s clock, which the SDK adopts from the Date header', async () => {
    let offsetMs = 0;
    const emulator = await useEmulator({ now: () => new Date(Date.now() + offsetMs) });
    const alice = seedUser(emulator, 'alice');
    const out = await stsClient(emulator, alice.credentials).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    offsetMs = 2 * 3_600_000;
    const sts = stsClient(emulator, sessionCredentials(out));
    const skewed = await failure(sts.send(new GetCallerIdentityCommand({})));
    expect(skewed.name).toBe('SignatureDoesNotMatch');
    expect(skewed.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
    expect((skewed as { $metadata?: { clockSkewCorrected?: boolean } }).$metadata?.clockSkewCorrected).toBe(true);
    // Now signing in the emulator's time, the request is current but the token is not.
    const expired = await failure(sts.send(new GetCallerIdentityCommand({})));
    expect(expired.name).toBe('ExpiredToken');
  });
});
