import type { KeyupConfig } from '../config/index.js';
import { CredentialsStore, type AwsFileFingerprints } from '../credentials/index.js';
import type { AwsFile } from '../credentials/file-errors.js';
import type { Engine, RunRequest } from '../engine/engine.js';
import type { ErrorInfo, Outcome } from '../engine/outcome.js';
import { toErrorInfo } from '../engine/outcome.js';
import { KeyupError } from '../errors.js';
import type { FileSystem } from '../fs/fs.js';
import { describeCause, type Logger } from '../log.js';
import type { KeyupPaths } from '../paths.js';
import type { DesktopNotifier } from '../notify/desktop.js';
import type { NotificationStore } from '../notify/memory-store.js';
import { Notifications, type NotificationMemory } from '../notify/notifications.js';
import { formatOutcome } from '../present/outcome-lines.js';
import { findMissedSlot, type Scheduler, type SchedulerInit } from './scheduler.js';
import type { StateStore } from './state-store.js';
import { buildStatus } from './status.js';

/** Why a check runs: logged. */
export type CheckReason = 'start' | 'make-up' | 'schedule' | 'retry' | 'file-change' | 'reload';

export interface DaemonInit {
  fs: FileSystem;
  paths: KeyupPaths;
  config: KeyupConfig;
  logger: Logger;
  engine: Engine;
  stateStore: StateStore;
  /** Builds the schedule's timer; the daemon owns what runs, not how it is timed. */
  createScheduler: (init: SchedulerInit) => Scheduler;
  /** Reads keyup's configuration again (SIGHUP, `reload`, the file changed); throws a KeyupError when it is bad. */
  reloadConfig: () => Promise<KeyupConfig>;
  /** Applies a new configuration's log settings. */
  applyLogSettings?: (config: KeyupConfig) => Promise<void>;
  version: string;
  pid?: number;
  now?: () => Date;
  /** Backoff while no network answers: first wait, and the longest. */
  networkBackoff?: { firstMs: number; maxMs: number };
  /** A file that does not parse right after a change is read again this much later (an editor mid-save). */
  settleRetryMs?: number;
  /** Shows desktop notifications; none: they are only logged. */
  notifier?: DesktopNotifier;
  /** Remembers what was notified, across restarts. */
  notificationStore?: NotificationStore;
}

/** What the network wait looks like to status. */
interface NetworkWait {
  readonly timer: NodeJS.Timeout;
  readonly at: Date;
  readonly delayMs: number;
}

const DEFAULT_BACKOFF = { firstMs: 5_000, maxMs: 5 * 60_000 };

/**
 * keyupd's life: a check at start (finishing what a crash interrupted, making up a slot missed
 * while it was down), checks on the schedule, a look at the files whenever they change, and the
 * socket's requests — all through the one engine. It holds no secret between checks.
 */
export class Daemon {
  private config: KeyupConfig;
  private configError: ErrorInfo | null = null;
  private readonly init: DaemonInit;
  private readonly now: () => Date;
  private readonly started: Date;
  private scheduler: Scheduler | undefined;
  private networkWait: NetworkWait | undefined;
  private readonly stop = new AbortController();
  /** Checks running now; a file change meanwhile is looked at when they end. */
  private running = 0;
  private pendingChange = false;
  /**
   * What keyup last saw or wrote of each AWS file, as fingerprints (never a secret): a change is
   * news only when the file no longer matches. keyup's own writes are told to the daemon as
   * they happen ({@link noteWritten}), so they cause nothing; a change by anyone else, even one
   * made while a check runs, is looked at.
   */
  private seen: { credentials: string | undefined; config: string | null | undefined } = { credentials: undefined, config: undefined };
  private lastCheck: string | null = null;
  private readonly idle = new Set<() => void>();
  private notifications: Notifications;

  constructor(init: DaemonInit) {
    this.init = init;
    this.config = init.config;
    this.now = init.now ?? (() => new Date());
    this.started = this.now();
    this.notifications = this.createNotifications();
  }

  private createNotifications(memory?: NotificationMemory): Notifications {
    return new Notifications((profile) => (this.config.profiles.find((p) => p.name === profile)?.settings ?? this.config.daemon).notify, memory);
  }

  /** Starts the schedule and the start-up check (which finishes any rotation a crash interrupted). */
  async start(): Promise<void> {
    const saved = await this.init.stateStore.read();
    this.lastCheck = saved.lastCheck;
    const memory = await this.init.notificationStore?.read();
    if (memory !== undefined) this.notifications = this.createNotifications(memory);
    this.scheduler = this.init.createScheduler({
      expression: this.config.daemon.schedule,
      onDue: async () => {
        await this.check('schedule');
      },
      onError: (error) => this.init.logger.error({ cause: describeCause(error) }, 'A scheduled check failed unexpectedly; keyupd goes on.'),
    });
    // A first start has nothing to make up; the start-up check is its first check anyway.
    const missed = saved.lastCheck === null ? null : findMissedSlot(this.config.daemon.schedule, new Date(saved.lastCheck), this.now());
    const reason: CheckReason = missed === null ? 'start' : 'make-up';
    if (missed !== null) this.init.logger.info({ missed: missed.toISOString() }, `Making up the check of ${missed.toISOString()}, missed while keyupd was not running.`);
    this.seen = (await this.readFingerprints(false)) ?? this.seen;
    void this.check(reason);
  }

