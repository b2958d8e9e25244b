import { setMaxListeners } from 'node:events';
import type { KeyApi } from '../aws/key-api.js';
import { limitIamRate, TokenBucket, type RateLimit } from '../aws/rate-limit.js';
import { sleep as realSleep } from '../aws/retry.js';
import type { KeyupConfig, ProfileConfig } from '../config/index.js';
import { CredentialsStore, type CredentialsStoreInit } from '../credentials/index.js';
import { ExitCode, KeyupError } from '../errors.js';
import type { FileSystem } from '../fs/fs.js';
import { describeCause, type Logger } from '../log.js';
import type { KeyupPaths } from '../paths.js';
import { Journal } from '../rotation/journal.js';
import type { HookRunner } from '../rotation/hooks.js';
import { KeyLocks, type KeyLocksInit } from '../rotation/lock.js';
import { Rotator, type RotationSettings, type RotatorDeps } from '../rotation/rotator.js';
import { createCredentialsFile } from '../rotation/store-adapter.js';
import { MfaCode } from '../rotation/mfa.js';
import { EventHub, type EngineEvent, type EventListener } from './events.js';
import { listProfileKeys, type ProfileKeys } from './keys.js';
import { toErrorInfo, type Outcome } from './outcome.js';
import { RunHistory } from './run-history.js';
import { applyOutcome, emptyView, renderView, type ProfileView, type StoredView } from './view.js';

export interface EngineInit {
  fs: FileSystem;
  paths: KeyupPaths;
  config: KeyupConfig;
  logger: Logger;
  /** The AWS side, made on first need: loading the SDK costs start-up time a usage error should not pay. */
  loadKeyApi: () => Promise<KeyApi>;
  now?: () => Date;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** STS's region (`AWS_REGION`); IAM is global. */
  region?: string;
  verifyInit?: RotatorDeps['verifyInit'];
  /** Runs `post_rotate` hooks; the composition root makes it (child processes in the user's HOME). */
  runHook?: HookRunner;
  retryInit?: RotatorDeps['retryInit'];
  /** How many profiles rotate at once. Default {@link DEFAULT_CONCURRENCY}. */
  concurrency?: number;
  /** The pace of IAM calls across every rotation; `null` for none. Default {@link DEFAULT_IAM_RATE}. */
  iamRate?: RateLimit | null;
  /**
   * How long the AWS clients (and the secrets and connections they hold) outlive the last run, for
   * a run that starts meanwhile to use again; 0 releases them as each run ends. Default
   * {@link DEFAULT_KEEP_CLIENTS_MS}.
   */
  keepClientsMs?: number;
  /** For tests of the cross-process locks: whose pid, and how liveness is judged. */
  locks?: Pick<KeyLocksInit, 'pid' | 'isAlive' | 'readProcessStart'>;
  /** What a previous process knew (the daemon's state file), before this one's first check. */
  initialViews?: readonly StoredView[];
  /** Told of each rewrite of an AWS file, with its fingerprint: the daemon knows its own writes by it. */
  onFileWritten?: CredentialsStoreInit['onWritten'];
}

export interface RunRequest {
  /** The profiles to look at; default every managed one. Each must be managed (else exit 2). */
  readonly profiles?: readonly string[];
  /** `rotate now`: whatever the key's age. */
  readonly rotateNow?: boolean;
  /** `--force`: even while temporary credentials are active. */
  readonly force?: boolean;
  /** Ends every rotation of this request at a resumable point (shutdown). */
  readonly signal?: AbortSignal;
  /**
   * The six digits of an MFA device, for profiles whose keys IAM changes only with MFA: their IAM
   * calls in this request are signed by a session made with it. Kept in memory for the request only.
   */
  readonly mfaCode?: string;
  /** Every event of the request's profiles; for a rotation it joined, from the moment it joined. */
  readonly onEvent?: EventListener;
}

