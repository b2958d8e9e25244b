import { describeAwsError, getAwsErrorCode, isKeyRefused, isRetryableAwsError, type AwsAction } from '../aws/errors.js';
import type { AccessKeyInfo, AwsCredentials, CallerIdentity, KeyApi, NewAccessKey } from '../aws/key-api.js';
import { retry, sleep, type RetryInit } from '../aws/retry.js';
import { KeyupError } from '../errors.js';
import { describeCause, maskKeyId, type Logger } from '../log.js';
import type { CredentialsFile, FileProfile } from './credentials-file.js';
import type { History, RotationRecord } from './history.js';
import type { Journal, JournalEntry } from './journal.js';
import type { RotationLock } from './lock.js';
import { assessKeyAge, type KeyAge } from './policy.js';
import { findActiveSession, type Deferral } from './sessions.js';
import { KeyNotVerifiedError, verifyNewKey, type VerifyInit } from './verify.js';

/** The settings of one managed profile that rotation uses (see the `[keyup]` keys of SPEC). */
export interface RotationSettings {
  readonly maxAgeDays: number;
  readonly warnAgeDays: number;
  readonly oldKey: 'delete' | 'deactivate';
  readonly deferOnSessions: boolean;
  /** Make the IAM calls as this profile (an identity with rights on the profile's user). */
  readonly manageWith?: string;
}

export interface RotateRequest {
  readonly profile: string;
  readonly settings: RotationSettings;
  /** `rotate now`: rotate whatever the key's age. */
  readonly ignoreAge?: boolean;
  /** `--force`: rotate even while temporary credentials are active. */
  readonly ignoreSessions?: boolean;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export type ProgressStep = 'recover' | 'identify' | 'assess' | 'defer' | 'make-room' | 'create' | 'verify' | 'write' | 'retire' | 'done';

/** What a person watching `rotate now` sees; key ids are masked and no secret is ever here. */
export interface ProgressEvent {
  readonly profile: string;
  readonly step: ProgressStep;
  readonly message: string;
}

/** The identity of a key that belongs to an IAM user (identify refuses any other). */
type IamUser = CallerIdentity & { readonly userName: string };

interface Checked {
  readonly profile: string;
  readonly user: IamUser;
  readonly keyId: string;
  readonly keyCreated: Date;
  readonly keyAge: KeyAge;
}

export type RotateOutcome =
  | ({ readonly kind: 'current' } & Checked)
  | ({ readonly kind: 'deferred'; readonly deferral: Deferral } & Checked)
  | {
      readonly kind: 'rotated';
      readonly profile: string;
      readonly userName: string;
      readonly oldKeyId: string;
      readonly newKeyId: string;
      readonly keyCreated: Date;
      readonly profiles: readonly string[];
    }
  | { readonly kind: 'failed'; readonly profile: string; readonly error: KeyupError };

export interface RotatorDeps {
  keyApi: KeyApi;
  credentials: CredentialsFile;
  journal: Journal;
  history: History;
  lock: RotationLock;
  logger: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  region?: string;
  /** For every IAM call but verification. */
  retryInit?: Omit<RetryInit, 'sleep' | 'random'>;
  verifyInit?: Pick<VerifyInit, 'consecutive' | 'timeoutMs' | 'confirmDelayMs' | 'initialDelayMs' | 'maxDelayMs'>;
}

/**
 * A key CreateAccessKey may have made although keyup never saw its answer was created around
 * the time the rotation began; this much clock difference between here and IAM is allowed.
 */
const CREATE_WINDOW_BEFORE_MS = 5 * 60_000;
/** Creating (with its retries) never takes longer than this after the journal says `creating`. */
const CREATE_WINDOW_AFTER_MS = 15 * 60_000;
/** As many as every other IAM call gets (see `retry`). */
const CREATE_ATTEMPTS = 6;

/**
 * Rotates the key of one profile as a journaled state machine:
 * identify → assess → defer? → make room → create (journal) → verify → write → retire.
 * Every step after `create` can be resumed from the journal after a crash.
 */
export class Rotator {
  private readonly deps: RotatorDeps;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(deps: RotatorDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? sleep;
    this.random = deps.random ?? Math.random;
  }