  /** SIGTERM: stop taking work, stop the rotation in flight at a resumable point, and wait for it. */
  async shutdown(): Promise<void> {
    this.stop.abort();
    this.scheduler?.stop();
    if (this.networkWait !== undefined) clearTimeout(this.networkWait.timer);
    await this.whenIdle();
    await this.persist();
  }

  /** The socket's `status`: SPEC's document, from memory. */
  status() {
    return buildStatus({
      version: this.init.version,
      pid: this.init.pid ?? process.pid,
      started: this.started,
      schedule: this.config.daemon.schedule,
      nextCheck: this.networkWait?.at ?? this.scheduler?.nextCheck() ?? null,
      configError: this.configError,
      waitingForNetwork: this.networkWait !== undefined,
      views: this.init.engine.view(),
    });
  }

  get currentConfig(): KeyupConfig {
    return this.config;
  }

  /** keyup rewrote one of the AWS files (the engine's store says so right after the rename): not news. */
  noteWritten(file: AwsFile, fingerprint: string): void {
    this.seen = { ...this.seen, [file]: fingerprint };
  }

  /**
   * Reads the configuration again (SIGHUP, `reload`, the file changed). A bad one keeps the
   * running one, is logged, and shows in status until fixed; a good one applies at once (a
   * changed schedule included).
   */
  async reload(): Promise<{ reloaded: boolean; configError: ErrorInfo | null }> {
    let next: KeyupConfig;
    try {
      next = await this.init.reloadConfig();
    } catch (error) {
      const failure = error instanceof KeyupError ? error : new KeyupError('keyup could not read its configuration again.', { code: 'config-invalid', cause: error });
      this.configError = toErrorInfo(failure);
      this.init.logger.error({ code: failure.code }, `The changed configuration was refused, and the previous one keeps running: ${failure.userMessage}`);
      this.lookAgainAfterReload(false);
      return { reloaded: false, configError: this.configError };
    }
    const previous = this.config;
    this.config = next;
    this.configError = null;
    this.init.engine.setConfig(next);
    await this.init.applyLogSettings?.(next);
    if (next.daemon.schedule !== previous.daemon.schedule) {
      this.scheduler?.reschedule(next.daemon.schedule);
      this.init.logger.info({ schedule: next.daemon.schedule, next: this.scheduler?.nextCheck()?.toISOString() ?? null }, `The schedule is now ${next.daemon.schedule}.`);
    }
    this.init.logger.info({ file: next.file }, `Configuration reloaded from ${next.file}.`);
    const names = (config: KeyupConfig) => config.profiles.map((profile) => profile.name).join('\0');
    this.lookAgainAfterReload(names(next) !== names(previous));
    return { reloaded: true, configError: null };
  }

  /**
   * A reload re-reads the credentials file too (SPEC): checked again if it changed in a way the
   * watcher has not reported, or at once when the managed profiles changed, so that a profile
   * just added has its key looked at now rather than at the next scheduled check.
   */
  private lookAgainAfterReload(profilesChanged: boolean): void {
    if (profilesChanged) void this.check('reload');
    else void this.onFileChange(this.init.paths.credentialsFile);
  }

  /**
   * A watched file changed. keyup's config: reload. The AWS files: if what matters to keyup
   * (which key each profile holds, which sessions are there) differs from what the engine last
   * saw, check again — a new session defers at once, a key changed by hand is picked up, a
   * retired key written back is replaced from the journal's safety copy. keyup's own writes
   * leave that unchanged and cause nothing.
   */
  async onFileChange(file: string): Promise<void> {
    if (this.stop.signal.aborted) return;
    if (file === this.init.paths.keyupConfigFile) {
      await this.reload();
      return;
    }
    if (this.running > 0) {
      // Looked at once the work in flight is done: the files may change under it again.
      this.pendingChange = true;
      return;
    }
    const now = await this.readFingerprints(true);
    if (now === undefined || (now.credentials === this.seen.credentials && now.config === this.seen.config)) return;
    this.seen = now;
    this.init.logger.info({ file }, `${file} changed; checking the managed profiles again.`);
    await this.check('file-change');
  }

  /**
   * `rotate` on the socket: rotate the profiles asked (every managed one by default) whatever
   * their age, joining a rotation in flight. Progress goes to `onEvent`, whose listener may go
   * away (a client that disconnects) without touching the rotation.
   */
  async rotateNow(request: Pick<RunRequest, 'profiles' | 'force' | 'mfaCode' | 'onEvent'>): Promise<Outcome[]> {
    if (this.stop.signal.aborted) throw new KeyupError('keyupd is stopping and takes no more work.', { code: 'aborted', hint: 'Ask again once it has restarted.' });
    this.running++;
    try {
      const outcomes = await this.init.engine.run({ ...request, rotateNow: true, signal: this.stop.signal });
      for (const outcome of outcomes) this.logOutcome(outcome);
      return outcomes;
    } finally {
      this.running--;
      await this.persist();
      this.afterWork();
    }
  }