/**
 * Different profiles rotate at once, up to this many: most of a rotation is waiting for IAM to
 * spread a new key (the confirmation pauses), which overlaps well. The IAM rate below, not this,
 * is what keeps keyup within IAM's limits.
 */
export const DEFAULT_CONCURRENCY = 16;
/**
 * IAM does not publish its API limits; accounts see throttling from around 20 requests a second.
 * 15 a second with a burst of 30 leaves room for the person's own tools using the same account.
 */
export const DEFAULT_IAM_RATE: RateLimit = { perSecond: 15, burst: 30 };
/**
 * Making an SDK client and its connection costs milliseconds of CPU, several times a rotation's
 * own work: runs that follow each other (rotate now for one profile after another, a burst of
 * requests) share them. An idle daemon holds none, and so no secret and no socket, a few seconds
 * after its last check, long before the next.
 */
export const DEFAULT_KEEP_CLIENTS_MS = 10_000;

/** One profile's rotation in progress, which a second request for the profile joins. */
interface Flight {
  readonly promise: Promise<Outcome>;
  readonly hub: EventHub;
  readonly rotateNow: boolean;
  readonly force: boolean;
  /** Whether it came with an MFA code: one without cannot answer a request that has one. */
  readonly mfa: boolean;
}

/**
 * The rotation engine: one "check the managed profiles" operation for both front ends (`keyupd
 * --once` and the daemon), with different profiles rotating concurrently, the same profile never
 * twice at once (a second request joins the first), progress as typed events, and a read-only
 * view of every profile for `status`.
 */
export class Engine {
  private config: KeyupConfig;
  private readonly init: EngineInit;
  private readonly now: () => Date;
  private readonly subscribers: EventHub;
  private readonly flights = new Map<string, Flight>();
  private readonly views = new Map<string, StoredView>();
  private keyApi: Promise<KeyApi> | undefined;
  private activeRuns = 0;
  private releaseTimer: NodeJS.Timeout | undefined;

  constructor(init: EngineInit) {
    this.init = init;
    this.config = init.config;
    this.now = init.now ?? (() => new Date());
    this.subscribers = new EventHub((error) => init.logger.warn({ cause: describeCause(error) }, 'An event listener failed and was removed.'));
    for (const view of init.initialViews ?? []) this.views.set(view.profile, view);
  }

  /** The managed profiles, in the configuration's order. */
  managedProfiles(): string[] {
    return this.config.profiles.map((profile) => profile.name);
  }

  /** A changed configuration (reload) applies to every run that starts from now on. */
  setConfig(config: KeyupConfig): void {
    this.config = config;
  }

  /** Every event of every run, for the log or a socket; a listener that throws is removed. */
  subscribe(listener: EventListener): () => void {
    return this.subscribers.add(listener);
  }

  /** Each managed profile as the engine knows it now: no lock, no file read, no AWS call. */
  view(): ProfileView[] {
    const now = this.now();
    return this.config.profiles.map((profile) =>
      renderView(this.views.get(profile.name) ?? emptyView(profile.name), profile.settings, now, this.flights.has(profile.name)),
    );
  }

  /** Every key of each profile's IAM user (default: every managed profile), for `keyupctl keys`. */
  async keys(names?: readonly string[], signal?: AbortSignal): Promise<ProfileKeys[]> {
    const config = this.config;
    const selected = this.select(config, names);
    this.startUse();
    try {
      const keyApi = await this.loadKeyApi();
      const snapshot = await this.createStore(config).read();
      const init = { now: this.now(), ...(this.init.region === undefined ? {} : { region: this.init.region }), ...(signal === undefined ? {} : { signal }) };
      return await Promise.all(selected.map((profile) => listProfileKeys(profile, snapshot, keyApi, init)));
    } finally {
      await this.endUse();
    }
  }

  /** The stored facts of every managed profile, for the daemon to persist. */
  storedViews(): StoredView[] {
    return this.config.profiles.map((profile) => this.views.get(profile.name) ?? emptyView(profile.name));
  }

