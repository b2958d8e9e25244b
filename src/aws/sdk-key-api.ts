import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  UpdateAccessKeyCommand,
  type AccessKeyMetadata,
  type IAMClientConfig,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import type { DeserializeMiddleware, MetadataBearer } from '@smithy/types';
import type { Env } from '../paths.js';
import { parseUserArn } from './arn.js';
import { parseAwsBoolean, resolveEndpoints, type ConfiguredEndpoints } from './endpoints.js';
import { createProxyAgents } from './proxy.js';
import type { AccessKeyInfo, AwsCredentials, CallContext, KeyApi, MfaDeviceInfo } from './key-api.js';

export const ENV_USE_FIPS_ENDPOINT = 'AWS_USE_FIPS_ENDPOINT';
export const ENV_USE_DUALSTACK_ENDPOINT = 'AWS_USE_DUALSTACK_ENDPOINT';

export interface SdkKeyApiInit {
  /** Give up on a call that has not answered in this time (IAM can hang). Default 15 s. */
  requestTimeoutMs?: number;
  /** Default 5 s. */
  connectionTimeoutMs?: number;
  /** Where IAM calls go, whatever the environment and the config file say (tests, the emulator). */
  iamEndpoint?: string;
  /** Where STS calls go, likewise. */
  stsEndpoint?: string;
  /** STS's region for a call whose context names none; also picks IAM's partition. Default `us-east-1`. */
  region?: string;
  /**
   * Read once, here, for `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`,
   * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (see `resolveEndpoints`), `AWS_USE_FIPS_ENDPOINT` and
   * `AWS_USE_DUALSTACK_ENDPOINT`. Default `process.env`.
   */
  env?: Env;
  /** What the AWS config file says about endpoints for the profile in use. Default: nothing. */
  configuredEndpoints?: ConfiguredEndpoints;
  /** Default: `AWS_USE_FIPS_ENDPOINT` in `env`, else false. */
  useFipsEndpoint?: boolean;
  /** Default: `AWS_USE_DUALSTACK_ENDPOINT` in `env`, else false. */
  useDualstackEndpoint?: boolean;
}

/** The SDK KeyApi: `release` is always there, and tests and the bench may count its clients. */
export interface SdkKeyApi extends KeyApi {
  release(): void;
  /** Clients kept for reuse now (those still finishing a call after `release` not counted). */
  cachedClientCount(): number;
}

const DEFAULT_REGION = 'us-east-1';

/**
 * The real KeyApi. Every call is signed with the static credentials keyup read itself: the SDK's
 * credential chain would let `AWS_ACCESS_KEY_ID` and friends sign calls meant for a profile.
 *
 * One client per service, region and signing identity is kept and shared by concurrent calls
 * until `release()`, which the engine calls at the end of each check. Making a client costs
 * milliseconds of CPU and a new connection; keeping clients forever would keep secrets and sockets
 * in an idle daemon.
 */
