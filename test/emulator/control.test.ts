import { CreateAccessKeyCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ControlClient, ControlRequestError } from '../../emulator/control-client.js';
import { ControlError } from '../../emulator/index.js';
import { failure, iamClient, isolateAwsEnvironment, stsClient, useEmulator } from './helpers.js';
import { sendRaw } from './raw-http.js';

isolateAwsEnvironment();

describe('the in-process control API', () => {
  it('seeds users and keys as asked', async () => {
    const emulator = await useEmulator();
    const user = emulator.createUser({ userName: 'alice', path: '/team/', admin: true, createDate: '2025-05-05T05:05:05.500Z' });
    expect(user).toEqual({
      userName: 'alice',
      userId: expect.stringMatching(/^AIDA[A-Z2-7]{17}$/),
      path: '/team/',
      arn: 'arn:aws:iam::123456789012:user/team/alice',
      admin: true,
      deniedActions: [],
      forceMfa: false,
      forceMfaPolicyArn: null,
      createDate: '2025-05-05T05:05:05Z',
    });
    const key = emulator.createAccessKey({ userName: 'alice', createDate: new Date('2026-01-01T00:00:00Z'), status: 'Inactive' });
    expect(key).toEqual({
      accessKeyId: expect.stringMatching(/^AKIA[A-Z2-7]{16}$/),
      secretAccessKey: expect.stringMatching(/^[A-Za-z0-9+/]{40}$/),
      userName: 'alice',
      status: 'Inactive',
      createDate: '2026-01-01T00:00:00Z',
    });
    const chosen = emulator.createAccessKey({ userName: 'alice', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' });
    expect(chosen.accessKeyId).toBe('AKIAIOSFODNN7EXAMPLE');
    expect(emulator.getState().accessKeys.map((k) => k.accessKeyId)).toEqual([key.accessKeyId, 'AKIAIOSFODNN7EXAMPLE']);
  });

  it('refuses what AWS could not hold', async () => {
    const emulator = await useEmulator();
    emulator.createUser({ userName: 'alice' });
    expect(() => emulator.createUser({ userName: 'alice' })).toThrow(ControlError);
    expect(() => emulator.createUser({ userName: 'bad name' })).toThrow(/does not match/);
    expect(() => emulator.createUser({ userName: 'bob', path: 'team' })).toThrow(/must start and end with/);
    expect(() => emulator.createAccessKey({ userName: 'nobody' })).toThrow(/does not exist/);
    emulator.createAccessKey({ userName: 'alice' });
    emulator.createAccessKey({ userName: 'alice' });
    expect(() => emulator.createAccessKey({ userName: 'alice' })).toThrow(/IAM's limit/);
    expect(() => emulator.injectFault({ kind: 'explode' as 'hang' })).toThrow(/kind must be one of/);
    expect(() => emulator.injectFault({ kind: 'throttle', count: 0 })).toThrow(/count/);
    expect(() => emulator.setActivationDelay(-1)).toThrow(/milliseconds/);
    expect(() => emulator.expireSessionToken({ accessKeyId: 'ASIANOSUCHSESSION123' })).toThrow(/No session/);
  });

  it('reset forgets everything and restores the starting delays', async () => {
    const emulator = await useEmulator({ activationDelayMs: 100 });
    emulator.createUser({ userName: 'alice' });
    const key = emulator.createAccessKey({ userName: 'alice' });
    emulator.createMfaDevice({ userName: 'alice', kind: 'virtual' });
    await stsClient(emulator, key).send(new GetCallerIdentityCommand({}));
    emulator.injectFault({ kind: 'throttle' });
    emulator.setActivationDelay(5000);
    emulator.setRateLimit({ iam: { rate: 1 } });
    emulator.reset();
    expect(emulator.getState()).toEqual({
      accountId: '123456789012',
      activationDelayMs: { iam: 100, sts: 100 },
      rateLimit: { iam: null, sts: null },
      users: [],
      accessKeys: [],
      mfaDevices: [],
      sessions: [],
    });
    expect(emulator.getCallLog()).toEqual([]);
    expect(emulator.listFaults()).toEqual([]);
  });
});

describe('the HTTP control API through ControlClient', () => {
  it('seeds, inspects and shapes the emulator like the in-process API', async () => {
    const emulator = await useEmulator();
    const control = new ControlClient({ endpoint: `${emulator.endpoint}/` });
    const user = await control.createUser({ userName: 'alice', deniedActions: ['DeleteAccessKey'] });
    expect(user.deniedActions).toEqual(['iam:DeleteAccessKey']);
    const key = await control.createAccessKey({ userName: 'alice', createDate: new Date('2026-02-03T04:05:06Z') });
    expect(key.createDate).toBe('2026-02-03T04:05:06Z');

    const iam = iamClient(emulator, key);
    const listed = await iam.send(new ListAccessKeysCommand({}));
    expect(listed.AccessKeyMetadata?.[0]?.AccessKeyId).toBe(key.accessKeyId);
    expect(await control.getState()).toEqual(emulator.getState());
    expect(await control.getCallLog()).toEqual([
      expect.objectContaining({ service: 'iam', action: 'ListAccessKeys', accessKeyId: key.accessKeyId, userName: 'alice', httpStatus: 200 }),
    ]);
    await control.clearCallLog();
    expect(emulator.getCallLog()).toEqual([]);
  });

  it('injects faults and sets the activation delay', async () => {
    const emulator = await useEmulator();
    const control = new ControlClient({ endpoint: emulator.endpoint });
    await control.createUser({ userName: 'alice' });
    const key = await control.createAccessKey({ userName: 'alice' });
    const fault = await control.injectFault({ kind: 'throttle', action: 'CreateAccessKey', count: 1 });
    expect(fault).toMatchObject({ kind: 'throttle', action: 'CreateAccessKey', service: null, remaining: 1 });
    expect(await control.listFaults()).toEqual([fault]);
    const iam = iamClient(emulator, key);
    expect((await failure(iam.send(new CreateAccessKeyCommand({})))).name).toBe('Throttling');

    expect(await control.setActivationDelay({ iam: 60_000 })).toEqual({ iam: 60_000, sts: 0 });
    const created = await iam.send(new CreateAccessKeyCommand({}));
    const fresh = { accessKeyId: created.AccessKey?.AccessKeyId ?? '', secretAccessKey: created.AccessKey?.SecretAccessKey ?? '' };
    expect((await failure(iamClient(emulator, fresh).send(new ListAccessKeysCommand({})))).name).toBe('InvalidClientTokenId');
    await expect(stsClient(emulator, fresh).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    await control.clearFaults();
    expect(await control.listFaults()).toEqual([]);
  });

  it('expires a session token and resets', async () => {
    const emulator = await useEmulator();
    const control = new ControlClient({ endpoint: emulator.endpoint });
    await control.createUser({ userName: 'alice' });
    const key = await control.createAccessKey({ userName: 'alice' });
    const out = await stsClient(emulator, key).send(new GetSessionTokenCommand({}));
    const session = {
      accessKeyId: out.Credentials?.AccessKeyId ?? '',
      secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
      sessionToken: out.Credentials?.SessionToken ?? '',
    };
    await control.expireSessionToken({ accessKeyId: session.accessKeyId });
    expect((await failure(stsClient(emulator, session).send(new GetCallerIdentityCommand({})))).name).toBe('ExpiredToken');
    await control.reset();
    expect((await control.getState()).users).toEqual([]);
  });

  it('reports refusals as ControlRequestError with the emulator’s message', async () => {
    const emulator = await useEmulator();
    const control = new ControlClient({ endpoint: emulator.endpoint });
    const error = await failure(control.createAccessKey({ userName: 'nobody' }));
    expect(error).toBeInstanceOf(ControlRequestError);
    expect(error).toMatchObject({ method: 'createAccessKey', status: 400 });
    expect(error.message).toBe('keyup-emulator control createAccessKey: The user nobody does not exist.');
  });

  it('answers unknown methods, wrong verbs and bad JSON in JSON, and keeps serving', async () => {
    const emulator = await useEmulator();
    const unknown = await sendRaw(emulator.endpoint, { path: '/_emulator/explode', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ error: { message: expect.stringContaining("Unknown control method 'explode'") } });
    const inherited = await sendRaw(emulator.endpoint, { path: '/_emulator/toString', body: '' });
    expect(inherited.status).toBe(404);
    expect((await sendRaw(emulator.endpoint, { method: 'GET', path: '/_emulator/getState' })).status).toBe(405);
    const badJson = await sendRaw(emulator.endpoint, { path: '/_emulator/createUser', body: '{"userName":' });
    expect(badJson.status).toBe(400);
    const noBody = await sendRaw(emulator.endpoint, { path: '/_emulator/createUser', body: '' });
    expect(noBody.status).toBe(400);
    const wrongShape = await sendRaw(emulator.endpoint, { path: '/_emulator/createUser', body: '[1,2]' });
    expect(JSON.parse(wrongShape.body)).toEqual({ error: { message: 'The user must be an object.' } });
    const ok = await sendRaw(emulator.endpoint, { path: '/_emulator/getState', body: '' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ result: emulator.getState() });
  });
});