  /**
   * Checks the managed profiles (or those asked) and rotates what is due (or everything asked
   * with `rotateNow`), first finishing or undoing any rotation a crash interrupted. Resolves with
   * one outcome per profile looked at — those of unmanaged profiles' interrupted rotations first —
   * and never rejects for a profile's failure, only for a request naming an unmanaged profile.
   */
  async run(request: RunRequest = {}): Promise<Outcome[]> {
    const config = this.config;
    const selected = this.select(config, request.profiles);
    // Every rotation of the run listens for the one stop signal: many at once is the design.
    if (request.signal !== undefined) setMaxListeners(0, request.signal);
    this.startUse();
    try {
      // One per run: the failed profiles' views read history.json once between them.
      const history = new RunHistory({ fs: this.init.fs, stateDir: this.init.paths.stateDir });
      let keyApi: KeyApi;
      try {
        keyApi = await this.loadKeyApi();
      } catch (error) {
        if (!(error instanceof KeyupError)) throw error;
        // Nothing reached AWS (an AWS config file that does not parse): each profile fails with
        // the reason, in status and the log alike, and the next run tries again.
        return await Promise.all(selected.map((profile) => this.failBeforeAws(profile.name, error, history)));
      }
      const rotator = this.createRotator(config, keyApi, history);
      // One code, one session per device, shared by every profile of the request that needs it.
      const mfa = request.mfaCode === undefined ? undefined : new MfaCode(request.mfaCode);
      const recovered: Outcome[] = [];
      if (request.profiles === undefined) {
        // Journals of profiles no longer managed: finish or undo them, since nobody else will.
        for (const outcome of await rotator.recoverAll({ except: new Set(this.managedProfiles()), ...(request.signal === undefined ? {} : { signal: request.signal }) })) {
          recovered.push(outcome);
          this.emit(undefined, { type: 'end', profile: outcome.profile, elapsedMs: 0, outcome });
        }
      }
      const outcomes = new Map<string, Outcome>();
      const groups = await this.groupByKey(selected, config);
      await runConcurrently(groups, this.init.concurrency ?? DEFAULT_CONCURRENCY, async (group) => {
        // One key, one rotation: the profiles after the first find the key it made, and keep it.
        const freshKeys = new Set<string>();
        for (const profile of group) {
          const outcome = await this.rotateProfile(rotator, history, profile, request, freshKeys, mfa);
          if (outcome.kind === 'rotated') freshKeys.add(outcome.newKeyId);
          outcomes.set(profile.name, outcome);
        }
      });
      return [...recovered, ...selected.map((profile) => outcomes.get(profile.name)).filter((outcome): outcome is Outcome => outcome !== undefined)];
    } finally {
      await this.endUse();
    }
  }

  private startUse(): void {
    this.activeRuns++;
    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
  }

