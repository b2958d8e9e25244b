/**
 * `keyupctl install [--dry-run]` and `keyupctl uninstall`: keyupd as a per-user service, a systemd
 * user unit on Linux and a launchd agent on macOS.
 *
 * For keyupctl: build a {@link ServiceInit} (see {@link createServiceInit}), call {@link install} or
 * {@link uninstall}, print each of the report's `lines` to stdout as it is, exit 0. Failures are
 * {@link KeyupError}s with exit code 1 (print `userMessage`): code `no-service-manager` where no
 * user service manager answers (the SPEC's one sentence, saying what to do instead),
 * `service-failed` where one refused, `state` where the file could not be written.
 */
import * as nodeFs from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyupError } from '../errors.js';
import { describeFsError } from '../fs/describe-fs-error.js';
import { ensureFolder } from '../fs/ensure-folder.js';
import { getErrorCode, readText, toText, type FileSystem } from '../fs/fs.js';
import { writeFileAtomically } from '../fs/atomic-write.js';
import type { Env } from '../paths.js';
import { checkLaunchdDomain, planLaunchdStart, planLaunchdStop, runLaunchctl } from './launchd.js';
import type { FileState, ManagerContext, PlannedCommand } from './manager-context.js';
import { getLaunchdLogFile, getPinnedEnvironment, getServiceFile, LAUNCHD_LABEL, pickServiceManager, SYSTEMD_UNIT, TEMPLATE_PATHS, type ServiceManagerName } from './platform.js';
import { findTemplateDir, isVersionedPath, resolveKeyupdPath, resolveNodePath } from './program-paths.js';
import { renderLaunchdPlist, renderSystemdUnit } from './render.js';
import { createRunCommand, formatCommand, type RunCommand } from './run-command.js';
import { checkSystemdUserManager, planSystemdStart, planSystemdStop, runSystemctl } from './systemd.js';

export type { FileState, PlannedCommand } from './manager-context.js';
export type { ServiceManagerName } from './platform.js';

/**
 * The unit's mode. 0600 rather than the usual 0644: SPEC makes every file keyup writes 0600, and
 * nobody but its owner's service manager, which runs as the owner, needs to read it.
 */
export const SERVICE_FILE_MODE = 0o600;

/** Everything install and uninstall touch, passed in. */
export interface ServiceInit {
  /** `process.platform`: linux → systemd, darwin → launchd, else none. */
  platform: NodeJS.Platform;
  /** Chooses the files (XDG_CONFIG_HOME, XDG_STATE_HOME, …): see getServiceFile. */
  env: Env;
  homedir: string;
  /** `process.getuid()`: launchd's domain is `gui/<uid>`. */
  uid: number;
  /** Runs systemctl and launchctl: {@link createRunCommand}. */
  run: RunCommand;
  fs: FileSystem;
  /** Default: a timer. */
  delay?: (ms: number) => Promise<void>;
}

export interface InstallInit extends ServiceInit {
  /** `process.execPath`: the node the service runs keyupd with. */
  execPath: string;
  /** `process.argv[1]`, the running keyupctl: keyupd.js is beside its real file. */
  scriptPath: string;
  /** The folder with systemd/ and launchd/. Default: keyup's package folder. */
  templateDir?: string;
}

/** What {@link install} would do, found without changing or running anything. */
export interface InstallPlan {
  readonly manager: ServiceManagerName;
  /** Where the unit or agent goes. */
  readonly file: string;
  readonly content: string;
  readonly fileState: FileState;
  readonly node: string;
  readonly keyupd: string;
  /** launchd: the file it appends keyupd's output to, made 0600 beforehand. */
  readonly logFile: string | undefined;
  /** After writing the file, in order. */
  readonly commands: readonly PlannedCommand[];
}

/** What was done (or, dry, would be), one line each, to print as they are. */
export interface ServiceReport {
  readonly lines: readonly string[];
}

/** What {@link install} did: its lines, and whether the unit was new, changed or as it was. */
export interface InstallReport extends ServiceReport {
  readonly fileState: FileState;
}

