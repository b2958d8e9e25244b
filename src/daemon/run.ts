import * as nodeFs from 'node:fs';
import type { KeyApi } from '../aws/key-api.js';
import { createKeyApiLoader, readRegion } from '../aws/load-key-api.js';
import { loadConfig, type KeyupConfig, type LogLevel } from '../config/index.js';
import { Engine } from '../engine/engine.js';
import { ExitCode } from '../errors.js';
import { ensurePrivateDir } from '../fs/fs.js';
import { startSocketServer, type SocketServer } from '../ipc/server.js';
import { openLogDestination, type LogDestination } from '../log-destination.js';
import { createLogger, describeCause, type Logger } from '../log.js';
import { resolvePaths, type Env } from '../paths.js';
import { sweepLeftovers } from '../sweep-leftovers.js';
import { readVersion } from '../version.js';
import type { AwsFile } from '../credentials/file-errors.js';
import { Daemon } from './daemon.js';
import { createDesktopNotifier } from '../notify/desktop.js';
import { NotificationStore } from '../notify/memory-store.js';
import { createHookRunner } from '../rotation/hooks.js';
import { createHandlers } from './handlers.js';
import { createScheduler } from './scheduler.js';
import { StateStore } from './state-store.js';
import { createFileWatcher, type FileWatcher } from './watcher.js';

export interface RunDaemonInit {
  env: Env;
  home: string;
  configFlag?: string;
  socketFlag?: string;
  /** `--log-level`: wins over `log_level`, through reloads too. */
  logLevel?: LogLevel;
  /** Tests pass a KeyApi with short timeouts; default: the AWS SDK, loaded at the first check (createKeyApiLoader). */
  keyApi?: KeyApi;
  /** Where `keyupd: …` warnings go (a failing log destination): stderr. */
  warn?: (line: string) => void;
}

/** SIGTERM to exit: the in-flight rotation stops at a resumable point well within this. */
const SHUTDOWN_DEADLINE_MS = 9_000;

/**
 * `keyupd`: the daemon in the foreground until SIGTERM or SIGINT (then exit 0), SIGHUP reloads.
 * Resolves with the exit code; rejects (exit 2) for a bad configuration or a socket another
 * keyupd serves, before anything runs.
 */
export async function runDaemon(init: RunDaemonInit): Promise<ExitCode> {
  // Taken from the start: SIGHUP's default action would end keyupd, and a `systemctl --user
  // reload` may come while it starts. Until the daemon exists there is nothing to reload: the
  // configuration is being read anyway.
  let onHangup = () => {};
  const hangup = () => onHangup();
  process.on('SIGHUP', hangup);
  try {
    return await runWithHangup(init, (handler) => (onHangup = handler));
  } finally {
    process.off('SIGHUP', hangup);
  }
}