  /** Checks the profile and rotates it when it is due (or asked to), finishing any interrupted rotation first. */
  async rotate(request: RotateRequest): Promise<RotateOutcome> {
    try {
      const resumed = await this.resume(request.profile, request.onProgress);
      if (resumed.kind === 'finished') return resumed.outcome;
      // An interrupted CreateAccessKey was cleaned up: the rotation that was decided starts again.
      const restart = resumed.kind === 'restart' ? { ignoreAge: true, ignoreSessions: resumed.force || request.ignoreSessions } : {};
      try {
        return await this.checkAndRotate({ ...request, ...restart });
      } catch (error) {
        // Another keyup process rotated the key between this check and its lock (both woke at
        // the same schedule): look at the new key from the start, as a moment later would. Once.
        if (!(error instanceof KeyReplacedError)) throw error;
        return await this.checkAndRotate({ ...request, ...restart });
      }
    } catch (error) {
      return { kind: 'failed', profile: request.profile, error: toKeyupError(error) };
    }
  }

  /**
   * Finishes or undoes every rotation a crash interrupted. `except` names profiles the caller
   * rotates next anyway: rotate() resumes their journal itself and, knowing their settings, can
   * also start again a rotation whose CreateAccessKey was interrupted.
   */
  async recoverAll({ except = new Set<string>(), onProgress }: { except?: ReadonlySet<string>; onProgress?: (event: ProgressEvent) => void } = {}): Promise<RotateOutcome[]> {
    const outcomes: RotateOutcome[] = [];
    for (const profile of await this.deps.journal.listProfiles()) {
      if (except.has(profile)) continue;
      try {
        const resumed = await this.resume(profile, onProgress);
        if (resumed.kind === 'finished') outcomes.push(resumed.outcome);
      } catch (error) {
        outcomes.push({ kind: 'failed', profile, error: toKeyupError(error) });
      }
    }
    return outcomes;
  }

  private async resume(
    profile: string,
    onProgress: RotateRequest['onProgress'],
  ): Promise<{ kind: 'none' } | { kind: 'restart'; force: boolean } | { kind: 'finished'; outcome: RotateOutcome }> {
    if ((await this.deps.journal.read(profile)) === undefined) return { kind: 'none' };
    const lock = await this.deps.lock.acquire(profile);
    try {
      // Read again under the lock: another process may have finished it meanwhile.
      const entry = await this.deps.journal.read(profile);
      if (entry === undefined) return { kind: 'none' };
      const progress = this.progressFor(profile, onProgress);
      progress('recover', `Resuming the rotation of ${maskKeyId(entry.oldKeyId)} that stopped at step "${entry.step}".`);
      const profiles = await this.deps.credentials.readProfiles();
      if (entry.step === 'creating') {
        const signer = this.signerFor(profiles, profile, entry.manageWith);
        await this.removeKeysKeyupCannotName(entry, signer, profiles, progress);
        await this.deps.journal.remove(profile);
        return { kind: 'restart', force: entry.force };
      }
      return { kind: 'finished', outcome: await this.finish(entry, progress) };
    } finally {
      await lock.release();
    }
  }