/** The programs' ServiceInit: this process, its environment, node:fs. */
export function createServiceInit(): InstallInit {
  return {
    platform: process.platform,
    env: process.env,
    homedir: homedir(),
    uid: process.getuid?.() ?? -1,
    run: createRunCommand({ env: process.env }),
    fs: nodeFs,
    execPath: process.execPath,
    scriptPath: process.argv[1] ?? '',
  };
}

async function readIfThere(fs: FileSystem, file: string): Promise<string | undefined> {
  try {
    return await readText(fs, file);
  } catch (error) {
    if (getErrorCode(error) === 'ENOENT') return undefined;
    throw createFileError(file, 'read', error);
  }
}

function createFileError(file: string, verb: string, error: unknown): KeyupError {
  if (error instanceof KeyupError) return error;
  return new KeyupError(`Cannot ${verb} ${file}: ${describeFsError(error)}.`, { hint: 'Check that file and its folder, and their permissions.', code: 'state', cause: error });
}

/** The unit or agent keyupctl would write, whether it differs from the one there, and what runs after. */
export async function planInstall(init: InstallInit): Promise<InstallPlan> {
  const { fs, env, homedir: home } = init;
  const manager = pickServiceManager(init.platform);
  const node = await resolveNodePath(fs, init.execPath);
  const keyupd = await resolveKeyupdPath(fs, init.scriptPath);
  const templateDir = init.templateDir ?? (await findTemplateDir(fs, manager));
  const template = await readText(fs, join(templateDir, TEMPLATE_PATHS[manager])).catch((error: unknown) => {
    throw createFileError(join(templateDir, TEMPLATE_PATHS[manager]), 'read', error);
  });
  const environment = getPinnedEnvironment(manager, env, home);
  const logFile = manager === 'launchd' ? getLaunchdLogFile(env, home) : undefined;
  const content = logFile === undefined ? renderSystemdUnit(template, { node, keyupd, environment }) : renderLaunchdPlist(template, { node, keyupd, environment, log: logFile });
  const file = getServiceFile(manager, env, home);
  const existing = await readIfThere(fs, file);
  const fileState: FileState = existing === undefined ? 'new' : existing === content ? 'unchanged' : 'changed';
  const commands = manager === 'systemd' ? planSystemdStart(fileState) : planLaunchdStart(fileState, init.uid, file);
  return { manager, file, content, fileState, node, keyupd, logFile, commands };
}

function createContext(init: ServiceInit, lines: string[]): ManagerContext {
  return { run: init.run, uid: init.uid, delay: init.delay ?? ((ms) => sleep(ms)), say: (line) => lines.push(line) };
}

function describePlan(plan: InstallPlan): string[] {
  const mode = SERVICE_FILE_MODE.toString(8).padStart(4, '0');
  const lines =
    plan.fileState === 'unchanged'
      ? [`${plan.file} is up to date; it would not be written again.`]
      : [`Would write ${plan.file} (mode ${mode}${plan.fileState === 'new' ? ', a new file' : ', replacing the one there'}):`, ...plan.content.replace(/\n$/, '').split('\n')];
  if (plan.logFile !== undefined) lines.push(`Would make ${plan.logFile} (mode 0600) for keyupd's output, if it is not there.`);
  return [...lines, ...plan.commands.map(({ command, args }) => `Would run: ${formatCommand(command, args)}`)];
}

/**
 * Writes the unit (only when it differs), then enables and starts it: see planSystemdStart and
 * planLaunchdStart for what runs in each case. Running it twice changes nothing: the second
 * run finds the file up to date and leaves a running keyupd running. With `dryRun` it reads
 * only, runs nothing, and reports the file it would write and the commands it would run.
 */