  /**
   * Between checks the daemon holds no AWS client and so no secret (see KeyApi.release): the last
   * run to end releases them, at once or after {@link DEFAULT_KEEP_CLIENTS_MS} unless another run
   * has started by then.
   */
  private async endUse(): Promise<void> {
    this.activeRuns--;
    if (this.activeRuns > 0 || this.keyApi === undefined) return;
    const keyApi = await this.keyApi.catch(() => undefined);
    if (keyApi === undefined) return;
    // A run may have started while the KeyApi was awaited; it releases them when it ends.
    if (this.activeRuns > 0) return;
    const keepMs = this.init.keepClientsMs ?? DEFAULT_KEEP_CLIENTS_MS;
    if (keepMs <= 0) {
      keyApi.release?.();
      return;
    }
    clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      if (this.activeRuns === 0) keyApi.release?.();
    }, keepMs);
    // Never what keeps a process alive: `keyupd --once` exits as soon as its run is done (idle
    // sockets do not hold it either).
    this.releaseTimer.unref();
  }

  private select(config: KeyupConfig, names: readonly string[] | undefined): ProfileConfig[] {
    if (names === undefined) return [...config.profiles];
    const unknown = names.filter((name) => !config.profiles.some((profile) => profile.name === name));
    if (unknown.length > 0) {
      const managed = config.profiles.map((profile) => profile.name).join(', ');
      throw new KeyupError(`keyup does not manage profile${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; it manages ${managed}.`, {
        code: 'usage',
        exitCode: ExitCode.usage,
        hint: `Name one of those, or add a [profile NAME] section to ${config.file}.`,
      });
    }
    return [...new Set(names)].map((name) => config.profiles.find((profile) => profile.name === name) as ProfileConfig);
  }

  /**
   * Profiles that hold the same key, in one group (rotated one after another); every other
   * profile alone. A file that cannot be read now puts each profile alone: the rotation of each
   * then says what is wrong.
   */
  private async groupByKey(profiles: readonly ProfileConfig[], config: KeyupConfig): Promise<ProfileConfig[][]> {
    // One profile is a group of its own: no need to read the files for it.
    if (profiles.length <= 1) return profiles.map((profile) => [profile]);
    let keyOf: (name: string) => string | undefined;
    try {
      const snapshot = await this.createStore(config).read();
      keyOf = (name) => {
        const found = snapshot.profiles.find((profile) => profile.name === name);
        return found?.kind === 'long-term' && found.source === 'credentials' ? found.accessKeyId : undefined;
      };
    } catch {
      keyOf = () => undefined;
    }
    const groups = new Map<string, ProfileConfig[]>();
    for (const profile of profiles) {
      const key = keyOf(profile.name) ?? `profile:${profile.name}`;
      groups.set(key, [...(groups.get(key) ?? []), profile]);
    }
    return [...groups.values()];
  }

  private async rotateProfile(rotator: Rotator, history: RunHistory, profile: ProfileConfig, request: RunRequest, freshKeys: ReadonlySet<string>, mfa: MfaCode | undefined): Promise<Outcome> {
    const rotateNow = request.rotateNow === true;
    const force = request.force === true;
    for (let inFlight = this.flights.get(profile.name); inFlight !== undefined; inFlight = this.flights.get(profile.name)) {
      // Joined: the same outcome, and the rest of its progress.
      if ((inFlight.rotateNow || !rotateNow) && (inFlight.force || !force) && (inFlight.mfa || mfa === undefined)) return this.join(inFlight, request.onEvent);
      // A check in flight cannot answer `rotate now`: wait for it, then rotate (unless another
      // request started a rotation meanwhile, which the loop then joins).
      await inFlight.promise;
    }
    const hub = new EventHub();
    const stop = request.onEvent === undefined ? undefined : hub.add(request.onEvent);
    const started = this.now().getTime();
    const elapsed = () => this.now().getTime() - started;
    const promise = rotator
      .rotate({
        profile: profile.name,
        settings: toRotationSettings(profile),
        ignoreAge: rotateNow,
        ignoreSessions: force,
        freshKeys,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        ...(mfa === undefined ? {} : { mfa }),
        onStep: (step, text, data) => this.emit(hub, { type: 'step', profile: profile.name, step, elapsedMs: elapsed(), text, data }),
      })
      .then(async (outcome) => {
        await this.remember(profile.name, outcome, history);
        this.flights.delete(profile.name);
        this.emit(hub, { type: 'end', profile: profile.name, elapsedMs: elapsed(), outcome });
        return outcome;
      });
    this.flights.set(profile.name, { promise, hub, rotateNow, force, mfa: mfa !== undefined });
    try {
      return await promise;
    } finally {
      stop?.();
    }
  }

  private async join(flight: Flight, onEvent: EventListener | undefined): Promise<Outcome> {
    const stop = onEvent === undefined ? undefined : flight.hub.add(onEvent);
    try {
      return await flight.promise;
    } finally {
      stop?.();
    }
  }

  private emit(hub: EventHub | undefined, event: EngineEvent): void {
    hub?.emit(event);
    this.subscribers.emit(event);
  }

  private async failBeforeAws(profile: string, error: KeyupError, history: RunHistory): Promise<Outcome> {
    const outcome: Outcome = { kind: 'failed', profile, error: toErrorInfo(error), notes: [] };
    await this.remember(profile, outcome, history);
    this.emit(undefined, { type: 'end', profile, elapsedMs: 0, outcome });
    return outcome;
  }

  private async remember(profile: string, outcome: Outcome, history: RunHistory): Promise<void> {
    const now = this.now();
    let stored = applyOutcome(this.views.get(profile) ?? emptyView(profile), outcome, now);
    // A rotation's own outcome is its last rotation (applyOutcome); a failure may or may not have
    // been recorded, and the history also has the failed attempts, with their time.
    if (outcome.kind === 'failed') stored = { ...stored, lastRotation: (await history.findLast(profile)) ?? stored.lastRotation };
    this.views.set(profile, stored);
  }

  private loadKeyApi(): Promise<KeyApi> {
    this.keyApi ??= this.init
      .loadKeyApi()
      .then((keyApi) => {
        const rate = this.init.iamRate === undefined ? DEFAULT_IAM_RATE : this.init.iamRate;
        return rate === null ? keyApi : limitIamRate(keyApi, new TokenBucket({ ...rate, now: () => this.now().getTime(), sleep: this.init.sleep ?? realSleep }));
      })
      .catch((error: unknown) => {
        // Not kept (an AWS config file that does not parse): the next run tries again, so a
        // daemon is well again once the file is fixed, without a restart.
        this.keyApi = undefined;
        throw error;
      });
    return this.keyApi;
  }

  private createStore(config: KeyupConfig): CredentialsStore {
    const { onFileWritten } = this.init;
    return new CredentialsStore({
      fs: this.init.fs,
      paths: this.init.paths,
      backup: config.daemon.backup,
      backupKeep: config.daemon.backupKeep,
      // Backup names and the age of leftover temp files: the engine's clock, as everything else.
      clock: { now: this.now },
      ...(onFileWritten === undefined ? {} : { onWritten: onFileWritten }),
    });
  }

  private createRotator(config: KeyupConfig, keyApi: KeyApi, history: RunHistory): Rotator {
    const { fs, paths, logger } = this.init;
    return new Rotator({
      keyApi,
      credentials: createCredentialsFile(this.createStore(config), paths.credentialsFile),
      journal: new Journal({ fs, stateDir: paths.stateDir }),
      history,
      locks: new KeyLocks({ fs, stateDir: paths.stateDir, now: this.now, ...this.init.locks }),
      logger,
      now: this.now,
      ...(this.init.sleep === undefined ? {} : { sleep: this.init.sleep }),
      ...(this.init.random === undefined ? {} : { random: this.init.random }),
      ...(this.init.region === undefined ? {} : { region: this.init.region }),
      ...(this.init.verifyInit === undefined ? {} : { verifyInit: this.init.verifyInit }),
      ...(this.init.retryInit === undefined ? {} : { retryInit: this.init.retryInit }),
      ...(this.init.runHook === undefined ? {} : { runHook: this.init.runHook }),
    });
  }
}

function toRotationSettings(profile: ProfileConfig): RotationSettings {
  const { maxAgeDays, warnAgeDays, oldKey, deferOnSessions } = profile.settings;
  const managedBy = profile.source.kind === 'file' ? 'config' : profile.source.kind === 'env' ? 'env' : 'default';
  return {
    maxAgeDays,
    warnAgeDays,
    oldKey,
    deferOnSessions,
    managedBy,
    postRotate: profile.settings.postRotate,
    ...(profile.manageWith === undefined ? {} : { manageWith: profile.manageWith }),
  };
}

/** Runs `work` on every item, at most `limit` at a time. */
async function runConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
