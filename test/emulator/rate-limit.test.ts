import { CreateAccessKeyCommand, DeleteAccessKeyCommand, GetUserCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ControlClient } from '../../emulator/control-client.js';
import { CONTROL_METHODS } from '../../emulator/control-http.js';
import { ControlError, type Emulator } from '../../emulator/index.js';
import { TokenBucket } from '../../emulator/rate-limit.js';
import { createFakeClock } from '../support/fake-clock.js';
import { failure, iamClient, isolateAwsEnvironment, seedUser, stsClient, useEmulator, type Credentials } from './helpers.js';

isolateAwsEnvironment();

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/**
 * A clock that moves only when the test says so. It starts at the real time because the SDK
 * signs with the real time and the emulator refuses signatures 15 minutes off its own clock.
 */
function useClock() {
  return createFakeClock(new Date());
}

/** Sends `count` ListAccessKeys at once; returns how many succeeded and the failures' names. */
async function burstOfIam(emulator: Emulator, credentials: Credentials, count: number): Promise<{ ok: number; errors: string[] }> {
  const iam = iamClient(emulator, credentials);
  const settled = await Promise.allSettled(Array.from({ length: count }, () => iam.send(new ListAccessKeysCommand({}))));
  return {
    ok: settled.filter((result) => result.status === 'fulfilled').length,
    errors: settled.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).name] : [])),
  };
}

