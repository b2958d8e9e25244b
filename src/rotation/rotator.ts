import { describeAwsError, getAwsErrorCode, isExplicitDeny, isKeyRefused, isRetryableAwsError, type AwsAction } from '../aws/errors.js';
import { parseUserArn } from '../aws/arn.js';
import type { AccessKeyInfo, AccessKeyList, AwsCredentials, KeyApi, MfaDeviceInfo, NewAccessKey } from '../aws/key-api.js';
import { retry, sleep, type RetryInit } from '../aws/retry.js';
import type { Step, StepData } from '../engine/events.js';
import { toErrorInfo, type CheckedKey, type KeyHolder, type Outcome } from '../engine/outcome.js';
import { KeyupError } from '../errors.js';
import { describeFsError } from '../fs/describe-fs-error.js';
import { getErrorCode } from '../fs/fs.js';
import { describeCause, type Logger } from '../log.js';
import { describeDeferral } from '../present/deferral.js';
import { isKeyId, maskKeyId } from '../present/key-id.js';
import { formatHolders } from '../present/outcome-lines.js';
import type { CredentialsFile, FileProfile, FileView } from './credentials-file.js';
import type { History, RotationRecord } from './history.js';
import type { CreateWindow, Journal, JournalEntry } from './journal.js';
import type { KeyLocks } from './lock.js';
import { assessKeyAge } from './policy.js';
import { identifyIamUser, isAbort, type IamUser } from './identify.js';
import { findActiveSession } from './sessions.js';
import type { Hook, HookRunner } from './hooks.js';
import { KeyNotVerifiedError, verifyNewKey, type VerifyAttempt, type VerifyInit } from './verify.js';
import { isTotpDevice, makeMfaSession, needsMfaError, noUsableDeviceError, sessionExpiredError, type MfaCode, type MfaSubject } from './mfa.js';

/** The settings of one managed profile that rotation uses (see the `[keyup]` keys of SPEC). */
export interface RotationSettings {
  readonly maxAgeDays: number;
  readonly warnAgeDays: number;
  readonly oldKey: 'delete' | 'deactivate';
  readonly deferOnSessions: boolean;
  /** Make the IAM calls as this profile (an identity with rights on the profile's user). */
  readonly manageWith?: string;
  /**
   * Why keyup manages the profile: a `[profile NAME]` section, `$AWS_PROFILE`, or the default
   * (`default`, when the configuration names none). Messages tell a person which, so they know
   * what to change.
   */
  readonly managedBy?: 'config' | 'env' | 'default';
  /** `post_rotate`: run, in order, once the new key is in place and before the old one is retired. */
  readonly postRotate?: readonly Hook[];
}

export interface RotateRequest {
  readonly profile: string;
  readonly settings: RotationSettings;
  /** `rotate now`: rotate whatever the key's age. */
  readonly ignoreAge?: boolean;
  /** `--force`: rotate even while temporary credentials are active. */
  readonly ignoreSessions?: boolean;
  /** Keys made earlier in the same check (for another profile holding the same key): never due again in it. */
  readonly freshKeys?: ReadonlySet<string>;
  /**
   * Ends every wait and call at once (shutdown). The rotation stops at the next step boundary or
   * inside the wait; its journal leaves it resumable, and the outcome is `failed` with code `aborted`.
   */
  readonly signal?: AbortSignal;
  /** Each step as it happens (key ids whole in `data`, masked in `text`); a listener that throws is ignored. */
  readonly onStep?: (step: Step, text: string, data: StepData) => void;
  /**
   * The code the person gave (`rotate now --mfa-code`, or asked for): where IAM wants MFA, this
   * rotation's IAM calls are signed by a GetSessionToken session made with it.
   */
  readonly mfa?: MfaCode;
}

export interface RotatorDeps {
  keyApi: KeyApi;
  credentials: CredentialsFile;
  journal: Journal;
  history: History;
  locks: KeyLocks;
  logger: Logger;
  now?: () => Date;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  region?: string;
  /** For every IAM call but verification. */
  retryInit?: Omit<RetryInit, 'sleep' | 'random'>;
  verifyInit?: Pick<VerifyInit, 'consecutive' | 'timeoutMs' | 'confirmDelayMs' | 'initialDelayMs' | 'maxDelayMs'>;
  /** Runs `post_rotate` hooks (child processes); without it a rotation with hooks fails before retiring. */
  runHook?: HookRunner;
}

/**
 * CreateAccessKey is given this long to answer; keyup gives up on it after that. Whatever IAM did
 * with the request happened by then, so a key it made for an unanswered call was created within
 * this long (plus the slack below) of the call, by IAM's clock.
 */
const CREATE_TIMEOUT_MS = 20_000;
/** IAM's answers carry whole seconds and arrive after a round trip; its servers' clocks differ a little. */
const CREATE_WINDOW_BEFORE_MS = 5_000;
const CREATE_WINDOW_AFTER_MS = CREATE_TIMEOUT_MS + 10_000;
/** As many as every other IAM call gets (see `retry`). */
const CREATE_ATTEMPTS = 6;
/** How often keyup writes the new key again when another program keeps writing the old one back. */
const REAPPLY_ATTEMPTS = 3;
/**
 * How long a finished rotation's journal is kept as the safety copy of the new secret. An editor
 * that had the file open, a dotfile sync or a restore from backup can write the retired key back
 * long after the rotation; a daily `keyupd --once` must still find the copy at its next run.
 */
const SAFETY_COPY_MS = 25 * 3600_000;

/** One rotation's voice: what it reports as it goes, and what it keeps for the outcome. */
interface Run {
  readonly profile: string;
  readonly notes: string[];
  readonly signal: AbortSignal | undefined;
  /** The request's MFA code, if it came with one. */
  readonly mfa: MfaCode | undefined;
  /**
   * The MFA sessions this rotation signs with, by `Signer.identity`: once IAM wanted MFA from an
   * identity, every later call of the rotation made as that identity uses its session.
   */
  readonly sessions: Map<string, Promise<AwsCredentials>>;
  progress(step: Step, text: string, data?: StepData): void;
  /** Something the person must hear about even in a one-line summary (a deleted key, a repaired file). */
  note(step: Step, text: string, data?: StepData): void;
}

/**
 * Who signs a rotation's IAM calls: the profile's key (the old one, or the new one at the end),
 * or its `manage_with` profile's credentials, with what keyup knows about their MFA.
 */
interface Signer extends AwsCredentials {
  /**
   * Which identity signs, so that its MFA session serves every key of it: `user:ARN` for the
   * rotated user's own keys (old and new alike), `profile:NAME` for a `manage_with` profile.
   */
  readonly identity: string;
  /** That identity for a person: `user alice`, `the IAM user of profile admin`. */
  readonly who: string;
  /** The profile whose AWS config section names the MFA device (`mfa_serial`), if it does. */
  readonly mfaSerial?: { readonly serialNumber: string; readonly profile: string };
}

/** The identity of a key that belongs to an IAM user (identify refuses any other). */

/** What the check found before deciding, for the outcome and the steps after. */
interface Checked extends CheckedKey {
  readonly iamUser: IamUser;
}

/** When the user's keys were listed: IAM's clock at that moment, and ours. */
interface Listing {
  readonly keys: readonly AccessKeyInfo[];
  readonly serverTime: Date | undefined;
  readonly localTime: Date;
}

/**
 * Rotates the key of one profile as a journaled state machine:
 * identify → assess → defer? → make room → create (journal) → verify → write → confirm → retire.
 * Every step after `create` can be resumed from the journal after a crash.
 */
