import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
  type AccessKeyMetadata,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DeserializeMiddleware, MetadataBearer } from '@smithy/types';
import { parseUserArn } from './arn.js';
import type { AccessKeyInfo, CallContext, KeyApi } from './key-api.js';

export interface SdkKeyApiInit {
  /** Give up on a call that has not answered in this time (IAM can hang). Default 15 s. */
  requestTimeoutMs?: number;
  /** Default 5 s. */
  connectionTimeoutMs?: number;
  /** Endpoints for tests; otherwise the SDK's conventions apply (`AWS_ENDPOINT_URL_IAM`, …). */
  iamEndpoint?: string;
  stsEndpoint?: string;
}

const DEFAULT_REGION = 'us-east-1';

/**
 * The real KeyApi. A client is made per call with the call's static credentials: the SDK's own
 * credential chain would cache the credentials file for the life of the process and would let
 * `AWS_ACCESS_KEY_ID` and friends sign calls meant for a profile. Endpoints still follow the
 * SDK's conventions (`AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL_STS`, …).
 */
export function createSdkKeyApi({ requestTimeoutMs = 15_000, connectionTimeoutMs = 5_000, iamEndpoint, stsEndpoint }: SdkKeyApiInit = {}): KeyApi {
  const clientConfig = (ctx: CallContext, endpoint: string | undefined) => ({
    ...(endpoint === undefined ? {} : { endpoint }),
    region: ctx.region ?? DEFAULT_REGION,
    credentials: { ...ctx.credentials },
    maxAttempts: 1,
    // Without throwOnRequestTimeout the SDK only warns and goes on waiting for a hung call.
    requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: connectionTimeoutMs, throwOnRequestTimeout: true },
  });

  async function withIam<T>(ctx: CallContext, call: (client: IAMClient) => Promise<T>): Promise<T> {
    const client = new IAMClient(clientConfig(ctx, iamEndpoint));
    try {
      return await call(client);
    } finally {
      client.destroy();
    }
  }

  return {
    async getCallerIdentity(ctx) {
      const client = new STSClient(clientConfig(ctx, stsEndpoint));
      try {
        const out = await client.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal });
        const arn = out.Arn ?? '';
        return { account: out.Account ?? '', arn, userId: out.UserId ?? '', userName: parseUserArn(arn)?.userName };
      } finally {
        client.destroy();
      }
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
  };
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
