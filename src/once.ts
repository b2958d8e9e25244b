import * as nodeFs from 'node:fs';
import type { KeyApi } from './aws/key-api.js';
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
  /** Tests pass a KeyApi with short timeouts; default: the AWS SDK. */
  keyApi?: KeyApi;
  /** Tests shorten verification; default: SPEC's bounds. */
  verifyInit?: EngineInit['verifyInit'];
  /** Stops the check at a resumable point (SIGTERM). */
  signal?: AbortSignal;
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
    const engine = new Engine({
      fs: nodeFs,
      paths,
      config,
      logger,
      // Loaded only when a check needs it: a usage or configuration error should not wait for the SDK.
      loadKeyApi: async () => init.keyApi ?? (await import('./aws/sdk-key-api.js')).createSdkKeyApi(),
      ...(readRegion(env) === undefined ? {} : { region: readRegion(env) }),
      ...(init.verifyInit === undefined ? {} : { verifyInit: init.verifyInit }),
      runHook: createHookRunner({ home, env: { ...env } }),
    });
    const outcomes = await engine.run(init.signal === undefined ? {} : { signal: init.signal });
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

function readRegion(env: Env): string | undefined {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return region === undefined || region === '' ? undefined : region;
}