export class Rotator {
  private readonly deps: RotatorDeps;
  private readonly now: () => Date;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(deps: RotatorDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? sleep;
    this.random = deps.random ?? Math.random;
  }

  /** Checks the profile and rotates it when it is due (or asked to), finishing any interrupted rotation first. */
  async rotate(request: RotateRequest): Promise<Outcome> {
    const run = this.startRun(request.profile, request.onStep, request.signal, request.mfa);
    try {
      const resumed = await this.resume(run);
      if (resumed.kind === 'finished' || resumed.kind === 'busy') return resumed.outcome;
      // An interrupted CreateAccessKey was cleaned up: the rotation that was decided starts again.
      const restart = resumed.kind === 'restart' ? { ignoreAge: true, ignoreSessions: resumed.force || request.ignoreSessions } : {};
      try {
        // The files as the look at a finished rotation's safety copy just read them, if it did.
        return await this.checkAndRotate({ ...request, ...restart }, run, resumed.kind === 'none' ? resumed.view : undefined);
      } catch (error) {
        // Another keyup process rotated the key between this check and its lock (both woke at
        // the same schedule): look at the new key from the start, as a moment later would. Once.
        if (!(error instanceof KeyReplacedError)) throw error;
        return await this.checkAndRotate({ ...request, ...restart }, run);
      }
    } catch (error) {
      return this.failed(run, error);
    }
  }

