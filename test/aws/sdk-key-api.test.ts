import { createServer } from 'node:net';
import { GetSessionTokenCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { describeAwsError, isNetworkOrTimeout } from '../../src/aws/errors.js';
import { getUnansweredEndpoint, type AwsCredentials } from '../../src/aws/key-api.js';
import { createSdkKeyApi, type SdkKeyApi, type SdkKeyApiInit } from '../../src/aws/sdk-key-api.js';
import { waitFor } from '../e2e/keyupd.js';
import { failure, isolateAwsEnvironment, seedUser, stsClient, useEmulator } from '../emulator/helpers.js';
import type { Emulator } from '../../emulator/index.js';

isolateAwsEnvironment();

/** A KeyApi on the emulator, released when the test ends; the environment plays no part. */
function keyApiFor(emulator: Emulator, init: SdkKeyApiInit = {}): SdkKeyApi {
  return createSdkKeyApi({ iamEndpoint: emulator.endpoint, stsEndpoint: emulator.endpoint, env: {}, requestTimeoutMs: 5_000, connectionTimeoutMs: 2_000, ...init });
}

/** A port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** TCP connections open in this process (ours and the emulator's ends of them). */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'TCPSocketWrap').length;
}

const signers = (emulator: Emulator) => emulator.getCallLog().map((entry) => entry.accessKeyId);

describe('createSdkKeyApi: clients kept for the length of a check', () => {
  it('lets concurrent calls of one identity share one client per service', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);
    const ctx = { credentials: alice.credentials };

    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () => api.getCallerIdentity(ctx).then((identity) => identity.userName)),
      ...Array.from({ length: 20 }, () => api.listAccessKeys(ctx).then((list) => list.keys[0]?.userName)),
    ]);

    expect(answers).toEqual(Array(40).fill('alice'));
    expect(api.cachedClientCount()).toBe(2);
    expect(signers(emulator)).toEqual(Array(40).fill(alice.credentials.accessKeyId));
    api.release();
  });

  it('gives each identity its own client, so every call is signed by its own key', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const bob = seedUser(emulator, 'bob');
    const api = keyApiFor(emulator);

    const names = await Promise.all(
      [alice, bob, alice, bob, bob, alice].map((user) => api.getCallerIdentity({ credentials: user.credentials }).then((identity) => identity.userName)),
    );

    expect(names).toEqual(['alice', 'bob', 'alice', 'bob', 'bob', 'alice']);
    expect(api.cachedClientCount()).toBe(2);
    const byKey = new Map(emulator.getCallLog().map((entry) => [entry.accessKeyId, entry.userName]));
    expect(byKey).toEqual(
      new Map([
        [alice.credentials.accessKeyId, 'alice'],
        [bob.credentials.accessKeyId, 'bob'],
      ]),
    );
    api.release();
  });

  it('keeps session credentials apart from the long-term key of the same user', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const session = await stsClient(emulator, alice.credentials).send(new GetSessionTokenCommand({}));
    const sessionCredentials: AwsCredentials = {
      accessKeyId: session.Credentials?.AccessKeyId ?? '',
      secretAccessKey: session.Credentials?.SecretAccessKey ?? '',
      sessionToken: session.Credentials?.SessionToken ?? '',
    };
    const api = keyApiFor(emulator);
    emulator.clearCallLog();

    await api.getCallerIdentity({ credentials: alice.credentials });
    await api.getCallerIdentity({ credentials: sessionCredentials });

    expect(api.cachedClientCount()).toBe(2);
    expect(signers(emulator)).toEqual([alice.credentials.accessKeyId, sessionCredentials.accessKeyId]);
    api.release();
  });

  // Someone fixes the secret in the credentials file during a check: the cached client must not
  // go on signing with the secret it was made with.
  it('never signs with a secret the caller no longer gives for that key id', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);
    const wrong = { credentials: { ...alice.credentials, secretAccessKey: 'w'.repeat(40) } };

    await expect(api.getCallerIdentity({ credentials: alice.credentials })).resolves.toMatchObject({ userName: 'alice' });
    expect(await failure(api.getCallerIdentity(wrong))).toMatchObject({ name: 'SignatureDoesNotMatch' });
    await expect(api.getCallerIdentity({ credentials: alice.credentials })).resolves.toMatchObject({ userName: 'alice' });
    expect(api.cachedClientCount()).toBe(1);
    api.release();
  });

  it('release() forgets every client and closes their connections; the next call makes new ones', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);
    const ctx = { credentials: alice.credentials };
    await api.getCallerIdentity(ctx);
    await api.listAccessKeys(ctx);
    expect(api.cachedClientCount()).toBe(2);
    // Kept alive between the calls of a check…
    expect(openSockets()).toBeGreaterThan(0);

    api.release();

    expect(api.cachedClientCount()).toBe(0);
    // …and none left once the check is over.
    await waitFor('every connection to close', () => openSockets() === 0);
    await expect(api.getCallerIdentity(ctx)).resolves.toMatchObject({ userName: 'alice' });
    expect(api.cachedClientCount()).toBe(1);
    api.release();
    api.release();
    expect(api.cachedClientCount()).toBe(0);
  });

  it('lets a call that is under way when release() comes finish on its client', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);
    emulator.injectFault({ kind: 'latency', action: 'CreateAccessKey', latencyMs: 500 });
    await waitFor('the connections of earlier tests to close', () => openSockets() === 0);

    const creating = api.createAccessKey({ credentials: alice.credentials });
    // Both ends of the connection exist: the request is on the wire, waiting for its answer.
    await waitFor('the call to reach the emulator', () => openSockets() >= 2);
    api.release();

    await expect(creating).resolves.toMatchObject({ userName: 'alice', status: 'Active' });
    expect(api.cachedClientCount()).toBe(0);
    await waitFor('every connection to close', () => openSockets() === 0);
  });

  it('keeps what a client learnt of IAM clock between the calls of a check', async () => {
    // 20 minutes ahead: beyond the 15-minute signing window, so the first call is refused and
    // the SDK corrects its clock from the answer's Date.
    const emulator = await useEmulator({ now: () => new Date(Date.now() + 20 * 60_000) });
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);
    const ctx = { credentials: alice.credentials };

    expect(await failure(api.getCallerIdentity(ctx))).toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(api.getCallerIdentity(ctx)).resolves.toMatchObject({ userName: 'alice' });
    api.release();
  });

  it("reports IAM's own clock with the keys, not the machine's", async () => {
    const offsetMs = -3 * 60_000;
    const emulator = await useEmulator({ now: () => new Date(Date.now() + offsetMs) });
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);

    const list = await api.listAccessKeys({ credentials: alice.credentials });

    expect(list.serverTime).toBeInstanceOf(Date);
    expect(Math.abs((list.serverTime?.getTime() ?? 0) - (Date.now() + offsetMs))).toBeLessThan(2_000);
    api.release();
  });
});