  private async checkAndRotate(request: RotateRequest): Promise<RotateOutcome> {
    const { profile, settings } = request;
    const progress = this.progressFor(profile, request.onProgress);
    const profiles = await this.deps.credentials.readProfiles();
    const current = this.longTermKeyOf(profiles, profile);

    progress('identify', `Checking which IAM user the key ${maskKeyId(current.accessKeyId)} in profile ${profile} belongs to.`);
    const user = await this.identify(profile, current);
    const signer = settings.manageWith === undefined ? current : this.signerFor(profiles, profile, settings.manageWith);
    const target = { userName: user.userName, ...otherUser(settings.manageWith, user.arn) };
    const keys = await this.iam('iam:ListAccessKeys', profile, signer, target, () => this.deps.keyApi.listAccessKeys({ credentials: signer }, user.userName));
    const inUse = keys.find((key) => key.accessKeyId === current.accessKeyId);
    if (inUse === undefined) {
      throw new KeyupError(`IAM does not list the key ${maskKeyId(current.accessKeyId)} of profile ${profile} among the keys of user ${user.userName}.`, {
        hint: 'Check that the profile holds a key of that user; keyup tries again at the next check.',
      });
    }
    const keyAge = assessKeyAge(inUse.createDate, this.now(), settings);
    const checked: Checked = { profile, user, keyId: current.accessKeyId, keyCreated: inUse.createDate, keyAge };
    const limit = settings.maxAgeDays === 0 ? 'max_age_days = 0 rotates it at every check' : `rotated at ${settings.maxAgeDays} days`;
    progress('assess', `The key ${maskKeyId(current.accessKeyId)} of user ${user.userName} is ${keyAge.ageDays.toFixed(1)} days old (${limit}).`);
    if (keyAge.state !== 'due' && request.ignoreAge !== true) return { kind: 'current', ...checked };

    if (settings.deferOnSessions && request.ignoreSessions !== true) {
      const deferral = await findActiveSession(profiles.filter(isTemporary), { keyApi: this.deps.keyApi, now: this.now(), region: this.deps.region, retryInit: this.retryInit() });
      if (deferral !== undefined) {
        progress('defer', describeDeferral(deferral));
        return { kind: 'deferred', deferral, ...checked };
      }
    }

    const lock = await this.deps.lock.acquire(profile);
    try {
      const again = this.longTermKeyOf(await this.deps.credentials.readProfiles(), profile);
      if (again.accessKeyId !== current.accessKeyId) {
        throw new KeyReplacedError(`The key in profile ${profile} changed while keyup was checking it.`, { hint: 'keyup looks at it again at the next check.' });
      }
      await this.makeRoom(checked, keys, signer, target, progress);
      let entry: JournalEntry | undefined;
      try {
        entry = await this.createKey(request, checked, signer, progress);
        return await this.finish(entry, progress);
      } catch (error) {
        await this.record({ profile, at: this.now().toISOString(), oldKeyId: checked.keyId, newKeyId: entry?.newKey?.accessKeyId ?? null, ok: false, error: toKeyupError(error).message });
        throw error;
      }
    } finally {
      await lock.release();
    }
  }

  private async identify(profile: string, credentials: AwsCredentials): Promise<IamUser> {
    let identity: CallerIdentity;
    try {
      identity = await retry(() => this.deps.keyApi.getCallerIdentity({ credentials, region: this.deps.region }), this.retryInit());
    } catch (error) {
      if (isKeyRefused(error)) {
        throw new KeyupError(`The key ${maskKeyId(credentials.accessKeyId)} in profile ${profile} is not valid: AWS does not accept it.`, {
          hint: `Put a working access key in profile ${profile} (aws configure --profile ${profile}).`,
          cause: error,
        });
      }
      throw describeAwsError(error, { action: 'sts:GetCallerIdentity', profile, maskedKeyId: maskKeyId(credentials.accessKeyId) });
    }
    const { userName } = identity;
    if (userName === undefined) {
      throw new KeyupError(`The key in profile ${profile} belongs to ${identity.arn}, which is not an IAM user.`, {
        hint: 'keyup rotates only the access keys of IAM users; remove this profile from its configuration.',
      });
    }
    return { ...identity, userName };
  }