  /**
   * Finishes or undoes every rotation a crash interrupted. `except` names profiles the caller
   * rotates next anyway: rotate() resumes their journal itself and, knowing their settings, can
   * also start again a rotation whose CreateAccessKey was interrupted.
   */
  async recoverAll({ except = new Set<string>(), signal }: { except?: ReadonlySet<string>; signal?: AbortSignal } = {}): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const profile of await this.deps.journal.listProfiles()) {
      if (except.has(profile)) continue;
      const run = this.startRun(profile, undefined, signal, undefined);
      try {
        const resumed = await this.resume(run);
        if (resumed.kind === 'finished' || resumed.kind === 'busy') outcomes.push(resumed.outcome);
      } catch (error) {
        outcomes.push(this.failed(run, error));
      }
    }
    return outcomes;
  }

  /**
   * Takes up the journal of `run.profile`, under the lock of the key it rotates away: another
   * process may be in the middle of that very rotation (then the profile is busy). A finished
   * rotation's safety copy that has nothing to do (no file holds the retired key, and it is not
   * old enough to go) is looked at without the lock, since nothing is changed; that look's view
   * of the files comes back with `none`.
   */
  private async resume(run: Run): Promise<{ kind: 'none'; view?: FileView } | { kind: 'restart'; force: boolean } | { kind: 'finished' | 'busy'; outcome: Outcome }> {
    const { profile } = run;
    const found = await this.deps.journal.read(profile);
    if (found === undefined) return { kind: 'none' };
    if (found.step === 'retired') {
      const view = await this.deps.credentials.read();
      if (!this.needsKeeping(found, view)) return { kind: 'none', view };
    }
    const taken = await this.deps.locks.acquire(found.oldKeyId, profile);
    if ('busy' in taken) return { kind: 'busy', outcome: this.busy(run, taken.busy) };
    const lock = taken.held;
    try {
      // Read again under the lock: another process may have finished it meanwhile.
      const journaled = await this.deps.journal.read(profile);
      if (journaled === undefined) return { kind: 'none' };
      if (journaled.step === 'retired') {
        await this.keepNewKeyInPlace(journaled, run);
        return { kind: 'none' };
      }
      run.progress('recover', `Resuming the rotation of ${maskKeyId(journaled.oldKeyId)} that stopped at step "${journaled.step}".`, { oldKeyId: journaled.oldKeyId, journalStep: journaled.step });
      const view = await this.deps.credentials.read();
      const entry = reachedStep(journaled, view);
      if (entry.step === 'creating') {
        const signer = this.signerFor(view.profiles, profile, entry.manageWith, { userArn: entry.user.arn });
        await this.removeKeysKeyupMade(entry, signer, view, await this.listKeys(entry, signer, run, true), run);
        await this.deps.journal.remove(profile);
        return { kind: 'restart', force: entry.force };
      }
      if (entry.step === 'created' && !(await this.newKeyExists(entry, view, run))) {
        // An undo whose DeleteAccessKey answer was lost: the key is gone, nothing is half done.
        run.progress('recover', `The new key ${maskKeyId(entry.newKey?.accessKeyId ?? '')} was already deleted again; starting the rotation afresh.`, { newKeyId: entry.newKey?.accessKeyId ?? null });
        await this.deps.journal.remove(profile);
        return { kind: 'restart', force: entry.force };
      }
      return { kind: 'finished', outcome: await this.finish(entry, run) };
    } finally {
      await lock.release();
    }
  }

  /** `known`: the files as read a moment ago in this run, if they were. */
  private async checkAndRotate(request: RotateRequest, run: Run, known?: FileView): Promise<Outcome> {
    const { profile, settings } = request;
    const view = known ?? (await this.deps.credentials.read());
    const current = this.longTermKeyOf(view.profiles, profile, settings.managedBy);

    run.progress('identify', `Checking which IAM user the key ${maskKeyId(current.accessKeyId)} in profile ${profile} belongs to.`, { keyId: current.accessKeyId });
    const iamUser = await this.identify(profile, current, run.signal);
    const signer: Signer =
      settings.manageWith === undefined
        ? { ...current, identity: `user:${iamUser.arn}`, who: `user ${iamUser.userName}`, ...mfaSerialOf(view.profiles, profile) }
        : this.signerFor(view.profiles, profile, settings.manageWith);
    const target = { userName: iamUser.userName, ...otherUser(settings.manageWith, iamUser.arn) };
    let listed: AccessKeyList;
    try {
      listed = await this.iam('iam:ListAccessKeys', run, signer, target, (credentials, signal) => this.deps.keyApi.listAccessKeys({ credentials, ...signal }, iamUser.userName));
    } catch (error) {
      // IAM shows the keys only with MFA, and no code came. A key keyup made has its age on
      // record: a key that is not due yet needs no code today, and nobody is asked for one.
      if (!(error instanceof KeyupError) || error.code !== 'needs-mfa' || request.ignoreAge === true) throw error;
      const created = await this.recordedCreation(current.accessKeyId);
      if (created === undefined) throw error;
      const checked = this.assess(run, settings, iamUser, current.accessKeyId, created);
      if (checked.ageState === 'due') throw error;
      run.progress('assess', `IAM lists the keys of user ${iamUser.userName} only with MFA; keyup made this key on ${created.toISOString()}, so no code is needed before it is due.`, { keyId: current.accessKeyId });
      const { iamUser: _user, ...key } = checked;
      return { kind: 'current', ...key, notes: run.notes };
    }
    const listing: Listing = { ...listed, localTime: this.now() };
    const inUse = listing.keys.find((key) => key.accessKeyId === current.accessKeyId);
    if (inUse === undefined) {
      throw new KeyupError(`IAM does not list the key ${maskKeyId(current.accessKeyId)} of profile ${profile} among the keys of user ${iamUser.userName}.`, {
        code: 'profile-unusable',
        hint: 'Check that the profile holds a key of that user; keyup tries again at the next check.',
      });
    }
    const checked = this.assess(run, settings, iamUser, current.accessKeyId, inUse.createDate);
    const { iamUser: _user, ...key } = checked;
    if (request.freshKeys?.has(current.accessKeyId) === true) {
      run.progress('assess', `The key ${maskKeyId(current.accessKeyId)} was made in this check, by the rotation of another profile that held the same key.`, { keyId: current.accessKeyId });
      return { kind: 'current', ...key, notes: run.notes };
    }
    if (checked.ageState !== 'due' && request.ignoreAge !== true) return { kind: 'current', ...key, notes: run.notes };

    if (settings.deferOnSessions && request.ignoreSessions !== true) {
      const found = await findActiveSession(view.profiles.filter(isTemporary), { keyApi: this.deps.keyApi, now: this.now(), region: this.deps.region, retryInit: this.retryInit(run) });
      if (found !== undefined) {
        if (found.cause !== undefined) this.deps.logger.warn({ profile, cause: describeCause(found.cause) }, 'STS could not be asked about a session.');
        run.progress('defer', describeDeferral(found.deferral), { sessionProfile: found.deferral.profile, until: found.deferral.until, reason: found.deferral.reason });
        return { kind: 'deferred', deferral: found.deferral, ...key, notes: run.notes };
      }
    }

    // mfa_serial says IAM wants MFA for key changes: with no code, nothing is made; with one, its
    // session is made now, before anything changes (a wrong code then changes nothing).
    if (signer.mfaSerial !== undefined) await this.withMfa(run, signer, async () => undefined, { ...(run.signal === undefined ? {} : { signal: run.signal }), required: true });

    // Under the key's lock from here to the end: the steps that change IAM or the files, which
    // two processes must never do to one key at once (two new keys for one user, two writers).
    // The steps before it only read, and a process that finds the lock held leaves the profile
    // to its holder (busy) rather than wait.
    const taken = await this.deps.locks.acquire(current.accessKeyId, profile);
    if ('busy' in taken) return this.busy(run, taken.busy);
    const lock = taken.held;
    try {
      // One read under the lock serves the three that need the files as they are now: is the key
      // still this one, could the file be rewritten, and the content the rewrite edits.
      const locked = await this.deps.credentials.read();
      const again = this.longTermKeyOf(locked.profiles, profile, settings.managedBy);
      if (again.accessKeyId !== current.accessKeyId) {
        throw new KeyReplacedError(`The key in profile ${profile} changed while keyup was checking it.`, { hint: 'keyup looks at it again at the next check.', code: 'credentials-file' });
      }
      // Before anything changes in IAM: a key keyup could not put in place would only be undone.
      await this.deps.credentials.checkCanReplace(current.accessKeyId, locked);
      run.signal?.throwIfAborted();
      const remaining = await this.makeRoom(checked, listing.keys, signer, target, run);
      let entry: JournalEntry | undefined;
      try {
        entry = await this.createKey(request, checked, signer, { ...listing, keys: remaining }, run);
        return await this.finish(entry, run, locked);
      } catch (error) {
        if (!isAbort(error, run.signal)) {
          await this.record({ profile, at: this.now().toISOString(), oldKeyId: checked.keyId, newKeyId: entry?.newKey?.accessKeyId ?? null, ok: false, error: toKeyupError(error, profile).message });
        }
        throw error;
      }
    } finally {
      await lock.release();
    }
  }

  /** The key's age against the profile's limits, said as progress. */
  private assess(run: Run, settings: RotationSettings, iamUser: IamUser, keyId: string, created: Date): Checked {
    const age = assessKeyAge(created, this.now(), settings);
    const limit = settings.maxAgeDays === 0 ? 'max_age_days = 0 rotates it at every check' : `rotated at ${settings.maxAgeDays} days`;
    run.progress('assess', `The key ${maskKeyId(keyId)} of user ${iamUser.userName} is ${age.ageDays.toFixed(1)} days old (${limit}).`, {
      keyId,
      ageDays: age.ageDays,
      ageState: age.state,
    });
    return {
      profile: run.profile,
      user: iamUser.userName,
      account: iamUser.account,
      keyId,
      keyCreated: created.toISOString(),
      ageDays: age.ageDays,
      maxAgeDays: settings.maxAgeDays,
      ageState: age.state,
      iamUser,
    };
  }

  /** When IAM created a key that keyup made, as its history recorded; undefined for any other key. */
  private async recordedCreation(keyId: string): Promise<Date | undefined> {
    const records = await this.deps.history.read().catch(() => []);
    const made = records.findLast((record) => record.ok && record.newKeyId === keyId && typeof record.newKeyCreated === 'string');
    const time = made?.newKeyCreated === undefined ? Number.NaN : Date.parse(made.newKeyCreated);
    return Number.isNaN(time) ? undefined : new Date(time);
  }

  private identify(profile: string, credentials: AwsCredentials, signal: AbortSignal | undefined): Promise<IamUser> {
    return identifyIamUser(this.deps.keyApi, profile, credentials, { ...(this.deps.region === undefined ? {} : { region: this.deps.region }), retryInit: this.retryInit({ signal }) });
  }

  /**
   * Two keys is IAM's limit. An inactive second key is nobody's working key and goes; an active
   * one may be in use anywhere, so it is never deleted silently. Returns the keys left.
   */
  private async makeRoom(checked: Checked, keys: readonly AccessKeyInfo[], signer: Signer, target: { userName: string; otherUserArn?: string }, run: Run): Promise<AccessKeyInfo[]> {
    const { profile, user } = checked;
    for (const other of keys.filter((key) => key.accessKeyId !== checked.keyId)) {
      if (other.status === 'Active') {
        throw new KeyupError(
          `User ${user} already has a second active key ${other.accessKeyId} (created ${other.createDate.toISOString()}) besides the one in profile ${profile}, and keyup never deletes an active key it did not make.`,
          {
            code: 'second-active-key',
            hint: `If that key is not in use, deactivate it (aws iam update-access-key --user-name ${user} --access-key-id ${other.accessKeyId} --status Inactive) and run keyup again.`,
          },
        );
      }
      await this.iam('iam:DeleteAccessKey', run, signer, target, (credentials, signal) => ignoreNoSuchEntity(this.deps.keyApi.deleteAccessKey({ credentials, ...signal }, other.accessKeyId, user)));
      run.note('make-room', `Deleted the inactive key ${maskKeyId(other.accessKeyId)} of user ${user} to make room for the new key.`, { deletedKeyId: other.accessKeyId });
    }
    return keys.filter((key) => key.accessKeyId === checked.keyId);
  }

  private async createKey(request: RotateRequest, checked: Checked, signer: Signer, listing: Listing, run: Run): Promise<JournalEntry> {
    const { profile, iamUser: user } = checked;
    const userName = user.userName;
    const base: JournalEntry = {
      version: 2,
      profile,
      step: 'creating',
      startedAt: this.now().toISOString(),
      force: request.ignoreSessions === true,
      user: { name: userName, arn: user.arn, account: user.account },
      oldKey: request.settings.oldKey,
      oldKeyId: checked.keyId,
      knownKeyIds: listing.keys.map((key) => key.accessKeyId),
      ...(request.settings.manageWith === undefined ? {} : { manageWith: request.settings.manageWith }),
      // Fixed when the rotation begins, like old_key: a resumed rotation runs the same hooks.
      ...(request.settings.postRotate === undefined || request.settings.postRotate.length === 0 ? {} : { hooks: request.settings.postRotate.map(({ command, argv }) => ({ command, argv: [...argv] })) }),
    };
    let latest = listing;
    let created: NewAccessKey | undefined;
    for (let attempt = 1; created === undefined; attempt++) {
      const window = this.createWindowFrom(latest);
      const creating: JournalEntry = { ...base, ...(window === undefined ? {} : { createWindow: window }) };
      // Durable before the call: if we die while it is in flight, recovery knows to look for a key.
      await this.deps.journal.write(creating);
      run.progress('create', `Creating a new key for user ${userName}.`, { attempt });
      try {
        created = await this.withMfa(
          run,
          signer,
          (credentials) => {
            const deadline = AbortSignal.timeout(CREATE_TIMEOUT_MS);
            return this.deps.keyApi.createAccessKey({ credentials, signal: run.signal === undefined ? deadline : AbortSignal.any([deadline, run.signal]) }, userName);
          },
          run.signal === undefined ? {} : { signal: run.signal },
        );
      } catch (error) {
        // Shutting down: the journal says `creating`, and the next start looks for the key.
        if (isAbort(error, run.signal)) throw error;
        // IAM refused the call for want of MFA (or the MFA session could not be made or ran
        // out): it made no key, so there is nothing to look for.
        if (error instanceof KeyupError) {
          await this.deps.journal.remove(profile);
          throw error;
        }
        // IAM may have made the key and lost only its answer: remove it before anything else,
        // or it would hold the user's second key slot with a secret nobody has.
        const view = await this.deps.credentials.read();
        latest = await this.listKeys(creating, signer, run, false);
        const removed = await this.removeKeysKeyupMade(creating, signer, view, latest, run);
        const worthRetrying = isRetryableAwsError(error) || isAbortTimeout(error) || (removed > 0 && getAwsErrorCode(error) === 'LimitExceeded');
        if (!worthRetrying || attempt >= CREATE_ATTEMPTS) {
          await this.deps.journal.remove(profile);
          throw describeAwsError(error, { action: 'iam:CreateAccessKey', profile, userName, ...otherUser(request.settings.manageWith, user.arn) });
        }
        await this.sleep(Math.floor(this.random() * 500 * 2 ** attempt), run.signal);
      }
    }
    const entry: JournalEntry = {
      ...base,
      step: 'created',
      newKey: { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey, createDate: created.createDate.toISOString() },
    };
    await this.deps.journal.write(entry);
    run.progress('create', `Created the new key ${maskKeyId(created.accessKeyId)} for user ${userName}.`, { newKeyId: created.accessKeyId });
    return entry;
  }

  /**
   * When a CreateAccessKey sent now could have IAM create its key, by IAM's clock: the `Date` of
   * the last listing moved on by the time that passed here since (a difference of this machine's
   * clock readings, which does not care how far that clock is from IAM's). Unknown without a `Date`.
   */
  private createWindowFrom(listing: Listing): CreateWindow | undefined {
    if (listing.serverTime === undefined) return undefined;
    const iamNow = listing.serverTime.getTime() + Math.max(0, this.now().getTime() - listing.localTime.getTime());
    return { from: new Date(iamNow - CREATE_WINDOW_BEFORE_MS).toISOString(), to: new Date(iamNow + CREATE_WINDOW_AFTER_MS).toISOString() };
  }

  /**
   * Carries a rotation from `created`, `verified` or `written` to its end. The journal is not
   * written again until `retired` (see JournalStep). `read`: the files as read before the key was
   * made, for the rewrite to start from (it reads them again if they changed since).
   */
  private async finish(start: JournalEntry, run: Run, read?: FileView): Promise<Outcome> {
    const newKey = start.newKey;
    if (newKey === undefined) throw new Error(`journal of ${start.profile} at step ${start.step} has no new key`);
    const fresh: AwsCredentials = { accessKeyId: newKey.accessKeyId, secretAccessKey: newKey.secretAccessKey };
    let entry = start;

    if (entry.step === 'created') {
      run.progress('verify', `Waiting for AWS to accept the new key ${maskKeyId(newKey.accessKeyId)}.`, { newKeyId: newKey.accessKeyId, attempt: 0, streak: 0, outcome: null });
      let attempt = 0;
      try {
        await verifyNewKey(fresh, entry.user.arn, {
          keyApi: this.deps.keyApi,
          now: this.now,
          sleep: this.sleep,
          random: this.random,
          region: this.deps.region,
          ...(run.signal === undefined ? {} : { signal: run.signal }),
          onAttempt: (outcome, streak) => {
            attempt++;
            run.progress('verify', describeAttempt(outcome, streak), { newKeyId: newKey.accessKeyId, attempt, streak, outcome });
          },
          ...this.deps.verifyInit,
        });
      } catch (error) {
        if (error instanceof KeyNotVerifiedError) await this.undo(entry, 'was not accepted by AWS', run);
        throw error;
      }
      run.progress('verify', `AWS accepts the new key ${maskKeyId(newKey.accessKeyId)} as user ${entry.user.name}.`, { newKeyId: newKey.accessKeyId, verified: true });
      entry = { ...entry, step: 'verified' };
    }

    run.signal?.throwIfAborted();
    if (entry.step === 'verified') {
      await this.writeNewKey(entry, fresh, run, read);
      entry = { ...entry, step: 'written' };
    }

    run.signal?.throwIfAborted();
    const { holders, view: confirmed } = await this.confirmInPlace(entry, fresh, run);
    run.signal?.throwIfAborted();
    if (entry.hooks !== undefined && entry.hooks.length > 0 && entry.step !== 'hooked') {
      // Before the old key goes: whatever the hooks carry the new key to switches while the old
      // key still works. Recorded once they all succeeded, so a crash after does not run them twice.
      await this.runHooks(entry, entry.hooks, run);
      entry = { ...entry, step: 'hooked' };
      await this.deps.journal.write(entry);
      run.signal?.throwIfAborted();
    }
    await this.retireOldKey(entry, fresh, confirmed, run);
    // Kept, not removed: the safety copy of the new secret (see `SAFETY_COPY_MS`).
    await this.deps.journal.write({ ...entry, step: 'retired', retiredAt: this.now().toISOString() });
    const profiles = holders.map((holder) => formatHolders([holder]));
    await this.record({ profile: entry.profile, at: this.now().toISOString(), oldKeyId: entry.oldKeyId, newKeyId: newKey.accessKeyId, newKeyCreated: newKey.createDate, ok: true, profiles });
    this.deps.logger.info({ profile: entry.profile }, `Rotated profile ${entry.profile}: ${maskKeyId(entry.oldKeyId)} → ${maskKeyId(newKey.accessKeyId)}.`);
    return {
      kind: 'rotated',
      profile: entry.profile,
      user: entry.user.name,
      account: entry.user.account,
      oldKeyId: entry.oldKeyId,
      newKeyId: newKey.accessKeyId,
      keyCreated: newKey.createDate,
      holders,
      notes: run.notes,
    };
  }

  /**
   * Puts the verified new key into every profile that holds the old one. A write that fails is
   * undone, not left waiting: unless a fresh read shows the new key already in a file, the new
   * key is deleted again and the old key stays the user's one key.
   */
  private async writeNewKey(entry: JournalEntry, fresh: AwsCredentials, run: Run, read: FileView | undefined): Promise<void> {
    let replaced;
    try {
      // No look first: replaceKey changes nothing where no profile holds the old key, and says so.
      replaced = await this.deps.credentials.replaceKey(entry.oldKeyId, fresh, read);
    } catch (error) {
      const after = await this.deps.credentials.read().catch(() => undefined);
      if (after === undefined || after.holdersOf(fresh.accessKeyId).length > 0) throw error;
      await this.undo(entry, 'could not be written to the credentials file', run);
      const failure = toKeyupError(error, entry.profile);
      throw new KeyupError(`${failure.message} keyup deleted the new key again, so the old key ${maskKeyId(entry.oldKeyId)} stays in use.`, {
        code: failure.code,
        ...(failure.hint === undefined ? {} : { hint: failure.hint }),
        cause: error,
      });
    }
    if (replaced.profiles.length === 0) {
      // A crash after the rename but before the rotation went on: the file is already done.
      if ((await this.deps.credentials.read()).holdersOf(fresh.accessKeyId).length > 0) return;
      await this.undo(entry, 'could not be written because no profile holds the old key any more', run);
      throw new KeyupError(`No profile in ${this.deps.credentials.path} holds the old key ${maskKeyId(entry.oldKeyId)} any more, so keyup did not write the new key.`, {
        code: 'credentials-file',
        hint: 'The file was changed while keyup rotated it; the new key was deleted and nothing else changed.',
      });
    }
    run.progress('write', `Wrote the new key ${maskKeyId(fresh.accessKeyId)} to ${describeHolders(replaced.profiles)} of ${this.deps.credentials.path}.`, {
      newKeyId: fresh.accessKeyId,
      profiles: formatHolders(replaced.profiles),
    });
  }

  /**
   * The old key goes only once a fresh read shows the new key where the old one was. Another
   * program that read the file before keyup's write may have saved its stale copy after it; then
   * the new key is applied again, and if that keeps happening the old key stays.
   */
  private async confirmInPlace(entry: JournalEntry, fresh: AwsCredentials, run: Run): Promise<{ holders: readonly KeyHolder[]; view: FileView }> {
    for (let attempt = 0; ; attempt++) {
      const view = await this.deps.credentials.read();
      const stale = view.holdersOf(entry.oldKeyId);
      if (stale.length === 0) {
        const holders = view.holdersOf(fresh.accessKeyId);
        if (holders.length > 0) return { holders, view };
        throw new KeyupError(`No profile in ${this.deps.credentials.path} holds the new key ${maskKeyId(fresh.accessKeyId)} or the old key ${maskKeyId(entry.oldKeyId)} any more, so keyup left both keys active.`, {
          code: 'credentials-file',
          hint: `Put profile ${entry.profile} back (keyup kept the new key in ${this.deps.journal.pathOf(entry.profile)}); keyup looks again at the next check.`,
        });
      }
      if (attempt >= REAPPLY_ATTEMPTS) {
        throw new KeyupError(`Another program keeps writing the old key ${maskKeyId(entry.oldKeyId)} back into ${describeHolders(stale)}, so keyup left the old key active.`, {
          code: 'credentials-file',
          hint: 'Close what rewrites the file (an editor that has it open, a dotfile sync); keyup finishes the rotation at the next check.',
        });
      }
      run.note('write', `Another program wrote the old key back into ${describeHolders(stale)} after keyup's write; keyup wrote the new key ${maskKeyId(fresh.accessKeyId)} again.`, { newKeyId: fresh.accessKeyId });
      await this.deps.credentials.replaceKey(entry.oldKeyId, fresh);
    }
  }

  /**
   * A finished rotation's safety copy at work: the retired key written back into a file (a stale
   * copy saved, a backup restored) is replaced by the new key again. Once the copy is old enough
   * and nothing holds the retired key, it is removed.
   */
  private async keepNewKeyInPlace(entry: JournalEntry, run: Run): Promise<void> {
    const newKey = entry.newKey;
    if (newKey === undefined) return;
    const view = await this.deps.credentials.read();
    if (!this.needsKeeping(entry, view)) return;
    const stale = view.holdersOf(entry.oldKeyId);
    if (stale.length > 0) {
      await this.deps.credentials.replaceKey(entry.oldKeyId, { accessKeyId: newKey.accessKeyId, secretAccessKey: newKey.secretAccessKey });
      run.note('recover', `Put the new key ${maskKeyId(newKey.accessKeyId)} back into ${describeHolders(stale)}: another program had written the retired key ${maskKeyId(entry.oldKeyId)} back.`, {
        newKeyId: newKey.accessKeyId,
        oldKeyId: entry.oldKeyId,
      });
      return;
    }
    await this.deps.journal.remove(entry.profile);
  }

  /** Whether a finished rotation's safety copy has work: the retired key is back in a file, or the copy is old enough to go. */
  private needsKeeping(entry: JournalEntry, view: FileView): boolean {
    if (entry.newKey === undefined) return false;
    if (view.holdersOf(entry.oldKeyId).length > 0) return true;
    const retiredAt = Date.parse(entry.retiredAt ?? entry.startedAt);
    return !(this.now().getTime() - retiredAt < SAFETY_COPY_MS);
  }

  /**
   * Runs the rotation's `post_rotate` hooks in order, each with the new key on its stdin. The first
   * that fails stops the rotation before retirement: the old key stays in service, the journal
   * keeps the rotation, and the next check (or `rotate now`) runs the hooks again, then retires.
   */
  private async runHooks(entry: JournalEntry, hooks: readonly Hook[], run: Run): Promise<void> {
    const newKey = entry.newKey;
    if (newKey === undefined) return;
    const runHook = this.deps.runHook;
    for (const [index, hook] of hooks.entries()) {
      const label = `hook ${index + 1} of ${hooks.length} (${hook.command})`;
      if (runHook === undefined) {
        throw new KeyupError(`keyup cannot run the post_rotate ${label} here, so it keeps the old key ${maskKeyId(entry.oldKeyId)} active.`, { code: 'hook-failed', hint: 'Run keyupctl rotate now, or let keyupd do it.' });
      }
      run.progress('hook', `Running the post_rotate ${label}.`, { hook: hook.command, index: index + 1, of: hooks.length });
      const result = await runHook({
        hook,
        facts: { profile: entry.profile, user: entry.user.name, account: entry.user.account, oldKeyId: entry.oldKeyId, newKeyId: newKey.accessKeyId },
        secret: newKey,
        ...(run.signal === undefined ? {} : { signal: run.signal }),
        onOutput: (stream, line) => this.deps.logger.info({ profile: entry.profile, hook: hook.command, stream }, line),
      });
      const seconds = `${(result.elapsedMs / 1000).toFixed(1)} s`;
      if (!result.ok) {
        run.signal?.throwIfAborted();
        run.progress('hook', `The post_rotate ${label} failed after ${seconds}: ${result.why}.`, { hook: hook.command, index: index + 1, of: hooks.length, ok: false, elapsedMs: result.elapsedMs });
        throw new KeyupError(`The post_rotate ${label} failed (${result.why}), so keyup keeps the old key ${maskKeyId(entry.oldKeyId)} active beside the new one.`, {
          code: 'hook-failed',
          hint: "Fix the hook (its output is in keyup's log); keyup runs the hooks again and then retires the old key at the next check, or now with keyupctl rotate now.",
        });
      }
      run.progress('hook', `The post_rotate ${label} succeeded in ${seconds}.`, { hook: hook.command, index: index + 1, of: hooks.length, ok: true, elapsedMs: result.elapsedMs });
    }
  }

  /**
   * The old key goes only now that the new one works and is in the file (`confirmed`: the read
   * that showed it). The call is signed by
   * the new key (or the `manage_with` identity), not the old one: a retry after a lost answer
   * then meets NoSuchEntity, which means done, where a retry signed by a key that the first
   * attempt already deleted or deactivated would be refused and could not tell. It also keeps
   * working if someone disabled the old key meanwhile. A refusal of the new key is only IAM
   * still propagating it, and is waited out.
   */
  private async retireOldKey(entry: JournalEntry, fresh: AwsCredentials, confirmed: FileView, run: Run): Promise<void> {
    // The managing profile's credentials as they are now: hooks may have run since the confirming read.
    const signer: Signer =
      entry.manageWith === undefined
        ? { ...fresh, identity: `user:${entry.user.arn}`, who: `user ${entry.user.name}`, ...mfaSerialOf(confirmed.profiles, entry.profile) }
        : this.signerFor((await this.deps.credentials.read()).profiles, entry.profile, entry.manageWith);
    const { keyApi } = this.deps;
    const userName = entry.user.name;
    const action: AwsAction = entry.oldKey === 'delete' ? 'iam:DeleteAccessKey' : 'iam:UpdateAccessKey';
    const signal = run.signal === undefined ? {} : { signal: run.signal };
    try {
      await retry(
        () =>
          this.withMfa(
            run,
            signer,
            (credentials) =>
              ignoreNoSuchEntity(
                entry.oldKey === 'delete'
                  ? keyApi.deleteAccessKey({ credentials, ...signal }, entry.oldKeyId, userName)
                  : keyApi.updateAccessKey({ credentials, ...signal }, entry.oldKeyId, 'Inactive', userName),
              ),
            signal,
          ),
        { attempts: 8, baseDelayMs: 500, maxDelayMs: 8_000, ...this.retryInit(run), isRetryable: (error) => isRetryableAwsError(error) || isKeyRefused(error) },
      );
    } catch (error) {
      if (isAbort(error, run.signal)) throw error;
      if (error instanceof KeyupError) {
        // For want of MFA: both keys work until a code lets keyup finish.
        throw new KeyupError(`The new key of profile ${entry.profile} is in place, but the old key ${maskKeyId(entry.oldKeyId)} is still active: ${error.message}`, {
          code: error.code,
          ...(error.hint === undefined ? {} : { hint: error.hint }),
          cause: error,
        });
      }
      if (isKeyRefused(error) && entry.manageWith === undefined) {
        // STS took the new key, IAM not yet: it reaches every part of IAM in its own time.
        throw new KeyupError(`IAM does not accept the new key ${maskKeyId(fresh.accessKeyId)} of profile ${entry.profile} yet, so the old key ${maskKeyId(entry.oldKeyId)} is still active.`, {
          code: 'retire-pending',
          hint: 'New keys take a while to reach all of IAM; the new key is in place and keyup retires the old one at the next check. Nothing needs doing.',
          cause: error,
        });
      }
      const cause = describeAwsError(error, { action, profile: entry.profile, userName, ...otherUser(entry.manageWith, entry.user.arn) });
      throw new KeyupError(`The new key of profile ${entry.profile} is in place, but the old key ${maskKeyId(entry.oldKeyId)} could not be retired: ${cause.message}`, {
        code: 'retire-pending',
        hint: `${cause.hint ?? ''} keyup retries at the next check.`.trim(),
        cause: error,
      });
    }
    run.progress('retire', `${entry.oldKey === 'delete' ? 'Deleted' : 'Deactivated'} the old key ${maskKeyId(entry.oldKeyId)}.`, { oldKeyId: entry.oldKeyId, action: entry.oldKey });
  }

  /** Takes back a new key that was never written to the file; the old key stays in use. */
  private async undo(entry: JournalEntry, why: string, run: Run): Promise<void> {
    const newKeyId = entry.newKey?.accessKeyId;
    if (newKeyId === undefined) return;
    const signer = this.signerFor((await this.deps.credentials.read()).profiles, entry.profile, entry.manageWith, { keyId: entry.oldKeyId, userArn: entry.user.arn });
    const target = { userName: entry.user.name, ...otherUser(entry.manageWith, entry.user.arn) };
    try {
      await this.iam('iam:DeleteAccessKey', run, signer, target, (credentials) => ignoreNoSuchEntity(this.deps.keyApi.deleteAccessKey({ credentials }, newKeyId, entry.user.name)), false);
    } catch (error) {
      // Not cut short by a shutdown: a key made and not kept must not outlive the rotation.
      // The journal stays, so the next run tries again; the file still holds the old key.
      throw new KeyupError(`The new key ${maskKeyId(newKeyId)} of profile ${entry.profile} ${why}, and deleting it again failed too.`, {
        code: 'key-not-verified',
        hint: 'The old key is still in use; keyup tries to delete the new key again at the next check.',
        cause: error,
      });
    }
    await this.deps.journal.remove(entry.profile);
    run.note('verify', `Deleted the new key ${maskKeyId(newKeyId)} again; the old key ${maskKeyId(entry.oldKeyId)} stays in use.`, { deletedKeyId: newKeyId });
  }

  /** `interruptible`: false for the look a cleanup needs, which a shutdown must not cut short. */
  private async listKeys(entry: JournalEntry, signer: Signer, run: Run, interruptible: boolean): Promise<Listing> {
    const target = { userName: entry.user.name, ...otherUser(entry.manageWith, entry.user.arn) };
    const listed: AccessKeyList = await this.iam(
      'iam:ListAccessKeys',
      run,
      signer,
      target,
      (credentials, signal) => this.deps.keyApi.listAccessKeys({ credentials, ...signal }, entry.user.name),
      interruptible,
    );
    return { ...listed, localTime: this.now() };
  }

  /** Whether IAM still has the journal's new key (an undo whose answer was lost may have deleted it). */
  private async newKeyExists(entry: JournalEntry, view: FileView, run: Run): Promise<boolean> {
    const signer = this.signerFor(view.profiles, entry.profile, entry.manageWith, { keyId: entry.oldKeyId, userArn: entry.user.arn });
    const { keys } = await this.listKeys(entry, signer, run, false);
    return keys.some((key) => key.accessKeyId === entry.newKey?.accessKeyId);
  }

  /**
   * Deletes the key an interrupted CreateAccessKey made, and only that one: a key none of whose
   * id existed before the call (the journal lists them), held by no profile, and created inside
   * the journal's window by IAM's own clock. A key made by someone else outside the window is
   * left alone (the rotation's make-room step then names it); without a window (IAM's clock was
   * unknown), nothing is deleted.
   */
  private async removeKeysKeyupMade(entry: JournalEntry, signer: Signer, view: FileView, listing: Listing, run: Run): Promise<number> {
    const window = entry.createWindow;
    if (window === undefined || entry.knownKeyIds === undefined) return 0;
    const known = new Set([entry.oldKeyId, ...entry.knownKeyIds]);
    const from = Date.parse(window.from);
    const to = Date.parse(window.to);
    const ours = listing.keys.filter((key) => {
      const created = key.createDate.getTime();
      return !known.has(key.accessKeyId) && view.holdersOf(key.accessKeyId).length === 0 && created >= from && created <= to;
    });
    const userName = entry.user.name;
    const target = { userName, ...otherUser(entry.manageWith, entry.user.arn) };
    for (const orphan of ours) {
      await this.iam(
        'iam:DeleteAccessKey',
        run,
        signer,
        target,
        (credentials) => ignoreNoSuchEntity(this.deps.keyApi.deleteAccessKey({ credentials }, orphan.accessKeyId, userName)),
        false,
      );
      run.note('recover', `Deleted the key ${maskKeyId(orphan.accessKeyId)} (created ${orphan.createDate.toISOString()}) that an interrupted CreateAccessKey made for user ${userName}; nobody had its secret.`, {
        deletedKeyId: orphan.accessKeyId,
      });
    }
    return ours.length;
  }

  /** The history is informative: failing to write it never fails a rotation. */
  private async record(record: RotationRecord): Promise<void> {
    try {
      await this.deps.history.append(record);
    } catch (error) {
      this.deps.logger.warn({ profile: record.profile, cause: describeCause(error) }, `Could not record the rotation of profile ${record.profile} in ${this.deps.history.path}.`);
    }
  }

  /**
   * An IAM call with bounded retries, its failure said in one sentence. With `run`, a shutdown
   * cuts it short; without, it runs to its end (cleanups that must not be left half done).
   */
  private async iam<T>(
    action: AwsAction,
    run: Run,
    signer: Signer,
    target: { userName: string; otherUserArn?: string },
    call: (credentials: AwsCredentials, signal: { signal?: AbortSignal }) => Promise<T>,
    interruptible = true,
  ): Promise<T> {
    const signal = interruptible && run.signal !== undefined ? { signal: run.signal } : {};
    try {
      return await this.withMfa(run, signer, (credentials) => retry(() => call(credentials, signal), this.retryInit(signal)), signal);
    } catch (error) {
      if (isAbort(error, signal.signal)) throw error;
      if (error instanceof KeyupError) throw error;
      throw describeAwsError(error, { action, profile: run.profile, maskedKeyId: maskKeyId(signer.accessKeyId), ...target });
    }
  }

  /**
   * `attempt`, signed as `signer`, or by that identity's MFA session where IAM wants MFA of it:
   * the session this rotation made already, else one made now with the request's code once IAM
   * explicitly denies the call without MFA (or at once, `required`: mfa_serial says IAM would).
   * Without a code, IAM's wish ends the rotation as `needs-mfa`, naming the device. An AWS error
   * comes back as it is; the failures of MFA itself as a KeyupError.
   */
  private async withMfa<T>(run: Run, signer: Signer, attempt: (credentials: AwsCredentials) => Promise<T>, { signal, required = false }: { signal?: AbortSignal; required?: boolean }): Promise<T> {
    const session = run.sessions.get(signer.identity);
    if (session !== undefined) {
      const credentials = await session;
      try {
        return await attempt(credentials);
      } catch (error) {
        if (getAwsErrorCode(error) === 'ExpiredToken') throw sessionExpiredError(run.profile, error);
        throw error;
      }
    }
    if (required) {
      await this.startMfaSession(run, signer, undefined, signal);
    } else {
      try {
        return await attempt(plainCredentials(signer));
      } catch (error) {
        if (!isExplicitDeny(error)) throw error;
        await this.startMfaSession(run, signer, error, signal);
      }
    }
    return this.withMfa(run, signer, attempt, { ...(signal === undefined ? {} : { signal }) });
  }

  /**
   * Makes the MFA session `signer`'s identity signs with from now on in this rotation, or says why
   * it cannot. `denied`: IAM's explicit deny that asked for it, thrown again as it is when it does
   * not look like a want of MFA (the user has no MFA device, or keyup cannot learn its devices).
   */
  private async startMfaSession(run: Run, signer: Signer, denied: unknown, signal: AbortSignal | undefined): Promise<void> {
    const subject: MfaSubject = { profile: run.profile, who: signer.who, ...(signer.mfaSerial === undefined ? {} : { configuredBy: signer.mfaSerial.profile }) };
    if (signer.sessionToken !== undefined) {
      // STS makes no session from a session: temporary manage_with credentials carry MFA or not.
      if (denied !== undefined) throw denied;
      throw new KeyupError(`Profile ${signer.mfaSerial?.profile ?? run.profile} holds temporary credentials, from which keyup cannot make the MFA session its mfa_serial asks for.`, {
        code: 'mfa-unsupported',
        hint: 'Put credentials made with MFA there (aws sts get-session-token --serial-number … --token-code …), or a long-term key.',
      });
    }
    const serialNumber = signer.mfaSerial?.serialNumber ?? (await this.findMfaDevice(run, signer, subject, denied, signal));
    if (run.mfa === undefined) throw needsMfaError(subject, serialNumber, denied);
    const longTerm = plainCredentials(signer);
    const region = this.deps.region;
    const session = run.mfa.session(serialNumber, (code) =>
      makeMfaSession(this.deps.keyApi, longTerm, serialNumber, code, subject, { ...(region === undefined ? {} : { region }), ...(signal === undefined ? {} : { signal }) }),
    );
    run.sessions.set(signer.identity, session);
    const made = await session;
    run.progress('mfa', `Signing the IAM calls of this rotation with an MFA session of the device ${serialNumber}, valid until ${made.expiration?.toISOString() ?? 'it ends'}.`, {
      serialNumber,
    });
  }

  /** The user's first MFA device whose codes STS checks, from ListMFADevices (allowed without MFA by AWS's force-MFA policy). */
  private async findMfaDevice(run: Run, signer: Signer, subject: MfaSubject, denied: unknown, signal: AbortSignal | undefined): Promise<string> {
    let devices: MfaDeviceInfo[];
    try {
      devices = await retry(() => this.deps.keyApi.listMfaDevices({ credentials: plainCredentials(signer), ...(signal === undefined ? {} : { signal }) }), this.retryInit({ signal }));
    } catch (error) {
      if (isAbort(error, signal)) throw error;
      // Whether MFA would help is unknown: IAM's first refusal is the one to report.
      if (denied !== undefined) throw denied;
      throw describeAwsError(error, { action: 'iam:ListMFADevices', profile: run.profile, maskedKeyId: maskKeyId(signer.accessKeyId) });
    }
    const usable = devices.find((device) => isTotpDevice(device.serialNumber));
    if (usable !== undefined) return usable.serialNumber;
    if (devices.length > 0) throw noUsableDeviceError(subject, true, denied);
    // No device at all: nothing says the Deny is about MFA.
    if (denied !== undefined) throw denied;
    throw noUsableDeviceError(subject, false, undefined);
  }

  private retryInit({ signal }: { signal?: AbortSignal | undefined } = {}): RetryInit {
    return {
      sleep: this.sleep,
      random: this.random,
      ...(signal === undefined ? {} : { signal }),
      onRetry: (error, attempt, delayMs) => this.deps.logger.debug({ cause: describeCause(error), attempt, delayMs }, 'Retrying an AWS call that may succeed later.'),
      ...this.deps.retryInit,
    };
  }

  private failed(run: Run, error: unknown): Outcome {
    const failure = isAbort(error, run.signal)
      ? new KeyupError(`The rotation of profile ${run.profile} was stopped before it ended.`, { code: 'aborted', hint: 'It goes on from where it stopped at the next start.', cause: error })
      : toKeyupError(error, run.profile);
    this.deps.logger.error({ profile: run.profile, code: failure.code, cause: describeCause(failure.cause) }, failure.userMessage);
    return { kind: 'failed', profile: run.profile, error: toErrorInfo(failure), notes: run.notes };
  }

  private busy(run: Run, holder: { pid: number; profile: string; since: string }): Outcome {
    this.deps.logger.info({ profile: run.profile, pid: holder.pid }, `Profile ${run.profile} is being rotated by keyup process ${holder.pid}; leaving it to that process.`);
    return { kind: 'busy', profile: run.profile, pid: holder.pid, rotating: holder.profile, since: holder.since, notes: run.notes };
  }

  private longTermKeyOf(profiles: readonly FileProfile[], profile: string, managedBy: RotationSettings['managedBy'] = 'config'): AwsCredentials {
    const found = profiles.find((p) => p.name === profile);
    if (found === undefined) {
      throw new KeyupError(`Profile ${profile} is not in the credentials file ${this.deps.credentials.path}.`, {
        code: 'profile-unusable',
        hint: `Add it (aws configure --profile ${profile}), or ${stopManaging(profile, managedBy)}.`,
      });
    }
    if (found.kind !== 'long-term') {
      const what = found.kind === 'temporary' ? 'holds temporary credentials' : 'gets its credentials another way (a role, SSO, credential_process, or keys in the AWS config file)';
      throw new KeyupError(`Profile ${profile} ${what}, and keyup rotates only long-term access keys in the credentials file.`, {
        code: 'profile-unusable',
        hint: `${capitalize(stopManaging(profile, managedBy))}.`,
      });
    }
    if (!isKeyId(found.accessKeyId)) {
      // Shown nowhere, not even masked: it may well be the secret.
      throw new KeyupError(`The aws_access_key_id of profile ${profile} in ${this.deps.credentials.path} is not shaped like an access key id (AKIA followed by letters and digits).`, {
        code: 'profile-unusable',
        hint: 'Check that the key id and the secret are not swapped (aws configure --profile ' + profile + ').',
      });
    }
    return { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey };
  }

  /**
   * Who signs IAM calls for `profile`: its `manage_with` profile, else the profile's own key
   * (`keyId` when given: the old key may still be found under it) as `userArn`.
   */
  private signerFor(profiles: readonly FileProfile[], profile: string, manageWith: string | undefined, { keyId, userArn }: { keyId?: string; userArn?: string } = {}): Signer {
    if (manageWith === undefined) {
      const own = keyId === undefined ? undefined : profiles.find((p): p is Extract<FileProfile, { kind: 'long-term' }> => p.kind === 'long-term' && p.accessKeyId === keyId);
      const key = own === undefined ? this.longTermKeyOf(profiles, profile) : { accessKeyId: own.accessKeyId, secretAccessKey: own.secretAccessKey };
      const userName = userArn === undefined ? undefined : parseUserArn(userArn)?.userName;
      return {
        ...key,
        identity: userArn === undefined ? `key:${key.accessKeyId}` : `user:${userArn}`,
        who: userName === undefined ? `the IAM user of profile ${profile}` : `user ${userName}`,
        ...mfaSerialOf(profiles, profile),
      };
    }
    const admin = profiles.find((p) => p.name === manageWith);
    if (admin === undefined || admin.kind === 'other') {
      throw new KeyupError(`Profile ${manageWith}, which manages profile ${profile}, holds no access key in ${this.deps.credentials.path}.`, {
        code: 'profile-unusable',
        hint: `Put credentials in profile ${manageWith}, or change manage_with for profile ${profile}.`,
      });
    }
    const { accessKeyId, secretAccessKey } = admin;
    const identity = { identity: `profile:${manageWith}`, who: `the IAM user of profile ${manageWith}`, ...mfaSerialOf(profiles, manageWith) };
    return admin.kind === 'temporary' ? { accessKeyId, secretAccessKey, sessionToken: admin.sessionToken, ...identity } : { accessKeyId, secretAccessKey, ...identity };
  }

  private startRun(profile: string, onStep: RotateRequest['onStep'], signal: AbortSignal | undefined, mfa: MfaCode | undefined): Run {
    const notes: string[] = [];
    const progress = (step: Step, text: string, data: StepData = {}) => {
      this.deps.logger.info({ profile, step, ...data }, text);
      try {
        onStep?.(step, text, data);
      } catch (error) {
        // Whoever listens (a client that went away) never stops a rotation.
        this.deps.logger.debug({ profile, cause: describeCause(error) }, 'A progress listener failed; the rotation goes on.');
      }
    };
    return {
      profile,
      notes,
      signal,
      mfa,
      sessions: new Map(),
      progress,
      note(step, text, data) {
        notes.push(text);
        progress(step, text, data);
      },
    };
  }
}

