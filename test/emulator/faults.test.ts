import { CreateAccessKeyCommand, GetUserCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { failure, iamClient, isolateAwsEnvironment, seedUser, stsClient, useEmulator } from './helpers.js';

isolateAwsEnvironment();

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

describe('fault injection', () => {
  it('throttles the next N calls of an action, then lets calls through', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'throttle', action: 'ListAccessKeys', count: 2 });
    const iam = iamClient(emulator, alice.credentials);
    for (let i = 0; i < 2; i += 1) {
      const error = await failure(iam.send(new ListAccessKeysCommand({})));
      expect(error.name).toBe('Throttling');
      expect(error.message).toBe('Rate exceeded');
      expect(statusOf(error)).toBe(400);
    }
    // Other actions were never affected; the fault is used up.
    await expect(iam.send(new GetUserCommand({}))).resolves.toBeDefined();
    await expect(iam.send(new ListAccessKeysCommand({}))).resolves.toBeDefined();
    expect(emulator.listFaults()).toEqual([]);
    expect(emulator.getCallLog().map((call) => [call.action, call.httpStatus, call.errorCode, call.fault])).toEqual([
      ['ListAccessKeys', 400, 'Throttling', 'throttle'],
      ['ListAccessKeys', 400, 'Throttling', 'throttle'],
      ['GetUser', 200, null, null],
      ['ListAccessKeys', 200, null, null],
    ]);
  });

  it('fails with 500 InternalFailure and 503 ServiceUnavailable, and commits nothing', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'internal-failure', action: 'CreateAccessKey' });
    emulator.injectFault({ kind: 'service-unavailable', service: 'iam' });
    const iam = iamClient(emulator, alice.credentials);
    const internal = await failure(iam.send(new CreateAccessKeyCommand({})));
    expect(internal.name).toBe('InternalFailure');
    expect(statusOf(internal)).toBe(500);
    expect((internal as { $fault?: string }).$fault).toBe('server');
    const unavailable = await failure(iam.send(new CreateAccessKeyCommand({})));
    expect(unavailable.name).toBe('ServiceUnavailable');
    expect(statusOf(unavailable)).toBe(503);
    expect(emulator.getState().accessKeys).toHaveLength(1);
  });

  it('scopes a fault to one service', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'throttle', service: 'sts', count: 'always' });
    await expect(iamClient(emulator, alice.credentials).send(new GetUserCommand({}))).resolves.toBeDefined();
    const sts = stsClient(emulator, alice.credentials);
    for (let i = 0; i < 3; i += 1) expect((await failure(sts.send(new GetCallerIdentityCommand({})))).name).toBe('Throttling');
    expect(emulator.listFaults()).toEqual([expect.objectContaining({ kind: 'throttle', service: 'sts', remaining: 'always' })]);
    emulator.clearFaults();
    await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
  });

  it('applies faults only after authentication', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'throttle' });
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) };
    expect((await failure(stsClient(emulator, stranger).send(new GetCallerIdentityCommand({})))).name).toBe('InvalidClientTokenId');
    expect(emulator.listFaults()).toHaveLength(1);
    expect((await failure(stsClient(emulator, alice.credentials).send(new GetCallerIdentityCommand({})))).name).toBe('Throttling');
  });

  it('adds latency', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const sts = stsClient(emulator, alice.credentials);
    await sts.send(new GetCallerIdentityCommand({}));
    emulator.injectFault({ kind: 'latency', latencyMs: 250 });
    const start = performance.now();
    await sts.send(new GetCallerIdentityCommand({}));
    expect(performance.now() - start).toBeGreaterThanOrEqual(245);
    expect(emulator.getCallLog().at(-1)).toMatchObject({ httpStatus: 200, fault: 'latency' });
  });

  it('hangs a call until the client gives up, without committing it', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'hang', action: 'CreateAccessKey' });
    const iam = iamClient(emulator, alice.credentials, { requestTimeoutMs: 300 });
    const start = performance.now();
    const error = await failure(iam.send(new CreateAccessKeyCommand({})));
    expect(error.name).toBe('TimeoutError');
    expect(performance.now() - start).toBeGreaterThanOrEqual(280);
    expect(emulator.getState().accessKeys).toHaveLength(1);
    expect(emulator.getCallLog().at(-1)).toMatchObject({ action: 'CreateAccessKey', httpStatus: null, fault: 'hang' });
  });

  it('hangs a call until an abort signal fires', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'hang' });
    const error = await failure(
      stsClient(emulator, alice.credentials).send(new GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(200) }),
    );
    expect(error.name).toMatch(/Abort|Timeout/);
  });

  it('a hung call ends when the emulator stops', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'hang' });
    const pending = failure(stsClient(emulator, alice.credentials).send(new GetCallerIdentityCommand({})));
    await expect.poll(() => emulator.getCallLog().length).toBe(1);
    await emulator.stop();
    const error = await pending;
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
  });

  it('commits the effect, then drops the connection without an answer', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'drop-response', action: 'CreateAccessKey' });
    const iam = iamClient(emulator, alice.credentials);
    const error = await failure(iam.send(new CreateAccessKeyCommand({})));
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
    const keys = emulator.getState().accessKeys;
    expect(keys).toHaveLength(2);
    expect(keys[1]).toMatchObject({ userName: 'alice', status: 'Active' });
    expect(emulator.getCallLog().at(-1)).toMatchObject({ action: 'CreateAccessKey', httpStatus: null, fault: 'drop-response' });
    // The key the client never saw counts toward the limit.
    expect((await failure(iam.send(new CreateAccessKeyCommand({})))).name).toBe('LimitExceededException');
  });

  it('commits the effect, then hangs until the client gives up', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    emulator.injectFault({ kind: 'hang-after-commit', action: 'CreateAccessKey' });
    const error = await failure(
      iamClient(emulator, alice.credentials, { requestTimeoutMs: 200 }).send(new CreateAccessKeyCommand({})),
    );
    expect(error.name).toBe('TimeoutError');
    expect(emulator.getState().accessKeys).toHaveLength(2);
  });
});