describe('createSdkKeyApi: a call that gets no answer names the endpoint', () => {
  it('on a refused connection, keeping the error as errors.ts knows it', async () => {
    const port = await closedPort();
    const api = createSdkKeyApi({ iamEndpoint: `http://127.0.0.1:${port}`, stsEndpoint: `http://127.0.0.1:${port}`, env: {} });
    const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's'.repeat(40) };

    const sts = await failure(api.getCallerIdentity({ credentials }));
    const iam = await failure(api.deleteAccessKey({ credentials }, 'AKIAIOSFODNN7EXAMPLE'));

    for (const error of [sts, iam]) {
      expect(error).toMatchObject({ code: 'ECONNREFUSED', endpoint: `http://127.0.0.1:${port}` });
      expect(getUnansweredEndpoint(error)).toBe(`http://127.0.0.1:${port}`);
      expect(isNetworkOrTimeout(error)).toBe(true);
      expect(describeAwsError(error, { action: 'sts:GetCallerIdentity', profile: 'default' }).message).toMatch(/did not answer/);
    }
    api.release();
  });

  it('on a call we abort while it waits for an answer', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);
    emulator.injectFault({ kind: 'hang', action: 'ListAccessKeys' });
    const controller = new AbortController();

    const listing = failure(api.listAccessKeys({ credentials: alice.credentials, signal: controller.signal }));
    await waitFor('the emulator to hold the call', () => emulator.getCallLog().some((entry) => entry.fault === 'hang'));
    controller.abort();

    expect(await listing).toMatchObject({ name: 'AbortError', endpoint: emulator.endpoint });
    api.release();
  });

  it('on a call aborted before it is sent, which then never reaches AWS', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);

    const error = await failure(api.getCallerIdentity({ credentials: alice.credentials, signal: AbortSignal.abort() }));

    expect(error).toMatchObject({ name: 'AbortError', endpoint: emulator.endpoint });
    expect(emulator.getCallLog()).toEqual([]);
    api.release();
  });

  it('on a call that times out', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator, { requestTimeoutMs: 200 });
    emulator.injectFault({ kind: 'hang', action: 'GetCallerIdentity' });

    const error = await failure(api.getCallerIdentity({ credentials: alice.credentials }));

    expect(error).toMatchObject({ name: 'TimeoutError', endpoint: emulator.endpoint });
    expect(isNetworkOrTimeout(error)).toBe(true);
    api.release();
  });

  it('not on an answer, even an error', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = keyApiFor(emulator);
    emulator.injectFault({ kind: 'service-unavailable', action: 'GetCallerIdentity' });

    const error = await failure(api.getCallerIdentity({ credentials: alice.credentials }));

    expect(error.$metadata).toMatchObject({ httpStatusCode: 503 });
    expect(getUnansweredEndpoint(error)).toBeUndefined();
    api.release();
  });

  // No network: a call aborted before sending still says where it would have gone.
  it("uses AWS's own endpoints when none is configured: IAM's global one, STS's in the call's region", async () => {
    const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's'.repeat(40) };
    const signal = AbortSignal.abort();
    const endpointOf = async (call: Promise<unknown>) => (await failure(call)).endpoint;

    const api = createSdkKeyApi({ env: {} });
    expect(await endpointOf(api.getCallerIdentity({ credentials, region: 'eu-west-1', signal }))).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(await endpointOf(api.getCallerIdentity({ credentials, signal }))).toBe('https://sts.us-east-1.amazonaws.com');
    expect(await endpointOf(api.listAccessKeys({ credentials, region: 'eu-west-1', signal }))).toBe('https://iam.amazonaws.com');
    expect(await endpointOf(api.listAccessKeys({ credentials, region: 'cn-north-1', signal }))).toBe('https://iam.cn-north-1.amazonaws.com.cn');

    const elsewhere = createSdkKeyApi({ env: {}, region: 'ap-south-1' });
    expect(await endpointOf(elsewhere.getCallerIdentity({ credentials, signal }))).toBe('https://sts.ap-south-1.amazonaws.com');

    const fips = createSdkKeyApi({ env: { AWS_USE_FIPS_ENDPOINT: 'true' } });
    expect(await endpointOf(fips.getCallerIdentity({ credentials, region: 'us-east-2', signal }))).toBe('https://sts-fips.us-east-2.amazonaws.com');
    expect(await endpointOf(fips.listAccessKeys({ credentials, signal }))).toBe('https://iam-fips.amazonaws.com');
    for (const each of [api, elsewhere, fips]) each.release();
  });
});