  /**
   * Two keys is IAM's limit. An inactive second key is nobody's working key and goes; an active
   * one may be in use anywhere, so it is never deleted silently.
   */
  private async makeRoom(checked: Checked, keys: readonly AccessKeyInfo[], signer: AwsCredentials, target: { userName: string; otherUserArn?: string }, progress: Progress): Promise<void> {
    const { profile, user } = checked;
    for (const other of keys.filter((key) => key.accessKeyId !== checked.keyId)) {
      if (other.status === 'Active') {
        throw new KeyupError(
          `User ${user.userName} already has a second active key ${other.accessKeyId} (created ${other.createDate.toISOString()}) besides the one in profile ${profile}, and keyup never deletes an active key it did not make.`,
          {
            hint: `If that key is not in use, deactivate it (aws iam update-access-key --user-name ${user.userName} --access-key-id ${other.accessKeyId} --status Inactive) and run keyup again.`,
          },
        );
      }
      await this.iam('iam:DeleteAccessKey', profile, signer, target, () => ignoreNoSuchEntity(this.deps.keyApi.deleteAccessKey({ credentials: signer }, other.accessKeyId, user.userName)));
      progress('make-room', `Deleted the inactive key ${maskKeyId(other.accessKeyId)} of user ${user.userName} to make room for the new key.`);
    }
  }

  private async createKey(request: RotateRequest, checked: Checked, signer: AwsCredentials, progress: Progress): Promise<JournalEntry> {
    const { profile, user } = checked;
    const userName = user.userName;
    const creating: JournalEntry = {
      version: 1,
      profile,
      step: 'creating',
      startedAt: this.now().toISOString(),
      force: request.ignoreSessions === true,
      user: { name: userName, arn: user.arn, account: user.account },
      oldKey: request.settings.oldKey,
      oldKeyId: checked.keyId,
      ...(request.settings.manageWith === undefined ? {} : { manageWith: request.settings.manageWith }),
    };
    // Durable before the call: if we die while it is in flight, recovery knows to look for a key.
    await this.deps.journal.write(creating);
    let created: NewAccessKey | undefined;
    for (let attempt = 1; created === undefined; attempt++) {
      try {
        created = await this.deps.keyApi.createAccessKey({ credentials: signer }, userName);
      } catch (error) {
        // IAM may have made the key and lost only its answer: remove it before anything else,
        // or it would hold the user's second key slot with a secret nobody has.
        const profiles = await this.deps.credentials.readProfiles();
        const removed = await this.removeKeysKeyupCannotName(creating, signer, profiles, progress);
        const worthRetrying = isRetryableAwsError(error) || (removed > 0 && getAwsErrorCode(error) === 'LimitExceeded');
        if (!worthRetrying || attempt >= CREATE_ATTEMPTS) {
          await this.deps.journal.remove(profile);
          throw describeAwsError(error, { action: 'iam:CreateAccessKey', profile, userName, ...otherUser(request.settings.manageWith, user.arn) });
        }
        await this.sleep(Math.floor(this.random() * 500 * 2 ** attempt));
      }
    }
    const entry: JournalEntry = {
      ...creating,
      step: 'created',
      newKey: { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey, createDate: created.createDate.toISOString() },
    };
    await this.deps.journal.write(entry);
    progress('create', `Created the new key ${maskKeyId(created.accessKeyId)} for user ${userName}.`);
    return entry;
  }

