/** Exit codes of `keyupctl` and `keyupd --once` (SPEC "Programs"). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  deferred: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface KeyupErrorInit {
  /** What to do about it, said to the user after the message. */
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
}

/**
 * An error a user may see: `message` is one plain sentence saying what went wrong, `hint` says
 * the fix. Neither may ever hold a secret. The underlying error is kept as `cause`.
 */
export class KeyupError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(message: string, { hint, exitCode = ExitCode.failed, cause }: KeyupErrorInit = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.hint = hint;
    this.exitCode = exitCode;
  }

  /** The message and the hint, as one line for a terminal or a log. */
  get userMessage(): string {
    return this.hint === undefined ? this.message : `${this.message} ${this.hint}`;
  }
}

/** A file keyup reads is malformed; names the file and the 1-based line. */
export class FileFormatError extends KeyupError {
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
    init: KeyupErrorInit = {},
  ) {
    super(`${file}, line ${line}: ${problem}.`, init);
  }
}

/** Bad configuration or bad usage: exit code 2. */
export class ConfigError extends FileFormatError {
  constructor(file: string, line: number, problem: string, init: Omit<KeyupErrorInit, 'exitCode'> = {}) {
    super(file, line, problem, { ...init, exitCode: ExitCode.usage });
  }
}
