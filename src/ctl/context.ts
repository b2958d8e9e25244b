import type { RequestOptions } from '../ipc/client.js';
import type { Method } from '../ipc/protocol.js';
import type { Paint } from './color.js';

/** One request to keyupd at the chosen socket, with the chosen timeout unless a command needs another. */
export type CallDaemon = (method: Method, params?: unknown, options?: Pick<RequestOptions, 'timeoutMs' | 'onNotification'>) => Promise<unknown>;

/** What every command gets: where to print, how to paint, how to reach keyupd, the time. */
export interface CommandContext {
  /** Writes to stdout exactly what it is given (lines carry their own newlines). */
  readonly out: (text: string) => void;
  /** Writes to stderr exactly what it is given. */
  readonly err: (text: string) => void;
  readonly paint: Paint;
  /** Whether stdout is a terminal: a line may then be rewritten in place. */
  readonly stdoutIsTTY: boolean;
  readonly call: CallDaemon;
  readonly now: () => Date;
  /**
   * The person at the terminal: asks a question and resolves with the answer. Undefined when
   * stdin is not a terminal. Looked up only by a command that may ask (`rotate now`): merely
   * touching process.stdin costs keyupctl several milliseconds of its start-up budget.
   */
  readonly getAsk: () => Ask | undefined;
  /** `--timeout` in ms, when given: it then overrides every command's own default. */
  readonly timeoutMs: number | undefined;
}

export type Ask = (question: string) => Promise<string | undefined>;
