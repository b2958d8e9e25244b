/** Exit codes of `keyupctl` and `keyupd --once` (SPEC "Programs"). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  deferred: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A stable, machine-readable name for each kind of failure: status, the socket and scripts match
 * on these, so a code keeps its meaning once released (the sentence may be reworded).
 */
export type ErrorCode =
  /** IAM refused an action: the identity's policy lacks it. */
  | 'access-denied'
  /** The user already has a second active key keyup did not make. */
  | 'second-active-key'
  /** The new key never worked with STS; it was deleted again. */
  | 'key-not-verified'
  /** The profile's key belongs to a role, a federated user or root, not an IAM user. */
  | 'not-an-iam-user'
  /** AWS does not accept the profile's key (unknown, inactive, deleted, wrong secret). */
  | 'key-invalid'
  /** Another live keyup process is rotating this profile. */
  | 'busy'
  /** The managed profile is missing from the credentials file, or holds no long-term key. */
  | 'profile-unusable'
  /** The credentials or AWS config file cannot be read, parsed or written. */
  | 'credentials-file'
  /** keyup's own state (journal, history, lock) cannot be read or written. */
  | 'state'
  /** keyup's configuration is invalid. */
  | 'config-invalid'
  /** Bad command-line usage. */
  | 'usage'
  /** AWS did not answer: network, DNS, proxy, endpoint. */
  | 'network'
  /** AWS kept throttling or failing with 5xx. */
  | 'aws-unavailable'
  /** The old key could not be retired yet; the new key is in place. */
  | 'retire-pending'
  /** A post_rotate hook failed; the old key stays in service until the hooks succeed. */
  | 'hook-failed'
  /** The rotation was stopped on purpose (shutdown); it resumes from its journal. */
  | 'aborted'
  /** IAM demands MFA for key changes: a code is needed (none was given, or the MFA session ran out). */
  | 'needs-mfa'
  /** STS refused the MFA code given (wrong, or used already); nothing changed. */
  | 'mfa-code-refused'
  /** IAM demands MFA, but the user has no MFA device STS can use (none, or only FIDO security keys). */
  | 'mfa-unsupported'
  /** keyupd is not running, or its socket cannot be reached. */
  | 'daemon-unreachable'
  /** keyupd's reply was malformed, cut off or late. */
  | 'daemon-reply'
  /** Another keyupd already serves this socket. */
  | 'already-running'
  /** No user service manager (systemd user instance, launchd) answers. */
  | 'no-service-manager'
  /** The service manager refused to install, start, stop or remove keyupd's service. */
  | 'service-failed'
  /** AWS answered with an error keyup has no words for. */
  | 'aws-error'
  /** A bug or an error nobody foresaw. */
  | 'unexpected';

export interface KeyupErrorInit {
  /** What to do about it, said to the user after the message. */
  hint?: string;
  exitCode?: ExitCode;
  /** Default `unexpected`; `config-invalid` for exit code 2. */
  code?: ErrorCode;
  cause?: unknown;
}

/**
 * An error a user may see: `message` is one plain sentence saying what went wrong, `hint` says
 * the fix, `code` names the kind for machines. None may ever hold a secret. The underlying error
 * is kept as `cause`.
 */
export class KeyupError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly code: ErrorCode;

  constructor(message: string, { hint, exitCode = ExitCode.failed, code, cause }: KeyupErrorInit = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.hint = hint;
    this.exitCode = exitCode;
    this.code = code ?? (exitCode === ExitCode.usage ? 'config-invalid' : 'unexpected');
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
    super(`${file}, line ${line}: ${problem}.`, { code: 'credentials-file', ...init });
  }
}

/** Bad configuration or bad usage: exit code 2. */
export class ConfigError extends FileFormatError {
  constructor(file: string, line: number, problem: string, init: Omit<KeyupErrorInit, 'exitCode'> = {}) {
    super(file, line, problem, { code: 'config-invalid', ...init, exitCode: ExitCode.usage });
  }
}
