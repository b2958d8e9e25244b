import { describe, expect, it } from 'vitest';
import type { CallerIdentity, KeyApi } from '../../src/aws/key-api.js';
import { KeyNotVerifiedError, verifyNewKey } from '../../src/rotation/verify.js';
import { createFakeClock } from '../support/fake-clock.js';

const arn = 'arn:aws:iam::123456789012:user/alice';
const me: CallerIdentity = { account: '123456789012', arn, userId: 'AIDAALICE', userName: 'alice' };
const refused = () => Object.assign(new Error('The security token included in the request is invalid.'), { name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
const credentials = { accessKeyId: 'AKIANEWKEY', secretAccessKey: 'fresh' };

/** STS answering from a script: 'ok', 'refused', or another identity. */
function scriptedSts(script: ('ok' | 'refused' | CallerIdentity)[]): { keyApi: KeyApi; calls: () => number } {
  let calls = 0;
  const keyApi = {
    getCallerIdentity: async () => {
      const next = script[Math.min(calls++, script.length - 1)];
      if (next === 'refused') throw refused();
      return next === 'ok' ? me : next!;
    },
  } as unknown as KeyApi;
  return { keyApi, calls: () => calls };
}

describe('verifyNewKey', () => {
  it('waits out the refusals of a key IAM has not propagated yet, then wants three successes in a row', async () => {
    const clock = createFakeClock();
    const sts = scriptedSts(['refused', 'refused', 'ok', 'refused', 'ok', 'ok', 'ok']);
    await verifyNewKey(credentials, arn, { keyApi: sts.keyApi, now: clock.now, sleep: clock.sleep, random: () => 0.5 });
    expect(sts.calls()).toBe(7);
  });

  it('gives up at the bound with a sentence that says the old key stays in use', async () => {
    const clock = createFakeClock();
    const sts = scriptedSts(['refused']);
    const failure = verifyNewKey(credentials, arn, { keyApi: sts.keyApi, now: clock.now, sleep: clock.sleep, timeoutMs: 60_000 });
    await expect(failure).rejects.toBeInstanceOf(KeyNotVerifiedError);
    await expect(failure).rejects.toThrow('The new key was not accepted by AWS within 60 seconds.');
    const waited = clock.sleeps.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(60_000);
    expect(waited).toBeGreaterThan(50_000);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(5_000);
  });

  it('refuses a key that answers as another user', async () => {
    const clock = createFakeClock();
    const sts = scriptedSts([{ ...me, arn: 'arn:aws:iam::123456789012:user/mallory' }]);
    await expect(verifyNewKey(credentials, arn, { keyApi: sts.keyApi, now: clock.now, sleep: clock.sleep })).rejects.toThrow('answers as arn:aws:iam::123456789012:user/mallory');
    expect(sts.calls()).toBe(1);
  });

  it('does not wait out an error that waiting cannot fix', async () => {
    const clock = createFakeClock();
    const denied = Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const keyApi = { getCallerIdentity: async () => Promise.reject(denied) } as unknown as KeyApi;
    await expect(verifyNewKey(credentials, arn, { keyApi, now: clock.now, sleep: clock.sleep })).rejects.toBe(denied);
  });
});