/** The key and secret (and token) alone, for the SDK: none of keyup's own facts about them. */
function plainCredentials({ accessKeyId, secretAccessKey, sessionToken }: AwsCredentials): AwsCredentials {
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

/** `mfa_serial` of a profile in the AWS config file, as a Signer carries it. */
function mfaSerialOf(profiles: readonly FileProfile[], name: string): Pick<Signer, 'mfaSerial'> {
  const found = profiles.find((profile) => profile.name === name);
  return found?.kind === 'long-term' && found.mfaSerial !== undefined ? { mfaSerial: { serialNumber: found.mfaSerial, profile: name } } : {};
}

/** The profile's key was replaced between the check and the lock. */
class KeyReplacedError extends KeyupError {}

/**
 * How far an interrupted rotation got, from its journal and the files. The journal is written at
 * `created` and next at `retired` (see JournalStep), so a journal at `created` whose new key is in
 * a file had its key verified and written already: keyup writes a new key nowhere before it was
 * seen to work. Going on from `written` then neither verifies it again nor could undo a key that a
 * file already holds (and that may be the user's only key, if the old one was retired).
 */
function reachedStep(entry: JournalEntry, view: FileView): JournalEntry {
  const newKeyId = entry.newKey?.accessKeyId;
  if (entry.step !== 'created' || newKeyId === undefined || view.holdersOf(newKeyId).length === 0) return entry;
  return { ...entry, step: 'written' };
}

/** "profile default" or "profiles default, legacy (AWS config)". */
function describeHolders(holders: readonly KeyHolder[]): string {
  return `profile${holders.length === 1 ? '' : 's'} ${formatHolders(holders)}`;
}

function isTemporary(profile: FileProfile): profile is Extract<FileProfile, { kind: 'temporary' }> {
  return profile.kind === 'temporary';
}

/** For a `manage_with` profile, AccessDenied's policy must name the managed user, not the signer. */
function otherUser(manageWith: string | undefined, userArn: string): { otherUserArn?: string } {
  return manageWith === undefined ? {} : { otherUserArn: userArn };
}

/** The sentence for one verification attempt, for a person watching. */
function describeAttempt(outcome: VerifyAttempt, streak: number): string {
  switch (outcome) {
    case 'accepted':
      return `AWS accepted the new key (${streak} in a row).`;
    case 'refused':
      return 'IAM has not spread the new key yet; waiting.';
    case 'unanswered':
      return 'STS did not answer about the new key; asking again.';
  }
}

/** How to stop managing a profile, depending on why keyup manages it. */
function stopManaging(profile: string, managedBy: RotationSettings['managedBy']): string {
  switch (managedBy) {
    case 'env':
      return `point $AWS_PROFILE (which makes keyup manage profile ${profile}) at the profile to rotate, or name profiles in keyup's configuration with [profile NAME] sections`;
    case 'default':
      return `name the profiles to rotate in keyup's configuration with [profile NAME] sections (with none, keyup manages profile default)`;
    default:
      return `remove [profile ${profile}] from keyup's configuration`;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** keyup's own deadline on a call (AbortSignal.timeout) ran out: like a network timeout. */
function isAbortTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** Deleting or deactivating a key that is already gone is done, not failed. */
async function ignoreNoSuchEntity(call: Promise<void>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (getAwsErrorCode(error) !== 'NoSuchEntity') throw error;
  }
}

/**
 * Every failure as a KeyupError a person can act on. An OS error (a full disk, a permission)
 * says what and where; anything else is named as unexpected, with --debug to learn more.
 */
function toKeyupError(error: unknown, profile: string): KeyupError {
  if (error instanceof KeyupError) return error;
  const code = getErrorCode(error);
  if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    const path = typeof (error as { path?: unknown }).path === 'string' ? ` ${(error as { path: string }).path}` : '';
    return new KeyupError(`keyup could not finish with profile ${profile}: the file system refused${path} (${describeFsError(error)}).`, {
      code: 'state',
      hint: 'Fix that, then run keyup again; a rotation in progress resumes from its journal.',
      cause: error,
    });
  }
  return new KeyupError(`An unexpected error stopped the rotation of profile ${profile} (${error instanceof Error ? error.name : 'unknown'}).`, {
    hint: 'Run again with --debug for details.',
    cause: error,
  });
}