export function createSdkKeyApi({
  requestTimeoutMs = 15_000,
  connectionTimeoutMs = 5_000,
  iamEndpoint,
  stsEndpoint,
  region: defaultRegion = DEFAULT_REGION,
  env = process.env,
  configuredEndpoints,
  useFipsEndpoint = parseAwsBoolean(env[ENV_USE_FIPS_ENDPOINT]) ?? false,
  useDualstackEndpoint = parseAwsBoolean(env[ENV_USE_DUALSTACK_ENDPOINT]) ?? false,
}: SdkKeyApiInit = {}): SdkKeyApi {
  const configured = resolveEndpoints(env, configuredEndpoints);
  const settings: FixedSettings = { requestTimeoutMs, connectionTimeoutMs, useFipsEndpoint, useDualstackEndpoint };
  const iam = new ClientPool((region, credentials) => withEndpointOnFailure(new IAMClient(iamConfig(settings, region, credentials, iamEndpoint ?? configured.iam))));
  const sts = new ClientPool((region, credentials) => withEndpointOnFailure(new STSClient(stsConfig(settings, region, credentials, stsEndpoint ?? configured.sts))));
  const withIam = <T>(ctx: CallContext, call: (client: IAMClient) => Promise<T>) => iam.use(ctx.region ?? defaultRegion, ctx.credentials, call);

  return {
    release() {
      iam.release();
      sts.release();
    },

    cachedClientCount() {
      return iam.size + sts.size;
    },

    getCallerIdentity(ctx) {
      return sts.use(ctx.region ?? defaultRegion, ctx.credentials, async (client) => {
        const out = await client.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal });
        const arn = out.Arn ?? '';
        return { account: out.Account ?? '', arn, userId: out.UserId ?? '', userName: parseUserArn(arn)?.userName };
      });
    },

    listAccessKeys(ctx, userName) {
      return withIam(ctx, async (client) => {
        const keys: AccessKeyInfo[] = [];
        let serverTime: Date | undefined;
        let marker: string | undefined;
        do {
          const command = new ListAccessKeysCommand({ UserName: userName, Marker: marker });
          command.middlewareStack.add(readServerTime((date) => (serverTime ??= date)), { step: 'deserialize', name: 'keyupServerTime' });
          const out = await client.send(command, { abortSignal: ctx.signal });
          keys.push(...(out.AccessKeyMetadata ?? []).map(toAccessKeyInfo));
          marker = out.IsTruncated === true ? out.Marker : undefined;
        } while (marker !== undefined);
        return { keys, serverTime };
      });
    },

    createAccessKey(ctx, userName) {
      return withIam(ctx, async (client) => {
        const out = await client.send(new CreateAccessKeyCommand({ UserName: userName }), { abortSignal: ctx.signal });
        const key = out.AccessKey;
        if (key?.AccessKeyId === undefined || key.SecretAccessKey === undefined) {
          throw new Error('CreateAccessKey answered without a key');
        }
        return {
          ...toAccessKeyInfo(key),
          secretAccessKey: key.SecretAccessKey,
        };
      });
    },

    updateAccessKey(ctx, accessKeyId, status, userName) {
      return withIam(ctx, async (client) => {
        await client.send(new UpdateAccessKeyCommand({ AccessKeyId: accessKeyId, Status: status, UserName: userName }), { abortSignal: ctx.signal });
      });
    },

    deleteAccessKey(ctx, accessKeyId, userName) {
      return withIam(ctx, async (client) => {
        await client.send(new DeleteAccessKeyCommand({ AccessKeyId: accessKeyId, UserName: userName }), { abortSignal: ctx.signal });
      });
    },

    getAccessKeyLastUsed(ctx, accessKeyId) {
      return withIam(ctx, async (client) => {
        const out = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }), { abortSignal: ctx.signal });
        const used = out.AccessKeyLastUsed;
        // IAM says "N/A" for a key that was never used.
        const known = (value: string | undefined) => (value === undefined || value === 'N/A' ? undefined : value);
        return {
          userName: out.UserName ?? '',
          lastUsedDate: used?.LastUsedDate,
          serviceName: known(used?.ServiceName),
          region: known(used?.Region),
        };
      });
    },

    listMfaDevices(ctx, userName) {
      return withIam(ctx, async (client) => {
        const devices: MfaDeviceInfo[] = [];
        let marker: string | undefined;
        do {
          const out = await client.send(new ListMFADevicesCommand({ UserName: userName, Marker: marker }), { abortSignal: ctx.signal });
          for (const device of out.MFADevices ?? []) {
            if (device.SerialNumber !== undefined) devices.push({ serialNumber: device.SerialNumber, enableDate: device.EnableDate });
          }
          marker = out.IsTruncated === true ? out.Marker : undefined;
        } while (marker !== undefined);
        return devices;
      });
    },

    getSessionToken(ctx, { serialNumber, tokenCode, durationSeconds }) {
      return sts.use(ctx.region ?? defaultRegion, ctx.credentials, async (client) => {
        const out = await client.send(new GetSessionTokenCommand({ SerialNumber: serialNumber, TokenCode: tokenCode, DurationSeconds: durationSeconds }), {
          abortSignal: ctx.signal,
        });
        const made = out.Credentials;
        if (made?.AccessKeyId === undefined || made.SecretAccessKey === undefined || made.SessionToken === undefined) {
          throw new Error('GetSessionToken answered without credentials');
        }
        return { accessKeyId: made.AccessKeyId, secretAccessKey: made.SecretAccessKey, sessionToken: made.SessionToken, expiration: made.Expiration };
      });
    },
  };
}