  /** Carries a rotation from `created`, `verified` or `written` to its end. */
  private async finish(start: JournalEntry, progress: Progress): Promise<RotateOutcome> {
    const newKey = start.newKey;
    if (newKey === undefined) throw new Error(`journal of ${start.profile} at step ${start.step} has no new key`);
    const fresh: AwsCredentials = { accessKeyId: newKey.accessKeyId, secretAccessKey: newKey.secretAccessKey };
    let entry = start;

    if (entry.step === 'created') {
      try {
        await verifyNewKey(fresh, entry.user.arn, {
          keyApi: this.deps.keyApi,
          now: this.now,
          sleep: this.sleep,
          random: this.random,
          region: this.deps.region,
          onAttempt: (outcome, streak) => this.deps.logger.debug({ profile: entry.profile, outcome, streak }, 'Verifying the new key with STS.'),
          ...this.deps.verifyInit,
        });
      } catch (error) {
        if (error instanceof KeyNotVerifiedError) await this.undo(entry, 'was not accepted by AWS', progress);
        throw error;
      }
      progress('verify', `AWS accepts the new key ${maskKeyId(newKey.accessKeyId)} as user ${entry.user.name}.`);
      entry = { ...entry, step: 'verified' };
      await this.deps.journal.write(entry);
    }

    let profiles: readonly string[] = [];
    if (entry.step === 'verified') {
      const holders = (await this.deps.credentials.readProfiles()).filter((p) => p.kind === 'long-term' && p.accessKeyId === newKey.accessKeyId);
      // A crash after the rename but before the journal said so: the file is already done.
      profiles = holders.length > 0 ? holders.map((p) => p.name) : await this.deps.credentials.replaceKey(entry.oldKeyId, fresh);
      if (profiles.length === 0) {
        await this.undo(entry, 'could not be written because no profile holds the old key any more', progress);
        throw new KeyupError(`No profile in ${this.deps.credentials.path} holds the old key ${maskKeyId(entry.oldKeyId)} any more, so keyup did not write the new key.`, {
          hint: 'The file was changed while keyup rotated it; the new key was deleted and nothing else changed.',
        });
      }
      progress('write', `Wrote the new key ${maskKeyId(newKey.accessKeyId)} to profile${profiles.length > 1 ? 's' : ''} ${profiles.join(', ')} in ${this.deps.credentials.path}.`);
      entry = { ...entry, step: 'written' };
      await this.deps.journal.write(entry);
    }

    await this.retireOldKey(entry, fresh, progress);
    if (profiles.length === 0) {
      profiles = (await this.deps.credentials.readProfiles()).filter((p) => p.kind === 'long-term' && p.accessKeyId === newKey.accessKeyId).map((p) => p.name);
    }
    await this.record({ profile: entry.profile, at: this.now().toISOString(), oldKeyId: entry.oldKeyId, newKeyId: newKey.accessKeyId, ok: true, profiles });
    await this.deps.journal.remove(entry.profile);
    progress('done', `Rotated profile ${entry.profile}: ${maskKeyId(entry.oldKeyId)} → ${maskKeyId(newKey.accessKeyId)}.`);
    return {
      kind: 'rotated',
      profile: entry.profile,
      userName: entry.user.name,
      oldKeyId: entry.oldKeyId,
      newKeyId: newKey.accessKeyId,
      keyCreated: new Date(newKey.createDate),
      profiles,
    };
  }

  /**
   * The old key goes only now that the new one works and is in the file. The call is signed by
   * the new key (or the `manage_with` identity), not the old one: a retry after a lost answer
   * then meets NoSuchEntity, which means done, where a retry signed by a key that the first
   * attempt already deleted or deactivated would be refused and could not tell. It also keeps
   * working if someone disabled the old key meanwhile. A refusal of the new key is only IAM
   * still propagating it, and is waited out.
   */
  private async retireOldKey(entry: JournalEntry, fresh: AwsCredentials, progress: Progress): Promise<void> {
    const signer = entry.manageWith === undefined ? fresh : this.signerFor(await this.deps.credentials.readProfiles(), entry.profile, entry.manageWith);
    const { keyApi } = this.deps;
    const userName = entry.user.name;
    const action: AwsAction = entry.oldKey === 'delete' ? 'iam:DeleteAccessKey' : 'iam:UpdateAccessKey';
    try {
      await retry(
        () =>
          ignoreNoSuchEntity(
            entry.oldKey === 'delete'
              ? keyApi.deleteAccessKey({ credentials: signer }, entry.oldKeyId, userName)
              : keyApi.updateAccessKey({ credentials: signer }, entry.oldKeyId, 'Inactive', userName),
          ),
        { attempts: 8, baseDelayMs: 500, maxDelayMs: 8_000, ...this.retryInit(), isRetryable: (error) => isRetryableAwsError(error) || isKeyRefused(error) },
      );
    } catch (error) {
      const cause = describeAwsError(error, { action, profile: entry.profile, userName, ...otherUser(entry.manageWith, entry.user.arn) });
      throw new KeyupError(`The new key of profile ${entry.profile} is in place, but the old key ${maskKeyId(entry.oldKeyId)} could not be retired: ${cause.message}`, {
        hint: `${cause.hint ?? ''} keyup retries at the next check.`.trim(),
        cause: error,
      });
    }
    progress('retire', `${entry.oldKey === 'delete' ? 'Deleted' : 'Deactivated'} the old key ${maskKeyId(entry.oldKeyId)}.`);
  }

