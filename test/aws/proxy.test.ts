/**
 * HTTPS_PROXY and friends (SPEC "Files and places"): the real SDK KeyApi through a real CONNECT
 * proxy to the emulator. The endpoints name hosts nobody can resolve (`*.keyup.test`), which only
 * the proxy maps to the emulator: a call that did not go through it cannot succeed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isNetworkOrTimeout } from '../../src/aws/errors.js';
import { createProxyAgents } from '../../src/aws/proxy.js';
import { createSdkKeyApi } from '../../src/aws/sdk-key-api.js';
import { isolateAwsEnvironment, seedUser, useEmulator } from '../emulator/helpers.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';

isolateAwsEnvironment();

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'];

describe('AWS calls through a proxy', () => {
  let proxy: ConnectProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    vi.unstubAllEnvs();
  });

  function stubProxyEnvironment(values: Record<string, string>) {
    for (const name of PROXY_VARIABLES) vi.stubEnv(name, values[name] ?? '');
  }

  it('go through HTTP_PROXY / HTTPS_PROXY with CONNECT, IAM and STS alike', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    proxy = await startConnectProxy();
    stubProxyEnvironment({ HTTP_PROXY: proxy.url });
    const port = new URL(emulator.endpoint).port;
    const api = createSdkKeyApi({ iamEndpoint: `http://iam.keyup.test:${port}`, stsEndpoint: `http://sts.keyup.test:${port}`, env: {} });
    try {
      expect(await api.getCallerIdentity({ credentials: alice.credentials })).toMatchObject({ userName: 'alice' });
      expect((await api.listAccessKeys({ credentials: alice.credentials }, 'alice')).keys).toHaveLength(1);
    } finally {
      api.release();
    }
    expect(new Set(proxy.tunnels)).toEqual(new Set([`sts.keyup.test:${port}`, `iam.keyup.test:${port}`]));
  });

  it('skip the proxy for a host NO_PROXY names, and for loopback', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    proxy = await startConnectProxy();
    stubProxyEnvironment({ HTTP_PROXY: proxy.url, NO_PROXY: '.keyup.test' });
    const port = new URL(emulator.endpoint).port;
    const named = createSdkKeyApi({ stsEndpoint: `http://sts.keyup.test:${port}`, env: {}, connectionTimeoutMs: 2_000 });
    const loopback = createSdkKeyApi({ stsEndpoint: emulator.endpoint, env: {} });
    try {
      // Direct, the name resolves nowhere.
      const refused = await named.getCallerIdentity({ credentials: alice.credentials }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isNetworkOrTimeout(refused)).toBe(true);
      expect(await loopback.getCallerIdentity({ credentials: alice.credentials })).toMatchObject({ userName: 'alice' });
    } finally {
      named.release();
      loopback.release();
    }
    expect(proxy.tunnels).toEqual([]);
  });

  it('choose by the endpoint AWS would be called at when none is set', () => {
    stubProxyEnvironment({ HTTPS_PROXY: 'http://user:pass@proxy.example.com:3128' });
    expect(createProxyAgents('https://iam.amazonaws.com')).toBeDefined();
    expect(createProxyAgents('http://localhost:4566')).toBeUndefined();
    expect(createProxyAgents('http://127.0.0.1:4566')).toBeUndefined();
    // HTTPS_PROXY is for https only, as curl and the AWS CLI take it.
    expect(createProxyAgents('http://iam.example.com')).toBeUndefined();
    stubProxyEnvironment({ HTTPS_PROXY: 'http://proxy.example.com:3128', NO_PROXY: '.amazonaws.com' });
    expect(createProxyAgents('https://sts.eu-west-1.amazonaws.com')).toBeUndefined();
  });
});