export async function install(init: InstallInit, { dryRun = false }: { dryRun?: boolean } = {}): Promise<InstallReport> {
  const plan = await planInstall(init);
  if (dryRun) return { lines: describePlan(plan), fileState: plan.fileState };
  const lines: string[] = [];
  const context = createContext(init, lines);
  // Before writing anything, so that nothing is left behind where no manager answers.
  if (plan.manager === 'systemd') await checkSystemdUserManager(context, 'install', plan.file);
  else await checkLaunchdDomain(context, 'install', plan.file);
  const runs = `keyupd runs as ${formatCommand(plan.node, [plan.keyupd])}`;
  if (plan.fileState === 'unchanged') lines.push(`${plan.file} is up to date (${runs}).`);
  else {
    await writeServiceFile(init.fs, plan.file, plan.content);
    lines.push(`Wrote ${plan.file} (${runs}).`);
  }
  if (plan.logFile !== undefined) await ensureLogFile(init.fs, plan.logFile);
  if (plan.manager === 'systemd') {
    await runSystemctl(context, plan.commands, 'install', plan.file);
    lines.push(`${SYSTEMD_UNIT} is enabled and started: journalctl --user -u keyupd shows its log, keyupctl status whether it answers.`);
  } else {
    await runLaunchctl(context, plan.commands, { action: 'install', file: plan.file, state: plan.fileState });
    lines.push(`${LAUNCHD_LABEL} is loaded and started: ${plan.logFile ?? ''} holds its log, keyupctl status tells whether it answers.`);
  }
  if (isVersionedPath(plan.node)) lines.push(`That node belongs to one Node version (${dirname(dirname(plan.node))}): run keyupctl install again after switching versions.`);
  return { lines, fileState: plan.fileState };
}

/** Writes the unit atomically, through a link if it is one (a dotfiles manager's link stays a link). */
async function writeServiceFile(fs: FileSystem, file: string, content: string): Promise<void> {
  try {
    await ensureFolder(fs, dirname(file));
    const target = await fs.promises.realpath(file).then(toText, () => file);
    await writeFileAtomically({ fs, file: target, data: content, mode: SERVICE_FILE_MODE });
  } catch (error) {
    throw createFileError(file, 'write', error);
  }
}

/**
 * launchd appends keyupd's output to the log file, creating it with its own idea of a mode; made
 * here first, 0600 like every file keyup writes, and its folder 0700.
 */
async function ensureLogFile(fs: FileSystem, logFile: string): Promise<void> {
  try {
    await ensureFolder(fs, dirname(logFile));
    const handle = await fs.promises.open(logFile, 'a', 0o600);
    try {
      await handle.chmod(0o600);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw createFileError(logFile, 'make', error);
  }
}

/**
 * Stops, disables and removes the service (systemd: `disable --now`, remove, `daemon-reload`;
 * launchd: `bootout`, remove). Without a unit file there is nothing installed: it says so and
 * runs nothing.
 */
export async function uninstall(init: ServiceInit): Promise<ServiceReport> {
  const manager = pickServiceManager(init.platform);
  const file = getServiceFile(manager, init.env, init.homedir);
  const there = await init.fs.promises.lstat(file).then(
    () => true,
    (error: unknown) => {
      if (getErrorCode(error) === 'ENOENT') return false;
      throw createFileError(file, 'read', error);
    },
  );
  const name = manager === 'systemd' ? SYSTEMD_UNIT : LAUNCHD_LABEL;
  if (!there) return { lines: [`${name} is not installed (there is no ${file}); nothing to do.`] };
  const lines: string[] = [];
  const context = createContext(init, lines);
  if (manager === 'systemd') {
    await checkSystemdUserManager(context, 'uninstall', file);
    const { before, after } = planSystemdStop();
    await runSystemctl(context, before, 'uninstall', file);
    await removeServiceFile(init.fs, file, lines);
    await runSystemctl(context, after, 'uninstall', file);
  } else {
    await checkLaunchdDomain(context, 'uninstall', file);
    await runLaunchctl(context, planLaunchdStop(init.uid), { action: 'uninstall', file });
    await removeServiceFile(init.fs, file, lines);
  }
  lines.push(`${name} is stopped and removed.`);
  return { lines };
}

async function removeServiceFile(fs: FileSystem, file: string, lines: string[]): Promise<void> {
  try {
    await fs.promises.unlink(file);
  } catch (error) {
    if (getErrorCode(error) !== 'ENOENT') throw createFileError(file, 'remove', error);
  }
  lines.push(`Removed ${file}.`);
}