  /** Takes back a new key that was never written to the file; the old key stays in use. */
  private async undo(entry: JournalEntry, why: string, progress: Progress): Promise<void> {
    const newKeyId = entry.newKey?.accessKeyId;
    if (newKeyId === undefined) return;
    const signer = this.signerFor(await this.deps.credentials.readProfiles(), entry.profile, entry.manageWith, entry.oldKeyId);
    try {
      await retry(() => ignoreNoSuchEntity(this.deps.keyApi.deleteAccessKey({ credentials: signer }, newKeyId, entry.user.name)), this.retryInit());
    } catch (error) {
      // The journal stays, so the next run tries again; the file still holds the old key.
      throw new KeyupError(`The new key ${maskKeyId(newKeyId)} of profile ${entry.profile} ${why}, and deleting it again failed too.`, {
        hint: 'The old key is still in use; keyup tries to delete the new key again at the next check.',
        cause: error,
      });
    }
    await this.deps.journal.remove(entry.profile);
    progress('verify', `Deleted the new key ${maskKeyId(newKeyId)} again; the old key ${maskKeyId(entry.oldKeyId)} stays in use.`);
  }

  /**
   * Deletes the keys of the user that keyup may have made without seeing their secret: not the
   * old key, in no profile of the file, and created around the time the rotation began. Before
   * CreateAccessKey the user had only the old key (make room ensured it), so such a key is ours.
   */
  private async removeKeysKeyupCannotName(entry: JournalEntry, signer: AwsCredentials, profiles: readonly FileProfile[], progress: Progress): Promise<number> {
    const known = new Set([entry.oldKeyId, ...profiles.flatMap((p) => (p.kind === 'other' ? [] : [p.accessKeyId]))]);
    const started = Date.parse(entry.startedAt);
    const userName = entry.user.name;
    const target = { userName, ...otherUser(entry.manageWith, entry.user.arn) };
    const keys = await this.iam('iam:ListAccessKeys', entry.profile, signer, target, () => this.deps.keyApi.listAccessKeys({ credentials: signer }, userName));
    const orphans = keys.filter((key) => {
      const created = key.createDate.getTime();
      return !known.has(key.accessKeyId) && created >= started - CREATE_WINDOW_BEFORE_MS && created <= started + CREATE_WINDOW_AFTER_MS;
    });
    for (const orphan of orphans) {
      await this.iam('iam:DeleteAccessKey', entry.profile, signer, target, () =>
        ignoreNoSuchEntity(this.deps.keyApi.deleteAccessKey({ credentials: signer }, orphan.accessKeyId, userName)),
      );
      progress('recover', `Deleted the key ${maskKeyId(orphan.accessKeyId)} that an interrupted CreateAccessKey made for user ${userName}.`);
    }
    return orphans.length;
  }

  /** The history is informative: failing to write it never fails a rotation. */
  private async record(record: RotationRecord): Promise<void> {
    try {
      await this.deps.history.append(record);
    } catch (error) {
      this.deps.logger.warn({ profile: record.profile, cause: describeCause(error) }, `Could not record the rotation of profile ${record.profile} in ${this.deps.history.path}.`);
    }
  }

  /** An IAM call with bounded retries, its failure said in one sentence. */
  private async iam<T>(action: AwsAction, profile: string, signer: AwsCredentials, target: { userName: string; otherUserArn?: string }, call: () => Promise<T>): Promise<T> {
    try {
      return await retry(call, this.retryInit());
    } catch (error) {
      throw describeAwsError(error, { action, profile, maskedKeyId: maskKeyId(signer.accessKeyId), ...target });
    }
  }

  private retryInit(): RetryInit {
    return {
      sleep: this.sleep,
      random: this.random,
      onRetry: (error, attempt, delayMs) => this.deps.logger.debug({ cause: describeCause(error), attempt, delayMs }, 'Retrying an AWS call that may succeed later.'),
      ...this.deps.retryInit,
    };
  }

