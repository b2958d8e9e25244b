import type { RunCommand } from './run-command.js';

/** A command the install or uninstall runs, in order. */
export interface PlannedCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** The unit file on disk against the one keyupctl would write. */
export type FileState = 'new' | 'changed' | 'unchanged';

/** What the systemd and launchd steps share. */
export interface ManagerContext {
  readonly run: RunCommand;
  /** The user whose launchd GUI domain (`gui/<uid>`) holds the agent. */
  readonly uid: number;
  /** Waits between looks while launchd lets go of a job. */
  readonly delay: (ms: number) => Promise<void>;
  /** Adds a line to the report of what was done. */
  readonly say: (line: string) => void;
}

/** What the service manager is asked to do, in the words of its error messages. */
export type ServiceAction = 'install' | 'uninstall';
