/**
 * The daemon's results as keyupctl reads them, snake_case as on the wire, each checked just enough
 * that what keyupctl prints cannot fall over on a reply of the wrong shape: such a reply is a
 * MalformedReplyError (exit 1), not a TypeError. Fields beyond these may come and are kept.
 */
import { MalformedReplyError } from '../ipc/client.js';
import { isRecord, type ReloadResult, type StatusDocument, type StatusProfile, type WireError } from '../ipc/protocol.js';

const isString = (value: unknown): value is string => typeof value === 'string';

export function isWireError(value: unknown): value is WireError {
  return isRecord(value) && isString(value.code) && isString(value.message) && (value.hint === null || value.hint === undefined || isString(value.hint));
}

function isStatusProfile(value: unknown): value is StatusProfile {
  return isRecord(value) && isString(value.profile) && isString(value.state) && (value.error == null || isWireError(value.error));
}

/** `status`'s result: SPEC's document. */
export function readStatus(value: unknown): StatusDocument {
  if (!isRecord(value) || !isString(value.version) || typeof value.pid !== 'number' || !Array.isArray(value.profiles)) {
    throw new MalformedReplyError('a status without version, pid or profiles');
  }
  if (!value.profiles.every(isStatusProfile)) throw new MalformedReplyError('a status with a profile that has no name or state');
  if (value.config_error != null && !isWireError(value.config_error)) throw new MalformedReplyError('a status whose config_error is not an error');
  return value as unknown as StatusDocument;
}

/** One key of `keys`'s result. */
export interface WireKey {
  readonly key_id: string;
  readonly status: string;
  readonly created: string;
  readonly age_days: number | null;
  readonly last_used: { readonly date: string | null; readonly service: string | null; readonly region: string | null } | null;
  readonly in_profiles: readonly string[];
  readonly managed: boolean;
}

export interface WireProfileKeys {
  readonly profile: string;
  readonly user: string | null;
  readonly account: string | null;
  readonly keys: readonly WireKey[];
  readonly error: WireError | null;
}

function isWireKey(value: unknown): value is WireKey {
  return (
    isRecord(value) &&
    isString(value.key_id) &&
    isString(value.status) &&
    Array.isArray(value.in_profiles) &&
    value.in_profiles.every(isString) &&
    (value.last_used === null || value.last_used === undefined || isRecord(value.last_used))
  );
}

/** `keys`'s result: one object per profile. */
export function readKeys(value: unknown): readonly WireProfileKeys[] {
  const ok = Array.isArray(value) && value.every((entry) => isRecord(entry) && isString(entry.profile) && Array.isArray(entry.keys) && entry.keys.every(isWireKey) && (entry.error == null || isWireError(entry.error)));
  if (!ok) throw new MalformedReplyError('a list of keys of the wrong shape');
  return value as WireProfileKeys[];
}

/** `reload`'s result. */
export function readReload(value: unknown): ReloadResult {
  if (!isRecord(value) || typeof value.reloaded !== 'boolean' || (value.config_error != null && !isWireError(value.config_error))) {
    throw new MalformedReplyError('a reload answer without reloaded');
  }
  return { reloaded: value.reloaded, config_error: value.config_error ?? null } as ReloadResult;
}

/** `config`'s result: an object; its inside is rendered as it comes (see config.ts). */
export function readConfig(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw new MalformedReplyError('a configuration that is not an object');
  return value;
}

interface OutcomeBase {
  readonly profile: string;
  readonly notes: readonly string[];
}

/** `rotate`'s outcomes: the engine's Outcome (src/engine/outcome.ts), snake_case. */
export type WireOutcome =
  | (OutcomeBase & { readonly kind: 'current'; readonly user: string; readonly key_id: string; readonly key_created: string; readonly age_days: number; readonly max_age_days: number; readonly age_state: string })
  | (OutcomeBase & {
      readonly kind: 'deferred';
      readonly user: string;
      readonly key_id: string;
      readonly deferral: { readonly reason: 'active-session' | 'sts-unreachable'; readonly profile: string; readonly until: string | null };
    })
  | (OutcomeBase & {
      readonly kind: 'rotated';
      readonly user: string;
      readonly old_key_id: string;
      readonly new_key_id: string;
      readonly holders: readonly { readonly file: string; readonly profile: string }[];
    })
  | (OutcomeBase & { readonly kind: 'failed'; readonly error: WireError })
  | (OutcomeBase & { readonly kind: 'busy'; readonly pid: number; readonly rotating: string; readonly since: string });

/** Checks an outcome, in a `rotate.progress` end event or in `rotate`'s result. */
export function isWireOutcome(value: unknown): value is WireOutcome {
  if (!isRecord(value) || !isString(value.profile) || !Array.isArray(value.notes) || !value.notes.every(isString)) return false;
  switch (value.kind) {
    case 'current':
      return isString(value.key_id);
    case 'deferred':
      return isRecord(value.deferral) && isString(value.deferral.profile);
    case 'rotated':
      return isString(value.old_key_id) && isString(value.new_key_id) && Array.isArray(value.holders);
    case 'failed':
      return isWireError(value.error);
    case 'busy':
      return typeof value.pid === 'number' && isString(value.rotating);
    default:
      return false;
  }
}

/** `rotate`'s result. */
export function readRotateResult(value: unknown): readonly WireOutcome[] {
  if (!isRecord(value) || !Array.isArray(value.outcomes)) throw new MalformedReplyError('a rotate answer without outcomes');
  if (!value.outcomes.every(isWireOutcome)) throw new MalformedReplyError('a rotate answer with an outcome of the wrong shape');
  return value.outcomes;
}