describe('TokenBucket', () => {
  it('lets a burst through, then one request per refilled token', () => {
    const bucket = new TokenBucket({ rate: 2, burst: 3 });
    expect([0, 0, 0, 0].map((ms) => bucket.tryTake(ms))).toEqual([true, true, true, false]);
    // At 2 a second a token takes 500 ms.
    expect(bucket.tryTake(499)).toBe(false);
    expect(bucket.tryTake(500)).toBe(true);
    expect(bucket.tryTake(500)).toBe(false);
    // Refill stops at the burst.
    expect([60_000, 60_000, 60_000, 60_000].map((ms) => bucket.tryTake(ms))).toEqual([true, true, true, false]);
  });

  it('adds up partial tokens exactly, even at rates that do not divide a second', () => {
    const bucket = new TokenBucket({ rate: 3, burst: 1 });
    expect(bucket.tryTake(0)).toBe(true);
    // 333 ms + 1 ms is one token at 3 a second, though neither part is one alone.
    expect(bucket.tryTake(333)).toBe(false);
    expect(bucket.tryTake(334)).toBe(true);
    // Ten tenths of a token, asked for every 10 ms at 10 a second: summed as floats they come to
    // 0.9999999999999999, and the request at 100 ms would be refused.
    const tenths = new TokenBucket({ rate: 10, burst: 1 });
    expect(tenths.tryTake(0)).toBe(true);
    expect([10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((ms) => tenths.tryTake(ms))).toEqual([...Array<boolean>(9).fill(false), true]);
    const slow = new TokenBucket({ rate: 0.5, burst: 1 });
    expect(slow.tryTake(0)).toBe(true);
    expect(slow.tryTake(1_999)).toBe(false);
    expect(slow.tryTake(2_000)).toBe(true);
  });

  it('gives nothing back when the clock steps backwards', () => {
    const bucket = new TokenBucket({ rate: 1, burst: 1 });
    expect(bucket.tryTake(10_000)).toBe(true);
    expect(bucket.tryTake(5_000)).toBe(false);
    // The refill resumes from the latest time seen, not from the earlier one.
    expect(bucket.tryTake(10_999)).toBe(false);
    expect(bucket.tryTake(11_000)).toBe(true);
  });
});

describe('the rate limit, through the real SDK', () => {
  it('is off by default', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    expect(emulator.getState().rateLimit).toEqual({ iam: null, sts: null });
    expect(await burstOfIam(emulator, alice.credentials, 30)).toEqual({ ok: 30, errors: [] });
  });

  it('throttles a burst above the bucket like AWS, logs it, and lets the rest through', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now, rateLimit: { iam: { rate: 1, burst: 3 } } });
    const alice = seedUser(emulator, 'alice');
    const { ok, errors } = await burstOfIam(emulator, alice.credentials, 5);
    expect(ok).toBe(3);
    expect(errors).toEqual(['Throttling', 'Throttling']);

    const error = await failure(iamClient(emulator, alice.credentials).send(new GetUserCommand({})));
    expect(error.name).toBe('Throttling');
    expect(error.message).toBe('Rate exceeded');
    expect(statusOf(error)).toBe(400);

    const log = emulator.getCallLog();
    expect(log.filter((call) => call.fault === 'rate-limit')).toHaveLength(3);
    expect(log.at(-1)).toMatchObject({
      service: 'iam',
      action: 'GetUser',
      userName: 'alice',
      httpStatus: 400,
      errorCode: 'Throttling',
      fault: 'rate-limit',
    });
    expect(log.filter((call) => call.httpStatus === 200).every((call) => call.fault === null)).toBe(true);
  });

  it('refills at the rate, by the emulator’s clock, up to the burst', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now, rateLimit: { iam: { rate: 2, burst: 4 } } });
    const alice = seedUser(emulator, 'alice');
    expect(await burstOfIam(emulator, alice.credentials, 5)).toMatchObject({ ok: 4 });
    clock.advance(499);
    expect(await burstOfIam(emulator, alice.credentials, 1)).toMatchObject({ ok: 0 });
    clock.advance(1);
    expect(await burstOfIam(emulator, alice.credentials, 2)).toMatchObject({ ok: 1 });
    // A long pause (though within the 15 minutes a signature stays valid) fills the bucket to
    // its burst, no further.
    clock.advance(60_000);
    expect(await burstOfIam(emulator, alice.credentials, 6)).toMatchObject({ ok: 4, errors: ['Throttling', 'Throttling'] });
  });

  it('keeps one bucket per service: an empty IAM bucket leaves STS alone, and back', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now, rateLimit: { iam: { rate: 1, burst: 1 }, sts: { rate: 1, burst: 2 } } });
    const alice = seedUser(emulator, 'alice');
    const iam = iamClient(emulator, alice.credentials);
    const sts = stsClient(emulator, alice.credentials);
    await iam.send(new GetUserCommand({}));
    expect((await failure(iam.send(new GetUserCommand({})))).name).toBe('Throttling');
    await sts.send(new GetCallerIdentityCommand({}));
    await sts.send(new GetCallerIdentityCommand({}));
    expect((await failure(sts.send(new GetCallerIdentityCommand({})))).name).toBe('Throttling');
    clock.advance(1_000);
    // One second refilled one token in each bucket; STS's use did not drain IAM's.
    await iam.send(new GetUserCommand({}));
    await sts.send(new GetCallerIdentityCommand({}));
    expect(emulator.getCallLog().map((call) => [call.service, call.httpStatus])).toEqual([
      ['iam', 200],
      ['iam', 400],
      ['sts', 200],
      ['sts', 200],
      ['sts', 400],
      ['iam', 200],
      ['sts', 200],
    ]);
  });

  it('is one bucket per account: every user of the account draws on it', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now, rateLimit: { iam: { rate: 1, burst: 2 } } });
    const alice = seedUser(emulator, 'alice');
    const bob = seedUser(emulator, 'bob');
    await iamClient(emulator, alice.credentials).send(new GetUserCommand({}));
    await iamClient(emulator, bob.credentials).send(new GetUserCommand({}));
    expect((await failure(iamClient(emulator, bob.credentials).send(new GetUserCommand({})))).name).toBe('Throttling');
  });

  it('a throttled call has no effect: CreateAccessKey creates nothing, DeleteAccessKey deletes nothing', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now, rateLimit: { iam: { rate: 1, burst: 1 } } });
    const alice = seedUser(emulator, 'alice');
    const before = emulator.getState().accessKeys;
    const iam = iamClient(emulator, alice.credentials);
    await iam.send(new ListAccessKeysCommand({}));
    const lastUsed = emulator.getState().accessKeys[0]?.lastUsed;

    clock.advance(10);
    expect((await failure(iam.send(new CreateAccessKeyCommand({})))).name).toBe('Throttling');
    expect((await failure(iam.send(new DeleteAccessKeyCommand({ AccessKeyId: alice.credentials.accessKeyId })))).name).toBe(
      'Throttling',
    );
    const after = emulator.getState().accessKeys;
    expect(after.map((key) => key.accessKeyId)).toEqual(before.map((key) => key.accessKeyId));
    // Not even the key's last use moves: the call never reached IAM.
    expect(after[0]?.lastUsed).toEqual(lastUsed);

    clock.advance(1_000);
    await expect(iam.send(new CreateAccessKeyCommand({}))).resolves.toBeDefined();
    expect(emulator.getState().accessKeys).toHaveLength(2);
  });

  it('refuses before injected faults, which stay for the calls that get through', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now, rateLimit: { iam: { rate: 1, burst: 1 } } });
    const alice = seedUser(emulator, 'alice');
    const iam = iamClient(emulator, alice.credentials);
    await iam.send(new GetUserCommand({}));
    emulator.injectFault({ kind: 'internal-failure' });
    expect((await failure(iam.send(new GetUserCommand({})))).name).toBe('Throttling');
    expect(emulator.listFaults()).toHaveLength(1);
    clock.advance(1_000);
    expect((await failure(iam.send(new GetUserCommand({})))).name).toBe('InternalFailure');
  });

  it('authenticates first: a refused signature or unknown key spends no token; a denied call does', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now, rateLimit: { iam: { rate: 1, burst: 1 } } });
    const alice = seedUser(emulator, 'alice', { deniedActions: ['iam:CreateAccessKey'] });
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) };
    const forger = { accessKeyId: alice.credentials.accessKeyId, secretAccessKey: 'y'.repeat(40) };
    for (let i = 0; i < 3; i += 1) {
      expect((await failure(iamClient(emulator, stranger).send(new GetUserCommand({})))).name).toBe('InvalidClientTokenId');
      expect((await failure(iamClient(emulator, forger).send(new GetUserCommand({})))).name).toBe('SignatureDoesNotMatch');
    }
    const iam = iamClient(emulator, alice.credentials);
    // The token is still there. AccessDenied is decided by IAM after the limiter, so it spends it.
    expect((await failure(iam.send(new CreateAccessKeyCommand({})))).name).toBe('AccessDenied');
    expect((await failure(iam.send(new GetUserCommand({})))).name).toBe('Throttling');
  });
});