interface FixedSettings {
  readonly requestTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly useFipsEndpoint: boolean;
  readonly useDualstackEndpoint: boolean;
}

/**
 * Every client setting the SDK would otherwise resolve itself with `loadConfig`: from the
 * environment, then from the AWS config AND credentials files, which its shared-ini-file-loader
 * parses again for each client and keeps, old secrets included, for the life of the process.
 * Read in the Node `runtimeConfig` of @aws-sdk/client-iam 3.1169 and client-sts 3.1174 and in the
 * resolvers their constructors run (@smithy/core config, endpoints and retry; @aws-sdk/core
 * httpAuthSchemes). Left undefined, any one of them sends the SDK to the files again;
 * test/aws/sdk-no-file-reads.test.ts proves that none does.
 */
function sharedConfig(settings: FixedSettings, region: string, credentials: AwsCredentials, endpoint: string | undefined, awsEndpoint: string) {
  const proxy = createProxyAgents(endpoint ?? awsEndpoint);
  return {
    // region / AWS_REGION; also read by `defaultsMode` when it is not given.
    region,
    // The credential chain (credential-provider-node: env, ini, sso, process, IMDS …) when absent.
    // A copy: the caller's object may be reused for other calls.
    credentials: { ...credentials },
    // endpoint_url, a `services` section, AWS_ENDPOINT_URL(_IAM/_STS), ignore_configured_endpoint_urls:
    // keyup resolved them (endpoints.ts). `ignoreConfiguredEndpointUrls` stops the lookup when no
    // endpoint is given: AWS's own then, STS's in the call's region.
    ...(endpoint === undefined ? {} : { endpoint }),
    ignoreConfiguredEndpointUrls: true,
    // use_fips_endpoint, use_dualstack_endpoint.
    useFipsEndpoint: settings.useFipsEndpoint,
    useDualstackEndpoint: settings.useDualstackEndpoint,
    // max_attempts: keyup decides retries; CreateAccessKey is not idempotent.
    maxAttempts: 1,
    // retry_mode, whose default comes from defaults_mode.
    retryMode: 'standard',
    // defaults_mode (`auto` would even ask the instance metadata service for the region).
    defaultsMode: 'legacy' as const,
    // auth_scheme_preference: IAM and STS sign with SigV4 here.
    authSchemePreference: [],
    // sdk_ua_app_id: a provider, because an undefined value is looked up.
    userAgentAppId: () => Promise.resolve(undefined),
    // disable_clock_skew_correction, read once per process at the first signing. Correction stays
    // on: a client learns IAM's clock from an answer and keeps it for its next calls.
    disableClockSkewCorrection: false,
    // Given as options, the handler takes no defaults from defaults_mode. Without
    // throwOnRequestTimeout the SDK only warns and goes on waiting for a hung call. HTTPS_PROXY
    // and friends: the SDK takes none of them by itself (proxy.ts).
    requestHandler: { requestTimeout: settings.requestTimeoutMs, connectionTimeout: settings.connectionTimeoutMs, throwOnRequestTimeout: true, ...proxy },
  };
}

function iamConfig(settings: FixedSettings, region: string, credentials: AwsCredentials, endpoint: string | undefined): IAMClientConfig {
  // IAM is global: one endpoint, whatever the region (what a NO_PROXY rule is matched against).
  return sharedConfig(settings, region, credentials, endpoint, 'https://iam.amazonaws.com');
}

function stsConfig(settings: FixedSettings, region: string, credentials: AwsCredentials, endpoint: string | undefined): STSClientConfig {
  return {
    ...sharedConfig(settings, region, credentials, endpoint, `https://sts.${region}.amazonaws.com`),
    // sigv4a_signing_region_set (STS only): a provider, because an undefined value is looked up.
    sigv4aSigningRegionSet: () => Promise.resolve(undefined),
  };
}

interface PooledClient<C> {
  readonly client: C;
  /** Compared on reuse, so that a corrected secret is never signed with the old one. */
  secretAccessKey: string;
  inFlight: number;
  retired: boolean;
}

/**
 * Clients by region and signing identity. Taking one is synchronous, so concurrent calls share a
 * client instead of racing to make two. A released client is destroyed (its sockets closed) once
 * the calls still running on it are done, never under them.
 */
class ClientPool<C extends { destroy(): void }> {
  private readonly clients = new Map<string, PooledClient<C>>();

