import type { ErrorCode } from '../errors.js';
import { KeyupError } from '../errors.js';

/**
 * What the engine says about one profile after a check or a `rotate now`. Every outcome is plain
 * JSON (dates as ISO strings, no Error objects), so the daemon's socket, its state file and a
 * client can carry it as is; key ids appear whole (they are not secrets), secrets never.
 */
export type Outcome = CurrentOutcome | DeferredOutcome | RotatedOutcome | FailedOutcome | BusyOutcome;
export type OutcomeKind = Outcome['kind'];

/** A failure as data: a stable code for machines, one sentence and the fix for people. */
export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string | null;
}

/** The key a check found in a profile, and what its age means. */
export interface CheckedKey {
  readonly profile: string;
  readonly user: string;
  readonly account: string;
  readonly keyId: string;
  /** IAM's CreateDate. */
  readonly keyCreated: string;
  readonly ageDays: number;
  readonly maxAgeDays: number;
  readonly ageState: 'ok' | 'warn' | 'due';
}

/** Besides its result, what else keyup did that a person should hear about (a key deleted, a file put right). */
interface Noted {
  readonly notes: readonly string[];
}

/** Checked and not rotated: not due, or made earlier in the same check. */
export interface CurrentOutcome extends CheckedKey, Noted {
  readonly kind: 'current';
}

export type Deferral =
  | { readonly reason: 'active-session'; readonly profile: string; readonly until: string | null }
  | { readonly reason: 'sts-unreachable'; readonly profile: string; readonly until: null };

/** Due, but temporary credentials STS still accepts are in the file (or STS could not be asked). */
export interface DeferredOutcome extends CheckedKey, Noted {
  readonly kind: 'deferred';
  readonly deferral: Deferral;
}

/** A profile of the credentials file or the AWS config file that holds a key. */
export interface KeyHolder {
  readonly file: 'credentials' | 'config';
  readonly profile: string;
}

export interface RotatedOutcome extends Noted {
  readonly kind: 'rotated';
  readonly profile: string;
  readonly user: string;
  readonly account: string;
  readonly oldKeyId: string;
  readonly newKeyId: string;
  /** The new key's CreateDate. */
  readonly keyCreated: string;
  /** Every profile that now holds the new key. */
  readonly holders: readonly KeyHolder[];
}

export interface FailedOutcome extends Noted {
  readonly kind: 'failed';
  readonly profile: string;
  /** The cause behind it stays out of JSON (not enumerable): for `--debug` and the log only. */
  readonly error: ErrorInfo;
}

/** Another live keyup process is rotating this profile's key right now: not a failure, not waited for. */
export interface BusyOutcome extends Noted {
  readonly kind: 'busy';
  readonly profile: string;
  readonly pid: number;
  /** The profile that process is rotating (the same key may be in several). */
  readonly rotating: string;
  readonly since: string;
}

/**
 * The KeyupError as data. Its cause (an SDK error, an OS error) is attached but not enumerable,
 * so it reaches `--debug` and the log but never JSON: the socket, status, the state file.
 */
export function toErrorInfo(error: KeyupError): ErrorInfo {
  const info: ErrorInfo = { code: error.code, message: error.message, hint: error.hint ?? null };
  Object.defineProperty(info, 'cause', { value: error, enumerable: false });
  return info;
}

/** What `toErrorInfo` kept out of JSON, if anything. */
export function getErrorCause(info: ErrorInfo): KeyupError | undefined {
  const cause = (info as { cause?: unknown }).cause;
  return cause instanceof KeyupError ? cause : undefined;
}

/** "message hint": one line for a terminal or a log. */
export function formatErrorInfo(info: ErrorInfo): string {
  return info.hint === null ? info.message : `${info.message} ${info.hint}`;
}
