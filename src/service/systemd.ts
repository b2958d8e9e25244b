import type { KeyupError } from '../errors.js';
import type { FileState, ManagerContext, PlannedCommand, ServiceAction } from './manager-context.js';
import { RUN_IT_YOURSELF, SYSTEMD_UNIT } from './platform.js';
import { describeCommandFailure, formatCommand, type CommandResult } from './run-command.js';
import { createServiceError } from './service-error.js';

const SYSTEMCTL = 'systemctl';

/** What systemctl says when no user manager answers: no bus, no runtime folder, no systemd as init. */
const NO_USER_MANAGER = /Failed to connect to (user scope )?bus|DBUS_SESSION_BUS_ADDRESS|XDG_RUNTIME_DIR|not been booted with systemd/i;

function systemctl(...args: string[]): PlannedCommand {
  return { command: SYSTEMCTL, args: ['--user', ...args] };
}

/** A question the user manager answers only when it is there; it changes nothing. */
const PROBE = systemctl('show', '--property=Version');

/**
 * What `install` runs after writing the unit. A new unit: reload, then enable and start. A changed
 * one: reload, enable, and restart, since `enable --now` leaves a running keyupd on the old
 * command line. An unchanged one: only `enable --now`, which changes nothing when keyupd is
 * enabled and running (a running service is never restarted) and starts it when it is not.
 */
export function planSystemdStart(state: FileState): PlannedCommand[] {
  if (state === 'new') return [systemctl('daemon-reload'), systemctl('enable', '--now', SYSTEMD_UNIT)];
  if (state === 'changed') return [systemctl('daemon-reload'), systemctl('enable', SYSTEMD_UNIT), systemctl('restart', SYSTEMD_UNIT)];
  return [systemctl('enable', '--now', SYSTEMD_UNIT)];
}

/** What `uninstall` runs: stop and disable; the file goes between the two. */
export function planSystemdStop(): { before: PlannedCommand[]; after: PlannedCommand[] } {
  return { before: [systemctl('disable', '--now', SYSTEMD_UNIT)], after: [systemctl('daemon-reload')] };
}

function createNoManagerError(action: ServiceAction, file: string, result: CommandResult): KeyupError {
  const consequence = action === 'install' ? 'keyupd cannot be installed as a service' : `${SYSTEMD_UNIT} cannot be stopped and removed`;
  const hint = action === 'install' ? RUN_IT_YOURSELF : `Stop keyupd where it runs and remove ${file} by hand.`;
  if (result.failure === 'ENOENT') return createServiceError('no-service-manager', `systemctl is not installed, so there is no systemd user manager here and ${consequence}.`, hint);
  return createServiceError('no-service-manager', `No systemd user manager answers here (systemctl --user: ${describeCommandFailure(result)}), so ${consequence}.`, hint);
}

/** Fails with the SPEC's one sentence unless a systemd user manager answers. */
export async function checkSystemdUserManager(context: ManagerContext, action: ServiceAction, file: string): Promise<void> {
  const result = await context.run(PROBE.command, PROBE.args);
  if (result.exitCode !== 0) throw createNoManagerError(action, file, result);
}

/** Runs each command in turn, reporting it; the first that fails stops the rest. */
export async function runSystemctl(context: ManagerContext, commands: readonly PlannedCommand[], action: ServiceAction, file: string): Promise<void> {
  for (const { command, args } of commands) {
    const result = await context.run(command, args);
    const shown = formatCommand(command, args);
    if (result.exitCode === 0) {
      context.say(`Ran: ${shown}`);
      continue;
    }
    // The manager may go away between two commands (a logout); that is the same one sentence.
    if (result.failure === 'ENOENT' || NO_USER_MANAGER.test(result.stderr)) throw createNoManagerError(action, file, result);
    throw createServiceError('service-failed', `${shown} failed (${describeCommandFailure(result)}).`, `systemctl --user status ${SYSTEMD_UNIT} and journalctl --user -u keyupd tell why.`);
  }
}
