import { execFile } from 'node:child_process';
import type { Env } from '../paths.js';

/** How a command ended. It never throws: a missing command or a timeout is a result too. */
export interface CommandResult {
  /** The exit status; null when the command could not start or was killed. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why there is no exit status: the OS's code (`ENOENT`: no such command) or `ETIMEDOUT`. */
  readonly failure?: string;
}

/** Runs a program without a shell, with these arguments. */
export type RunCommand = (command: string, args: readonly string[]) => Promise<CommandResult>;

export interface CreateRunCommandInit {
  /** The commands' environment (and so their PATH). */
  env: Env;
  /**
   * Default 60 s: `systemctl --user disable --now` and `launchctl bootout` wait for keyupd to
   * stop, which may take its 15 s; a manager that answers nothing in 60 s is stuck.
   */
  timeoutMs?: number;
}

/** `launchctl print` of a whole domain can run to hundreds of kilobytes. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

/** The {@link RunCommand} of the programs: execFile, no shell, with a timeout. */
export function createRunCommand({ env, timeoutMs = 60_000 }: CreateRunCommandInit): RunCommand {
  return (command, args) =>
    new Promise((resolve) => {
      execFile(command, [...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8', windowsHide: true }, (error, stdout, stderr) => {
        if (error === null) resolve({ exitCode: 0, stdout, stderr });
        else if (typeof error.code === 'number') resolve({ exitCode: error.code, stdout, stderr });
        else resolve({ exitCode: null, stdout, stderr, failure: error.killed === true && error.code == null ? 'ETIMEDOUT' : String(error.code ?? error.signal ?? 'unknown') });
      });
    });
}

/** `systemctl --user enable --now keyupd.service`, for people to read and to paste into a shell. */
export function formatCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/** The first line a command wrote to stderr (else stdout), for a sentence about its failure. */
export function describeCommandFailure(result: CommandResult): string {
  if (result.failure === 'ENOENT') return 'no such command';
  if (result.failure === 'ETIMEDOUT') return 'no answer in time';
  const line = [result.stderr, result.stdout].flatMap((text) => text.split('\n')).map((text) => text.trim()).find((text) => text !== '');
  const status = result.exitCode === null ? (result.failure ?? 'killed') : `exit status ${result.exitCode}`;
  return line === undefined ? status : `${line.replace(/[.\s]+$/, '')}, ${status}`;
}
