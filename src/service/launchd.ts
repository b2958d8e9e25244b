import type { KeyupError } from '../errors.js';
import type { FileState, ManagerContext, PlannedCommand, ServiceAction } from './manager-context.js';
import { LAUNCHD_LABEL } from './platform.js';
import { describeCommandFailure, formatCommand, type CommandResult } from './run-command.js';
import { createServiceError } from './service-error.js';

const LAUNCHCTL = 'launchctl';

/** launchctl's answers for a job that is not loaded: ESRCH "No such process" (3); newer macOS, 113. */
const NOT_LOADED = { codes: new Set([3, 113]), text: /No such process|Could not find (specified )?service/i };
/** bootout still waits for the job to exit: EINPROGRESS (36). */
const IN_PROGRESS = { codes: new Set([36]), text: /in progress/i };
/** kickstart of a job that runs: EALREADY (37). */
const ALREADY = { codes: new Set([37]), text: /already/i };
/** How long launchd may take to let go of a job after bootout: its ExitTimeOut (15 s) and some. */
const UNLOAD_WAIT_MS = 20_000;
const POLL_MS = 250;

function answers(result: CommandResult, kind: { codes: ReadonlySet<number>; text: RegExp }): boolean {
  return (result.exitCode !== null && kind.codes.has(result.exitCode)) || kind.text.test(result.stderr);
}

const domainOf = (uid: number): string => `gui/${uid}`;
const targetOf = (uid: number): string => `gui/${uid}/${LAUNCHD_LABEL}`;
const launchctl = (...args: string[]): PlannedCommand => ({ command: LAUNCHCTL, args });

/**
 * What `install` runs after writing the agent. A new or changed agent: bootout first, because
 * bootstrap refuses (error 5) while the label is loaded, then enable (a label once disabled is
 * refused for good), then bootstrap, which starts it (RunAtLoad). An unchanged one is not booted
 * out, so a running keyupd keeps running: enable, bootstrap (answered "loaded already" when it
 * is), and kickstart, which starts it only if it does not run.
 */
export function planLaunchdStart(state: FileState, uid: number, file: string): PlannedCommand[] {
  const steps = [launchctl('enable', targetOf(uid)), launchctl('bootstrap', domainOf(uid), file)];
  return state === 'unchanged' ? [...steps, launchctl('kickstart', targetOf(uid))] : [launchctl('bootout', targetOf(uid)), ...steps];
}

/** What `uninstall` runs before removing the file. */
export function planLaunchdStop(uid: number): PlannedCommand[] {
  return [launchctl('bootout', targetOf(uid))];
}

function createNoManagerError(action: ServiceAction, uid: number, file: string, result: CommandResult): KeyupError {
  const consequence = action === 'install' ? 'keyupd cannot be installed as an agent' : `${LAUNCHD_LABEL} cannot be stopped and removed`;
  const hint = action === 'install' ? 'Log in at the desktop and run keyupctl install there, or run keyupd --once daily from cron.' : `Log in at the desktop and run keyupctl uninstall there, or remove ${file} by hand.`;
  if (result.failure === 'ENOENT') return createServiceError('no-service-manager', `launchctl is not installed, so there is no launchd to run keyupd and ${consequence}.`, hint);
  return createServiceError('no-service-manager', `launchd has no desktop session for user ${uid} (launchctl print ${domainOf(uid)}: ${describeCommandFailure(result)}), so ${consequence}.`, hint);
}

/** Fails with the SPEC's one sentence unless launchd has this user's GUI domain, where agents run. */
export async function checkLaunchdDomain(context: ManagerContext, action: ServiceAction, file: string): Promise<void> {
  const result = await context.run(LAUNCHCTL, ['print', domainOf(context.uid)]);
  if (result.exitCode !== 0) throw createNoManagerError(action, context.uid, file, result);
}

async function isLoaded(context: ManagerContext): Promise<boolean> {
  return (await context.run(LAUNCHCTL, ['print', targetOf(context.uid)])).exitCode === 0;
}

async function waitUntilUnloaded(context: ManagerContext): Promise<void> {
  for (let waited = 0; waited < UNLOAD_WAIT_MS; waited += POLL_MS) {
    await context.delay(POLL_MS);
    if (!(await isLoaded(context))) return;
  }
  throw createServiceError('service-failed', `launchd still holds ${LAUNCHD_LABEL} ${UNLOAD_WAIT_MS / 1000} s after launchctl bootout.`, `Run launchctl bootout ${targetOf(context.uid)}, then keyupctl install again.`);
}

function createFailure(shown: string, result: CommandResult, context: ManagerContext, file: string): KeyupError {
  return createServiceError('service-failed', `${shown} failed (${describeCommandFailure(result)}).`, `plutil -lint ${file} and launchctl print ${targetOf(context.uid)} tell more.`);
}

/** What a run of launchctl commands is for. */
export interface LaunchctlRun {
  readonly action: ServiceAction;
  /** The agent's file, which `install` has just written or found unchanged. */
  readonly file: string;
  readonly state?: FileState;
}

/** Runs each command in turn, reporting it; the first that fails stops the rest. */
export async function runLaunchctl(context: ManagerContext, commands: readonly PlannedCommand[], run: LaunchctlRun): Promise<void> {
  for (const planned of commands) {
    const note = await runOne(context, planned, run);
    context.say(`Ran: ${formatCommand(planned.command, planned.args)}${note}`);
  }
}

/**
 * Runs one command and tells apart the launchctl answers that are no failure: bootout of a job
 * not loaded, bootout still waiting for keyupd to exit, bootstrap of a job still loaded, kickstart
 * of a job that runs. Returns a note on what happened, empty for plain success.
 */
async function runOne(context: ManagerContext, { command, args }: PlannedCommand, { action, file, state }: LaunchctlRun): Promise<string> {
  const result = await context.run(command, args);
  if (result.exitCode === 0) return '';
  if (result.failure === 'ENOENT') throw createNoManagerError(action, context.uid, file, result);
  const fail = (failed: CommandResult) => createFailure(formatCommand(command, args), failed, context, file);
  switch (args[0]) {
    case 'bootout':
      if (answers(result, NOT_LOADED)) return ' (it was not loaded)';
      if (!answers(result, IN_PROGRESS)) throw fail(result);
      await waitUntilUnloaded(context);
      return ' (once keyupd had stopped)';
    case 'bootstrap': {
      // Error 5 (37 on some macOS versions) while the label is loaded: the same agent, when the
      // file is unchanged; else the old one, which bootout has not finished removing.
      if (!(await isLoaded(context))) throw fail(result);
      if (state === 'unchanged') return ' (it was loaded already)';
      await waitUntilUnloaded(context);
      const again = await context.run(command, args);
      if (again.exitCode !== 0) throw fail(again);
      return ' (once launchd had let go of the old agent)';
    }
    case 'kickstart':
      if (answers(result, ALREADY)) return ' (it was running already)';
      throw fail(result);
    default:
      throw fail(result);
  }
}