/** runDaemon once SIGHUP is taken: `setHangupHandler` gives it its meaning once there is a daemon. */
async function runWithHangup(init: RunDaemonInit, setHangupHandler: (handler: () => void) => void): Promise<ExitCode> {
  const { env, home, keyApi } = init;
  const warn = init.warn ?? ((line: string) => process.stderr.write(`keyupd: ${line}\n`));
  const paths = resolvePaths({ env, home, ...(init.configFlag === undefined ? {} : { configFlag: init.configFlag }), ...(init.socketFlag === undefined ? {} : { socketFlag: init.socketFlag }) });
  const readConfig = () => loadConfig({ path: paths.keyupConfigFile, explicit: paths.keyupConfigExplicit, env, home });
  const config = await readConfig();
  await ensurePrivateDir(nodeFs, paths.stateDir);
  await sweepLeftovers(nodeFs, paths);

  const log = new SwitchableLog(init.logLevel, warn);
  await log.apply(config);
  const logger = log.logger;
  const stateStore = new StateStore({ fs: nodeFs, stateDir: paths.stateDir });
  const saved = await stateStore.read();
  const region = readRegion(env);
  // The daemon is made after the engine it drives; the engine writes only from the daemon's first check on.
  let noteWritten: (file: AwsFile, fingerprint: string) => void = () => {};
  const engine = new Engine({
    fs: nodeFs,
    paths,
    config,
    logger,
    loadKeyApi: keyApi === undefined ? createKeyApiLoader({ env, fs: nodeFs, paths }) : () => Promise.resolve(keyApi),
    ...(region === undefined ? {} : { region }),
    initialViews: saved.views,
    runHook: createHookRunner({ home, env: { ...env } }),
    onFileWritten: (file, fingerprint) => noteWritten(file, fingerprint),
  });
  const version = readVersion();
  const daemon = new Daemon({
    fs: nodeFs,
    paths,
    config,
    logger,
    engine,
    stateStore,
    createScheduler,
    reloadConfig: readConfig,
    applyLogSettings: (next) => log.apply(next),
    version,
    notifier: createDesktopNotifier({ env, warn: (sentence) => logger.warn(sentence) }),
    notificationStore: new NotificationStore(nodeFs, paths.stateDir),
  });
  noteWritten = (file, fingerprint) => daemon.noteWritten(file, fingerprint);
  setHangupHandler(() => {
    logger.info({ signal: 'SIGHUP' }, 'Reloading on SIGHUP.');
    void daemon.reload();
  });

  let server: SocketServer | undefined;
  let watcher: FileWatcher | undefined;
  try {
    server = await startSocketServer({
      path: paths.socketFile,
      logger,
      handlers: createHandlers({
        status: () => daemon.status(),
        rotateNow: (request) => daemon.rotateNow(request),
        keys: (profile) => daemon.keys(profile),
        reload: () => daemon.reload(),
        get currentConfig(): KeyupConfig {
          return daemon.currentConfig;
        },
        version,
        pid: process.pid,
      }),
    });
    watcher = createFileWatcher({
      files: [paths.credentialsFile, paths.awsConfigFile, paths.keyupConfigFile],
      onChange: (file) => daemon.onFileChange(file),
      onError: (error) => logger.warn({ cause: describeCause(error) }, 'The file watcher met a problem; keyupd goes on.'),
    });
    await watcher.ready;
    logger.info({ version, socket: paths.socketFile, schedule: config.daemon.schedule }, `keyupd ${version} started; checks on ${config.daemon.schedule}.`);
    await daemon.start();
    return await waitForStop(daemon, logger);
  } finally {
    await watcher?.close();
    await server?.close();
    await daemon.shutdown();
    logger.info('keyupd stopped.');
    await log.close();
  }
}

/**
 * Until SIGTERM or SIGINT: then stop taking work and let the rotation in flight reach a
 * resumable point (SIGHUP is runDaemon's). An error nothing caught is logged, and exits 1 so that the
 * service manager restarts keyupd.
 */
function waitForStop(daemon: Daemon, logger: Logger): Promise<ExitCode> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, `Stopping on ${signal}.`);
      cleanup();
      const deadline = setTimeout(() => {
        logger.warn('The rotation in flight did not stop in time; it resumes from its journal at the next start.');
        process.exit(ExitCode.ok);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      void daemon.shutdown().then(() => resolve(ExitCode.ok));
    };
    const crash = (error: unknown) => {
      logger.fatal({ cause: describeCause(error) }, 'keyupd met an error it did not expect and stops; the service manager starts it again.');
      process.exitCode = ExitCode.failed;
      cleanup();
      void daemon.shutdown().finally(() => resolve(ExitCode.failed));
    };
    const cleanup = () => {
      process.off('SIGTERM', stop).off('SIGINT', stop).off('uncaughtException', crash).off('unhandledRejection', crash);
    };
    process.on('SIGTERM', stop).on('SIGINT', stop).on('uncaughtException', crash).on('unhandledRejection', crash);
  });
}

/**
 * The log, where a reload may move it (another `log`, `log_file`, `syslog`, `log_level`): pino
 * writes to this one stream, which forwards each line to the destination of the moment.
 */
class SwitchableLog {
  readonly logger: Logger;
  private destination: LogDestination | undefined;
  private settings = '';

  constructor(
    private readonly levelFlag: LogLevel | undefined,
    private readonly warn: (line: string) => void,
  ) {
    const stream = { write: (line: string) => this.destination?.stream.write(line) };
    this.logger = createLogger({ level: levelFlag ?? 'info', destination: stream, timestamp: 'iso' });
  }

  async apply(config: KeyupConfig): Promise<void> {
    const { log, logFile, syslog, logLevel } = config.daemon;
    this.logger.level = this.levelFlag ?? logLevel;
    const settings = JSON.stringify({ log, logFile, syslog });
    if (settings === this.settings) return;
    const previous = this.destination;
    this.destination = await openLogDestination(config.daemon, { fs: nodeFs, consoleStream: process.stdout, warn: this.warn });
    this.settings = settings;
    await previous?.close();
  }

  async close(): Promise<void> {
    await this.destination?.close();
  }
}