  private longTermKeyOf(profiles: readonly FileProfile[], profile: string): AwsCredentials {
    const found = profiles.find((p) => p.name === profile);
    if (found === undefined) {
      throw new KeyupError(`Profile ${profile} is not in the credentials file ${this.deps.credentials.path}.`, {
        hint: `Add it (aws configure --profile ${profile}) or stop managing it in keyup's configuration.`,
      });
    }
    if (found.kind !== 'long-term') {
      const what = found.kind === 'temporary' ? 'holds temporary credentials' : 'gets its credentials another way (a role, SSO, credential_process, or keys in the AWS config file)';
      throw new KeyupError(`Profile ${profile} ${what}, and keyup rotates only long-term access keys in the credentials file.`, {
        hint: `Stop managing profile ${profile} in keyup's configuration.`,
      });
    }
    return { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey };
  }

  /**
   * Who signs IAM calls for `profile`: its `manage_with` profile, else the profile's own key
   * (`keyId` when given: the old key may still be found under it).
   */
  private signerFor(profiles: readonly FileProfile[], profile: string, manageWith: string | undefined, keyId?: string): AwsCredentials {
    if (manageWith === undefined) {
      const own = keyId === undefined ? undefined : profiles.find((p): p is Extract<FileProfile, { kind: 'long-term' }> => p.kind === 'long-term' && p.accessKeyId === keyId);
      return own === undefined ? this.longTermKeyOf(profiles, profile) : { accessKeyId: own.accessKeyId, secretAccessKey: own.secretAccessKey };
    }
    const admin = profiles.find((p) => p.name === manageWith);
    if (admin === undefined || admin.kind === 'other') {
      throw new KeyupError(`Profile ${manageWith}, which manages profile ${profile}, holds no access key in ${this.deps.credentials.path}.`, {
        hint: `Put credentials in profile ${manageWith}, or change manage_with for profile ${profile}.`,
      });
    }
    const { accessKeyId, secretAccessKey } = admin;
    return admin.kind === 'temporary' ? { accessKeyId, secretAccessKey, sessionToken: admin.sessionToken } : { accessKeyId, secretAccessKey };
  }

  private progressFor(profile: string, onProgress: RotateRequest['onProgress']): Progress {
    return (step, message) => {
      this.deps.logger.info({ profile, step }, message);
      onProgress?.({ profile, step, message });
    };
  }
}

type Progress = (step: ProgressStep, message: string) => void;

/** The profile's key was replaced between the check and the lock. */
class KeyReplacedError extends KeyupError {}

export function describeDeferral(deferral: Deferral): string {
  if (deferral.reason === 'sts-unreachable') {
    return `Deferred: STS could not be asked whether the session in profile ${deferral.profile} is still active; keyup asks again at the next check (if this persists, check the network or HTTPS_PROXY).`;
  }
  const until = deferral.until === undefined ? 'until its session ends' : `until ${deferral.until.toISOString()}`;
  return `Deferred ${until}: profile ${deferral.profile} holds temporary credentials that AWS still accepts.`;
}

function isTemporary(profile: FileProfile): profile is Extract<FileProfile, { kind: 'temporary' }> {
  return profile.kind === 'temporary';
}

/** For a `manage_with` profile, AccessDenied's policy must name the managed user, not the signer. */
function otherUser(manageWith: string | undefined, userArn: string): { otherUserArn?: string } {
  return manageWith === undefined ? {} : { otherUserArn: userArn };
}

/** Deleting or deactivating a key that is already gone is done, not failed. */
async function ignoreNoSuchEntity(call: Promise<void>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (getAwsErrorCode(error) !== 'NoSuchEntity') throw error;
  }
}

function toKeyupError(error: unknown): KeyupError {
  if (error instanceof KeyupError) return error;
  return new KeyupError(`An unexpected error stopped the rotation (${error instanceof Error ? error.name : 'unknown'}).`, {
    hint: 'Run again with --debug for details.',
    cause: error,
  });
}
