import * as nodeFs from 'node:fs';
import type { KeyApi } from './aws/key-api.js';
import { loadConfig, type KeyupConfig, type LogLevel } from './config/index.js';
import { CredentialsStore } from './credentials/index.js';
import type { ExitCode } from './errors.js';
import { ensurePrivateDir } from './fs/fs.js';
import { openLogDestination } from './log-destination.js';
import { createLogger, describeCause, type Logger } from './log.js';
import { resolvePaths, type Env, type KeyupPaths } from './paths.js';
import { sweepLeftovers } from './sweep-leftovers.js';
import { History } from './rotation/history.js';
import { Journal } from './rotation/journal.js';
import { RotationLock } from './rotation/lock.js';
import { Rotator, type RotateOutcome, type RotatorDeps } from './rotation/rotator.js';
import { createCredentialsFile } from './rotation/store-adapter.js';
import { formatOutcome, getExitCode } from './rotation/summary.js';

export interface RunOnceInit {
  env: Env;
  home: string;
  configFlag?: string;
  logLevel?: LogLevel;
  /** Each summary line, without the program's name. */
  print: (line: string) => void;
  /** With --debug: where the stack of what made a profile fail goes. */
  printDebug?: (text: string) => void;
  /** Tests pass a KeyApi with short timeouts; default: the AWS SDK. */
  keyApi?: KeyApi;
  /** Tests shorten verification; default: SPEC's bounds. */
  verifyInit?: RotatorDeps['verifyInit'];
}

/** The rotation engine wired to the real file system, AWS and the configured log. */
export async function createRotator(paths: KeyupPaths, config: KeyupConfig, logger: Logger, env: Env, init: Pick<RunOnceInit, 'keyApi' | 'verifyInit'> = {}): Promise<Rotator> {
  const fs = nodeFs;
  const store = new CredentialsStore({ fs, paths, backup: config.daemon.backup, backupKeep: config.daemon.backupKeep });
  return new Rotator({
    // Loaded here, not at start-up: a usage or configuration error should not wait for the SDK.
    keyApi: init.keyApi ?? (await import('./aws/sdk-key-api.js')).createSdkKeyApi(),
    credentials: createCredentialsFile(store, paths.credentialsFile),
    journal: new Journal({ fs, stateDir: paths.stateDir }),
    history: new History({ fs, stateDir: paths.stateDir }),
    lock: new RotationLock({ fs, stateDir: paths.stateDir }),
    logger,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? undefined,
    ...(init.verifyInit === undefined ? {} : { verifyInit: init.verifyInit }),
  });
}

/**
 * `keyupd --once`: finish any interrupted rotation, check every managed profile, rotate what
 * is due, print a line per profile, and answer SPEC's exit code.
 */
export async function runOnce(init: RunOnceInit): Promise<ExitCode> {
  const { env, home, print } = init;
  const paths = resolvePaths({ env, home, ...(init.configFlag === undefined ? {} : { configFlag: init.configFlag }) });
  const config = await loadConfig({ path: paths.keyupConfigFile, explicit: paths.keyupConfigExplicit, env, home });
  await ensurePrivateDir(nodeFs, paths.stateDir);
  await sweepLeftovers(nodeFs, paths);

  const settings = config.daemon;
  const destination = await openLogDestination(settings, {
    fs: nodeFs,
    // The summary owns stdout; with `log = stdout` the log lines go to stderr beside it.
    consoleStream: process.stderr,
    warn: (sentence) => process.stderr.write(`keyupd: ${sentence}\n`),
  });
  const logger = createLogger({ level: init.logLevel ?? settings.logLevel, destination: destination.stream, timestamp: destination.timestamp });
  try {
    const rotator = await createRotator(paths, config, logger, env, init);
    const outcomes: RotateOutcome[] = [];
    const maxAgeOf = (profile: string) => config.profiles.find((p) => p.name === profile)?.settings.maxAgeDays ?? settings.maxAgeDays;
    const report = (outcome: RotateOutcome) => {
      outcomes.push(outcome);
      for (const line of formatOutcome(outcome, maxAgeOf(outcome.profile))) print(line);
      if (outcome.kind === 'failed') {
        logger.error({ profile: outcome.profile, cause: describeCause(outcome.error.cause) }, outcome.error.userMessage);
        const { cause } = outcome.error;
        init.printDebug?.(cause instanceof Error && cause.stack !== undefined ? cause.stack : (outcome.error.stack ?? ''));
      }
    };
    // A managed profile resumes its own unfinished rotation in rotate(), which knows its settings
    // and can start an interrupted one again; here only those of profiles no longer managed.
    const managed = new Set(config.profiles.map((profile) => profile.name));
    for (const outcome of await rotator.recoverAll({ except: managed })) report(outcome);
    // Two managed profiles may hold one key: the first one's rotation gives both the new key,
    // which the second must then not rotate again in the same check.
    const freshKeys = new Set<string>();
    for (const profile of config.profiles) {
      const { maxAgeDays, warnAgeDays, oldKey, deferOnSessions } = profile.settings;
      const outcome = await rotator.rotate({
        profile: profile.name,
        settings: { maxAgeDays, warnAgeDays, oldKey, deferOnSessions, ...(profile.manageWith === undefined ? {} : { manageWith: profile.manageWith }) },
        freshKeys,
      });
      if (outcome.kind === 'rotated') freshKeys.add(outcome.newKeyId);
      report(outcome);
    }
    return getExitCode(outcomes);
  } finally {
    await destination.close();
  }
}

