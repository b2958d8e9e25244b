import * as nodeFs from 'node:fs';
import type { KeyApi } from './aws/key-api.js';
import { createKeyApiLoader, readRegion } from './aws/load-key-api.js';
import { loadConfig, type KeyupConfig, type LogLevel } from './config/index.js';
import { Engine, type EngineInit } from './engine/engine.js';
import { getErrorCause, type Outcome } from './engine/outcome.js';
import type { ExitCode } from './errors.js';
import { ensurePrivateDir } from './fs/fs.js';
import { openLogDestination } from './log-destination.js';
import { createLogger } from './log.js';
import { resolvePaths, type Env } from './paths.js';
import { createDesktopNotifier } from './notify/desktop.js';
import { NotificationStore } from './notify/memory-store.js';
import { Notifications } from './notify/notifications.js';
import { formatOutcome, getExitCode } from './present/outcome-lines.js';
import { createHookRunner } from './rotation/hooks.js';
import { sweepLeftovers } from './sweep-leftovers.js';

export interface RunOnceInit {
  env: Env;
  home: string;
  configFlag?: string;
  logLevel?: LogLevel;
  /** Each summary line, without the program's name. */
  print: (line: string) => void;
  /** With --debug: where the stack of what made a profile fail goes. */
  printDebug?: (text: string) => void;
  /** Tests pass a KeyApi with short timeouts; default: the AWS SDK, loaded at the first check (createKeyApiLoader). */
  keyApi?: KeyApi;
  /** Tests shorten verification; default: SPEC's bounds. */
  verifyInit?: EngineInit['verifyInit'];
  /** Stops the check at a resumable point (SIGTERM). */
  signal?: AbortSignal;
  /**
   * Asks a question at the terminal (undefined: no answer). Given when one is there: a profile IAM
   * changes only with MFA asks for the code and is checked again with it. From cron it is not,
   * and such a profile is reported as needing MFA.
   */
  ask?: (question: string) => Promise<string | undefined>;
}

/** A code STS refused (a typo, a code a moment too old) may be typed again, this many times in all. */
const MFA_ATTEMPTS = 3;

/**
 * `keyupd --once`: finish any interrupted rotation, check every managed profile, rotate what
 * is due, print a line per profile, and answer SPEC's exit code.
 */
export async function runOnce(init: RunOnceInit): Promise<ExitCode> {
  const { env, home, print, keyApi } = init;
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
  const region = readRegion(env);
  try {
    const engine = new Engine({
      fs: nodeFs,
      paths,
      config,
      logger,
      loadKeyApi: keyApi === undefined ? createKeyApiLoader({ env, fs: nodeFs, paths }) : () => Promise.resolve(keyApi),
      ...(region === undefined ? {} : { region }),
      ...(init.verifyInit === undefined ? {} : { verifyInit: init.verifyInit }),
      runHook: createHookRunner({ home, env: { ...env } }),
    });
    let outcomes = await engine.run(init.signal === undefined ? {} : { signal: init.signal });
    if (init.ask !== undefined) outcomes = await askForMfaCodes(engine, outcomes, init.ask, init.signal);
    await notify(outcomes, config, paths.stateDir, env, (sentence) => logger.warn(sentence));
    for (const outcome of outcomes) {
      for (const line of formatOutcome(outcome)) print(line);
      if (outcome.kind === 'failed') {
        const cause = getErrorCause(outcome.error)?.cause;
        init.printDebug?.(cause instanceof Error && cause.stack !== undefined ? cause.stack : (getErrorCause(outcome.error)?.stack ?? ''));
      }
    }
    return getExitCode(outcomes);
  } finally {
    await destination.close();
  }
}

/**
 * Each managed profile that needs an MFA code asks for one and is checked again with it, while
 * STS refuses the codes typed (up to {@link MFA_ATTEMPTS}); no answer leaves it as it was.
 */
async function askForMfaCodes(engine: Engine, outcomes: readonly Outcome[], ask: (question: string) => Promise<string | undefined>, signal: AbortSignal | undefined): Promise<Outcome[]> {
  const managed = new Set(engine.managedProfiles());
  const answered: Outcome[] = [];
  for (const outcome of outcomes) {
    let latest = outcome;
    for (let attempt = 0; attempt < MFA_ATTEMPTS && managed.has(latest.profile) && wantsMfaCode(latest) && signal?.aborted !== true; attempt++) {
      const answer = (await ask(`keyupd: ${latest.error.message}\nkeyupd: MFA code for profile ${latest.profile}: `))?.trim();
      if (answer === undefined || answer === '') break;
      if (!/^\d{6}$/.test(answer)) {
        process.stderr.write('keyupd: an MFA code is the six digits the device shows.\n');
        continue;
      }
      const again = await engine.run({ profiles: [latest.profile], mfaCode: answer, ...(signal === undefined ? {} : { signal }) });
      latest = again.find((candidate) => candidate.profile === latest.profile) ?? latest;
    }
    answered.push(latest);
  }
  return answered;
}

function wantsMfaCode(outcome: Outcome): outcome is Extract<Outcome, { kind: 'failed' }> {
  return outcome.kind === 'failed' && (outcome.error.code === 'needs-mfa' || outcome.error.code === 'mfa-code-refused');
}

/** Desktop notifications for this check's outcomes (SPEC `notify`), each event once across runs. */
async function notify(outcomes: readonly Outcome[], config: KeyupConfig, stateDir: string, env: Env, warn: (sentence: string) => void): Promise<void> {
  const store = new NotificationStore(nodeFs, stateDir);
  const notifications = new Notifications((profile) => (config.profiles.find((p) => p.name === profile)?.settings ?? config.daemon).notify, await store.read());
  const notifier = createDesktopNotifier({ env: { ...env }, warn });
  for (const outcome of outcomes) {
    const notification = notifications.consider(outcome, new Date());
    if (notification !== undefined) await notifier.show(notification);
  }
  await store.write(notifications.memory()).catch(() => undefined);
}