describe('setting the rate limit through the control API', () => {
  it('sets, changes and switches off one service at a time; a set bucket starts full', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now });
    const alice = seedUser(emulator, 'alice');
    expect(emulator.setRateLimit({ iam: { rate: 20, burst: 40 } })).toEqual({ iam: { rate: 20, burst: 40 }, sts: null });
    // Burst defaults to one second's worth.
    expect(emulator.setRateLimit({ sts: { rate: 600 } })).toEqual({ iam: { rate: 20, burst: 40 }, sts: { rate: 600, burst: 600 } });
    expect(emulator.setRateLimit({ sts: { rate: 0.5 } }).sts).toEqual({ rate: 0.5, burst: 1 });
    expect(emulator.getState().rateLimit).toEqual({ iam: { rate: 20, burst: 40 }, sts: { rate: 0.5, burst: 1 } });

    emulator.setRateLimit({ iam: { rate: 1, burst: 2 } });
    expect(await burstOfIam(emulator, alice.credentials, 3)).toMatchObject({ ok: 2 });
    emulator.setRateLimit({ iam: { rate: 1, burst: 2 } });
    expect(await burstOfIam(emulator, alice.credentials, 3)).toMatchObject({ ok: 2 });
    expect(emulator.setRateLimit({ iam: null })).toEqual({ iam: null, sts: { rate: 0.5, burst: 1 } });
    expect(await burstOfIam(emulator, alice.credentials, 10)).toMatchObject({ ok: 10 });
  });

  it('refuses what is no rate limit', async () => {
    const emulator = await useEmulator();
    const bad: unknown[] = [
      null,
      [],
      { ec2: { rate: 1 } },
      { iam: 5 },
      { iam: {} },
      { iam: { rate: 0 } },
      { iam: { rate: -1 } },
      { iam: { rate: Number.POSITIVE_INFINITY } },
      { iam: { rate: '5' } },
      { iam: { rate: 1, burst: 0 } },
      { iam: { rate: 1, burst: 1.5 } },
      { iam: { rate: 1, brust: 2 } },
    ];
    for (const value of bad) {
      expect(() => emulator.setRateLimit(value as never), JSON.stringify(value)).toThrow(ControlError);
    }
    expect(emulator.getState().rateLimit).toEqual({ iam: null, sts: null });
    await expect(useEmulator({ rateLimit: { iam: { rate: 0 } } })).rejects.toThrow(/rate/);
  });

  it('reset restores the starting limits with full buckets', async () => {
    const clock = useClock();
    const emulator = await useEmulator({ now: clock.now, rateLimit: { iam: { rate: 1, burst: 2 } } });
    let alice = seedUser(emulator, 'alice');
    expect(await burstOfIam(emulator, alice.credentials, 3)).toMatchObject({ ok: 2 });
    emulator.setRateLimit({ sts: { rate: 1 } });
    emulator.reset();
    expect(emulator.getState().rateLimit).toEqual({ iam: { rate: 1, burst: 2 }, sts: null });
    alice = seedUser(emulator, 'alice');
    expect(await burstOfIam(emulator, alice.credentials, 3)).toMatchObject({ ok: 2 });
  });

  it('works over HTTP through ControlClient', async () => {
    const emulator = await useEmulator();
    expect(CONTROL_METHODS.setRateLimit).toBe(true);
    const control = new ControlClient({ endpoint: emulator.endpoint });
    await control.createUser({ userName: 'alice' });
    const key = await control.createAccessKey({ userName: 'alice' });
    expect(await control.setRateLimit({ iam: { rate: 1, burst: 1 } })).toEqual({ iam: { rate: 1, burst: 1 }, sts: null });
    expect(await burstOfIam(emulator, key, 2)).toEqual({ ok: 1, errors: ['Throttling'] });
    expect((await control.getCallLog()).at(-1)).toMatchObject({ errorCode: 'Throttling', fault: 'rate-limit' });
    expect((await control.getState()).rateLimit).toEqual({ iam: { rate: 1, burst: 1 }, sts: null });
    await expect(control.setRateLimit({ iam: { rate: 0 } })).rejects.toThrow(/rate must be a number above 0/);
    expect(await control.setRateLimit({ iam: null })).toEqual({ iam: null, sts: null });
  });
});