describe('createSdkKeyApi: endpoints', () => {
  it('takes them from the environment it is given, by the SDKs precedence', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const api = createSdkKeyApi({ env: { AWS_ENDPOINT_URL: dead, AWS_ENDPOINT_URL_IAM: emulator.endpoint, AWS_ENDPOINT_URL_STS: emulator.endpoint } });

    await expect(api.getCallerIdentity({ credentials: alice.credentials })).resolves.toMatchObject({ userName: 'alice' });
    await expect(api.listAccessKeys({ credentials: alice.credentials })).resolves.toMatchObject({ keys: [{ userName: 'alice' }] });
    api.release();
  });

  it("takes them from the profile's services section in the AWS config file", async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const api = createSdkKeyApi({ env: {}, configuredEndpoints: { services: { iam: emulator.endpoint, sts: emulator.endpoint } } });

    await expect(api.getCallerIdentity({ credentials: alice.credentials })).resolves.toMatchObject({ userName: 'alice' });
    await expect(api.listAccessKeys({ credentials: alice.credentials })).resolves.toMatchObject({ keys: [{ userName: 'alice' }] });
    api.release();
  });

  it('lets endpoints given in code win over the environment', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const api = createSdkKeyApi({ iamEndpoint: emulator.endpoint, stsEndpoint: emulator.endpoint, env: { AWS_ENDPOINT_URL_IAM: dead, AWS_ENDPOINT_URL_STS: dead } });

    await expect(api.getCallerIdentity({ credentials: alice.credentials })).resolves.toMatchObject({ userName: 'alice' });
    api.release();
  });

  it('refuses a bad endpoint setting when it is made, not at every call', () => {
    expect(() => createSdkKeyApi({ env: { AWS_ENDPOINT_URL_STS: 'localhost:4566' } })).toThrow(/AWS_ENDPOINT_URL_STS is 'localhost:4566'/);
  });
});