  constructor(private readonly make: (region: string, credentials: AwsCredentials) => C) {}

  get size(): number {
    return this.clients.size;
  }

  async use<T>(region: string, credentials: AwsCredentials, call: (client: C) => Promise<T>): Promise<T> {
    // The key id and the session token name the identity; the key stays in this private map.
    const key = JSON.stringify([region, credentials.accessKeyId, credentials.sessionToken ?? null]);
    let pooled = this.clients.get(key);
    if (pooled !== undefined && pooled.secretAccessKey !== credentials.secretAccessKey) {
      this.retire(key, pooled);
      pooled = undefined;
    }
    if (pooled === undefined) {
      pooled = { client: this.make(region, credentials), secretAccessKey: credentials.secretAccessKey, inFlight: 0, retired: false };
      this.clients.set(key, pooled);
    }
    const taken = pooled;
    taken.inFlight++;
    try {
      return await call(taken.client);
    } finally {
      taken.inFlight--;
      if (taken.retired && taken.inFlight === 0) taken.client.destroy();
    }
  }

  release(): void {
    for (const [key, pooled] of this.clients) this.retire(key, pooled);
  }

  private retire(key: string, pooled: PooledClient<C>): void {
    this.clients.delete(key);
    pooled.retired = true;
    pooled.secretAccessKey = '';
    if (pooled.inFlight === 0) pooled.client.destroy();
  }
}

/** The client, told to name the endpoint on every failure that got no HTTP answer. */
function withEndpointOnFailure<C extends IAMClient | STSClient>(client: C): C {
  // STSClient's stack takes the same middleware; the cast only picks one of the two types.
  const stack = (client as IAMClient).middlewareStack;
  // Right above the HTTP handler: whatever fails there got no answer (refused, DNS, timeout,
  // reset, aborted on the wire).
  stack.add(nameEndpoint(() => true), { step: 'deserialize', priority: 'low', name: 'keyupEndpointOfTransportFailure' });
  // Above the retry middleware, which answers an abort with an AbortError of its own, before
  // sending as well as during.
  stack.add(nameEndpoint((error) => error.name === 'AbortError'), { step: 'build', priority: 'low', name: 'keyupEndpointOfAbort' });
  return client;
}

interface RequestShape {
  protocol?: string;
  hostname?: string;
  port?: number;
  path?: string;
}

/**
 * Adds `endpoint`, the URL that did not answer, to the errors `applies` picks. Their name, code
 * and `$metadata` stay as they were, so errors.ts still classifies them.
 */
function nameEndpoint(applies: (error: Error) => boolean) {
  return <Args extends { request: unknown }, Result>(next: (args: Args) => Promise<Result>) =>
    async (args: Args): Promise<Result> => {
      try {
        return await next(args);
      } catch (error) {
        if (error instanceof Error && !('endpoint' in error) && applies(error)) {
          Object.assign(error, { endpoint: formatEndpoint(args.request as RequestShape) });
        }
        throw error;
      }
    };
}

function formatEndpoint({ protocol = 'https:', hostname = '', port, path = '/' }: RequestShape): string {
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  return `${protocol}//${host}${port === undefined ? '' : `:${port}`}${path === '/' ? '' : path}`;
}

/** Hands the `Date` header of a successful answer to `take`: IAM's clock, whatever the machine's says. */
function readServerTime<Input extends object, Output extends MetadataBearer>(take: (date: Date) => void): DeserializeMiddleware<Input, Output> {
  return (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { headers?: Record<string, string | undefined> } | undefined;
    const header = response?.headers?.['date'];
    const time = header === undefined ? Number.NaN : Date.parse(header);
    if (!Number.isNaN(time)) take(new Date(time));
    return result;
  };
}

/** IAM always sends these fields; an answer without them is not one to act on. */
function toAccessKeyInfo(key: AccessKeyMetadata): AccessKeyInfo {
  const { AccessKeyId, UserName, Status, CreateDate } = key;
  if (AccessKeyId === undefined || UserName === undefined || CreateDate === undefined || (Status !== 'Active' && Status !== 'Inactive')) {
    throw new Error('IAM answered with an incomplete access key');
  }
  return { accessKeyId: AccessKeyId, userName: UserName, status: Status, createDate: CreateDate };
}