  /** `keys` on the socket. */
  keys(profile: string | undefined): ReturnType<Engine['keys']> {
    return this.init.engine.keys(profile === undefined ? undefined : [profile], this.stop.signal);
  }

  /**
   * One check through the engine. Automatic checks that meet no network (a machine that just
   * woke) are repeated with backoff and shown as waiting for the network, not as failures.
   */
  async check(reason: CheckReason): Promise<Outcome[]> {
    if (this.stop.signal.aborted) return [];
    this.running++;
    let outcomes: Outcome[] = [];
    try {
      this.init.logger.debug({ reason }, 'Checking the managed profiles.');
      outcomes = await this.init.engine.run({ signal: this.stop.signal });
      for (const outcome of outcomes) this.logOutcome(outcome);
      const offline = outcomes.some((outcome) => outcome.kind === 'failed' && outcome.error.code === 'network');
      if (offline && !this.stop.signal.aborted) this.waitForNetwork();
      else if (this.networkWait !== undefined && !offline) this.endNetworkWait();
      if (!offline) this.lastCheck = this.now().toISOString();
    } catch (error) {
      this.init.logger.error({ reason, cause: describeCause(error) }, 'A check failed unexpectedly; keyupd goes on.');
    } finally {
      this.running--;
      await this.persist();
      this.afterWork();
    }
    return outcomes;
  }

  /** When the last piece of work ends: wake whoever waits for quiet, and look at a file change that came meanwhile. */
  private afterWork(): void {
    if (this.running > 0) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
    if (this.pendingChange && !this.stop.signal.aborted) {
      this.pendingChange = false;
      void this.onFileChange(this.init.paths.credentialsFile);
    }
  }

  private waitForNetwork(): void {
    const backoff = this.init.networkBackoff ?? DEFAULT_BACKOFF;
    const delayMs = this.networkWait === undefined ? backoff.firstMs : Math.min(backoff.maxMs, this.networkWait.delayMs * 2);
    if (this.networkWait !== undefined) clearTimeout(this.networkWait.timer);
    const timer = setTimeout(() => void this.check('retry'), delayMs);
    // A pending retry alone must not keep a stopping daemon alive.
    timer.unref();
    this.networkWait = { timer, at: new Date(this.now().getTime() + delayMs), delayMs };
    this.init.logger.warn({ retryInMs: delayMs }, `Waiting for the network: AWS did not answer; keyup asks again in ${Math.round(delayMs / 1000)} s.`);
  }

  private endNetworkWait(): void {
    if (this.networkWait !== undefined) clearTimeout(this.networkWait.timer);
    this.networkWait = undefined;
    this.init.logger.info('The network is back.');
  }

  private logOutcome(outcome: Outcome): void {
    const [line = '', ...notes] = formatOutcome(outcome);
    const level = outcome.kind === 'failed' ? (outcome.error.code === 'network' ? 'warn' : 'error') : 'info';
    this.init.logger[level]({ profile: outcome.profile, outcome: outcome.kind, ...(outcome.kind === 'failed' ? { code: outcome.error.code } : {}) }, line);
    for (const note of notes) this.init.logger.info({ profile: outcome.profile }, note);
    const notification = this.notifications.consider(outcome, this.now());
    if (notification !== undefined) {
      this.init.logger.info({ profile: outcome.profile, notification: notification.title }, `Notifying: ${notification.title}.`);
      // Never waited for: a slow desktop must not hold a check.
      void this.init.notifier?.show(notification);
    }
  }

  /**
   * The AWS files' fingerprints now. `retry` reads a file that did not parse once more after a
   * moment (`aws configure` truncates, then writes); still broken, it is logged.
   */
  private async readFingerprints(retry: boolean): Promise<AwsFileFingerprints | undefined> {
    const store = new CredentialsStore({ fs: this.init.fs, paths: this.init.paths });
    try {
      return await store.fingerprints();
    } catch (error) {
      if (!retry) return undefined;
      await new Promise((resolve) => setTimeout(resolve, this.init.settleRetryMs ?? 1_000));
      try {
        return await store.fingerprints();
      } catch {
        this.init.logger.error({ cause: describeCause(error) }, `keyup cannot read the AWS files after a change: ${error instanceof KeyupError ? error.userMessage : String(error)}`);
        return undefined;
      }
    }
  }

  private whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private async persist(): Promise<void> {
    try {
      await this.init.stateStore.write({ lastCheck: this.lastCheck, views: this.init.engine.storedViews() });
      await this.init.notificationStore?.write(this.notifications.memory());
    } catch (error) {
      this.init.logger.warn({ cause: describeCause(error) }, `keyupd could not save its state in ${this.init.stateStore.path}; it goes on.`);
    }
  }
}
