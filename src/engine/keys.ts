import { describeAwsError } from '../aws/errors.js';
import type { AwsCredentials, KeyApi } from '../aws/key-api.js';
import { retry } from '../aws/retry.js';
import type { ProfileConfig } from '../config/index.js';
import type { CredentialsSnapshot } from '../credentials/index.js';
import { KeyupError } from '../errors.js';
import { formatHolder } from '../present/holders.js';
import { maskKeyId } from '../present/key-id.js';
import { identifyIamUser } from '../rotation/identify.js';
import { toErrorInfo, type ErrorInfo } from './outcome.js';

/** One key of a user, as `keyupctl keys` shows it. */
export interface KeyInfo {
  readonly keyId: string;
  readonly status: 'Active' | 'Inactive';
  readonly created: string;
  readonly ageDays: number;
  readonly lastUsed: { readonly date: string | null; readonly service: string | null; readonly region: string | null } | null;
  /** The profiles of the credentials and AWS config files that hold it (config ones say so). */
  readonly inProfiles: readonly string[];
  /** The key of the managed profile asked about. */
  readonly managed: boolean;
}

export interface ProfileKeys {
  readonly profile: string;
  readonly user: string | null;
  readonly account: string | null;
  readonly keys: readonly KeyInfo[];
  /** Set when the profile's keys could not be listed. */
  readonly error: ErrorInfo | null;
}

const MS_PER_DAY = 86_400_000;

/**
 * Every key of a managed profile's IAM user: ListAccessKeys, then GetAccessKeyLastUsed for each
 * (two keys at most), signed like a rotation's calls (the profile's key, or its `manage_with`).
 */
export async function listProfileKeys(profile: ProfileConfig, snapshot: CredentialsSnapshot, keyApi: KeyApi, init: { now: Date; region?: string; signal?: AbortSignal }): Promise<ProfileKeys> {
  try {
    const own = staticKeyOf(snapshot, profile.name);
    const signer = profile.manageWith === undefined ? own : staticKeyOf(snapshot, profile.manageWith);
    const ctx = (credentials: AwsCredentials) => ({ credentials, ...(init.region === undefined ? {} : { region: init.region }), ...(init.signal === undefined ? {} : { signal: init.signal }) });
    const identity = await identifyIamUser(keyApi, profile.name, own, { ...(init.region === undefined ? {} : { region: init.region }), retryInit: init.signal === undefined ? {} : { signal: init.signal } });
    const { userName } = identity;
    const target = { userName, ...(profile.manageWith === undefined ? {} : { otherUserArn: identity.arn }) };
    const { keys } = await retry(() => keyApi.listAccessKeys(ctx(signer), userName)).catch((error: unknown) => {
      throw describeAwsError(error, { action: 'iam:ListAccessKeys', profile: profile.name, maskedKeyId: maskKeyId(signer.accessKeyId), ...target });
    });
    const infos: KeyInfo[] = [];
    for (const key of keys) {
      const used = await retry(() => keyApi.getAccessKeyLastUsed(ctx(signer), key.accessKeyId)).catch((error: unknown) => {
        throw describeAwsError(error, { action: 'iam:GetAccessKeyLastUsed', profile: profile.name, maskedKeyId: maskKeyId(signer.accessKeyId), ...target });
      });
      infos.push({
        keyId: key.accessKeyId,
        status: key.status,
        created: key.createDate.toISOString(),
        ageDays: Math.round(((init.now.getTime() - key.createDate.getTime()) / MS_PER_DAY) * 10) / 10,
        lastUsed: used.lastUsedDate === undefined ? null : { date: used.lastUsedDate.toISOString(), service: used.serviceName ?? null, region: used.region ?? null },
        inProfiles: (snapshot.keyHolders.get(key.accessKeyId) ?? []).map(formatHolder),
        managed: key.accessKeyId === own.accessKeyId,
      });
    }
    return { profile: profile.name, user: userName, account: identity.account, keys: infos, error: null };
  } catch (error) {
    const failure = error instanceof KeyupError ? error : new KeyupError(`keyup could not list the keys of profile ${profile.name}.`, { hint: 'Run again with --debug for details.', cause: error });
    return { profile: profile.name, user: null, account: null, keys: [], error: toErrorInfo(failure) };
  }
}

function staticKeyOf(snapshot: CredentialsSnapshot, name: string): AwsCredentials {
  const found = snapshot.profiles.find((profile) => profile.name === name);
  if (found === undefined || found.kind === 'other') {
    throw new KeyupError(`Profile ${name} holds no access key in ${snapshot.credentialsFile}.`, { code: 'profile-unusable', hint: `Add one with aws configure --profile ${name}.` });
  }
  return found.kind === 'temporary'
    ? { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey, sessionToken: found.sessionToken }
    : { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey };
}
