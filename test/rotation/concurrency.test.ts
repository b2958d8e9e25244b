import { afterEach, describe, expect, it } from 'vitest';
import type { KeyApi } from '../../src/aws/key-api.js';
import { createSdkKeyApi } from '../../src/aws/sdk-key-api.js';
import { createRotationHarness, daysAgo, type RotationHarness } from '../support/rotation-harness.js';

describe('two keyup processes checking the same due key', () => {
  let h: RotationHarness;
  afterEach(async () => {
    await h?.close();
  });

  it('the one that finds the key rotated by the other once it gets the lock looks again and finds it current', async () => {
    h = await createRotationHarness();
    h.emulator.createUser({ userName: 'alice' });
    const old = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
    await h.writeCredentials(`[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`);

    // The second process has listed the old key as due when the first one rotates it from start to end.
    const keyApi = createSdkKeyApi({ iamEndpoint: h.emulator.endpoint, stsEndpoint: h.emulator.endpoint, requestTimeoutMs: 2_000 });
    let first: Awaited<ReturnType<RotationHarness['rotate']>> | undefined;
    const racing: KeyApi = {
      ...keyApi,
      async listAccessKeys(ctx, userName) {
        const keys = await keyApi.listAccessKeys(ctx, userName);
        first ??= await h.rotate();
        return keys;
      },
    };
    const second = h.createRotator(racing);

    const outcome = await second.rotate({ profile: 'default', settings: { maxAgeDays: 90, warnAgeDays: 80, oldKey: 'delete', deferOnSessions: true } });
    expect(first).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId });
    const fresh = first?.kind === 'rotated' ? first.newKeyId : '';
    expect(outcome).toMatchObject({ kind: 'current', keyId: fresh });
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([fresh]);
    expect(h.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey')).toHaveLength(1);
  });
});
