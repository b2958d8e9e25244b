import type { RotationRecord } from '../rotation/history.js';
import { assessKeyAge } from '../rotation/policy.js';
import type { ErrorInfo, Outcome } from './outcome.js';

/** SPEC's `state` of a managed profile. */
export type ProfileState = 'ok' | 'warn' | 'due' | 'deferred' | 'rotating' | 'busy' | 'needs-mfa' | 'error';

/** The last rotation of a profile, as its history recorded it. */
export interface LastRotation {
  readonly at: string;
  readonly oldKeyId: string;
  readonly newKeyId: string | null;
  readonly ok: boolean;
}

/**
 * What the engine knows of a managed profile, without asking anyone: what the last check found
 * and what has happened since. `status` serves it as is, with no lock, no file read and no AWS
 * call. Plain JSON.
 */
export interface ProfileView {
  readonly profile: string;
  readonly user: string | null;
  readonly account: string | null;
  readonly keyId: string | null;
  readonly keyCreated: string | null;
  /** From keyCreated to now, at the moment of asking. */
  readonly keyAgeDays: number | null;
  readonly maxAgeDays: number;
  readonly warnAgeDays: number;
  readonly state: ProfileState;
  readonly deferredBy: string | null;
  readonly deferredUntil: string | null;
  readonly lastRotation: LastRotation | null;
  readonly error: ErrorInfo | null;
  readonly lastChecked: string | null;
}

/** What is stored per profile: the facts; `state` and age are worked out when asked. */
export interface StoredView {
  readonly profile: string;
  readonly user: string | null;
  readonly account: string | null;
  readonly keyId: string | null;
  readonly keyCreated: string | null;
  readonly last: Outcome['kind'] | null;
  readonly deferredBy: string | null;
  readonly deferredUntil: string | null;
  readonly lastRotation: LastRotation | null;
  readonly error: ErrorInfo | null;
  readonly lastChecked: string | null;
}

export function emptyView(profile: string): StoredView {
  return { profile, user: null, account: null, keyId: null, keyCreated: null, last: null, deferredBy: null, deferredUntil: null, lastRotation: null, error: null, lastChecked: null };
}

/** The stored facts after an outcome. */
export function applyOutcome(stored: StoredView, outcome: Outcome, at: Date): StoredView {
  const base = { ...stored, last: outcome.kind, lastChecked: at.toISOString() };
  switch (outcome.kind) {
    case 'current':
      return { ...base, user: outcome.user, account: outcome.account, keyId: outcome.keyId, keyCreated: outcome.keyCreated, deferredBy: null, deferredUntil: null, error: null };
    case 'deferred':
      return {
        ...base,
        user: outcome.user,
        account: outcome.account,
        keyId: outcome.keyId,
        keyCreated: outcome.keyCreated,
        deferredBy: outcome.deferral.profile,
        deferredUntil: outcome.deferral.until,
        error: null,
      };
    case 'rotated':
      return {
        ...base,
        user: outcome.user,
        account: outcome.account,
        keyId: outcome.newKeyId,
        keyCreated: outcome.keyCreated,
        deferredBy: null,
        deferredUntil: null,
        error: null,
        lastRotation: { at: at.toISOString(), oldKeyId: outcome.oldKeyId, newKeyId: outcome.newKeyId, ok: true },
      };
    case 'busy':
      return { ...base };
    case 'failed':
      return { ...base, error: outcome.error };
  }
}

/** The last record of `profile` in the history, newest last. */
export function findLastRotation(records: readonly RotationRecord[], profile: string): LastRotation | null {
  for (let index = records.length - 1; index >= 0; index--) {
    const record = records[index];
    if (record?.profile === profile) return { at: record.at, oldKeyId: record.oldKeyId, newKeyId: record.newKeyId, ok: record.ok };
  }
  return null;
}

/** The view a person sees now: state and age worked out from the stored facts and the clock. */
export function renderView(stored: StoredView, limits: { maxAgeDays: number; warnAgeDays: number }, now: Date, rotating: boolean): ProfileView {
  const age = stored.keyCreated === null ? undefined : assessKeyAge(new Date(stored.keyCreated), now, limits);
  return {
    profile: stored.profile,
    user: stored.user,
    account: stored.account,
    keyId: stored.keyId,
    keyCreated: stored.keyCreated,
    keyAgeDays: age === undefined ? null : Math.round(age.ageDays * 10) / 10,
    maxAgeDays: limits.maxAgeDays,
    warnAgeDays: limits.warnAgeDays,
    state: stateOf(stored, age?.state, now, rotating),
    deferredBy: stored.last === 'deferred' ? stored.deferredBy : null,
    deferredUntil: stored.last === 'deferred' ? stored.deferredUntil : null,
    lastRotation: stored.lastRotation,
    error: stored.last === 'failed' ? stored.error : null,
    lastChecked: stored.lastChecked,
  };
}

function stateOf(stored: StoredView, ageState: 'ok' | 'warn' | 'due' | undefined, now: Date, rotating: boolean): ProfileState {
  if (rotating) return 'rotating';
  switch (stored.last) {
    case 'failed':
      // A wrong code changes nothing: the profile still waits for one.
      if (stored.error?.code === 'needs-mfa' || stored.error?.code === 'mfa-code-refused') return 'needs-mfa';
      // No network (a laptop that just woke) is waited out, not a failure of the profile.
      if (stored.error?.code === 'network') break;
      return 'error';
    case 'busy':
      return 'busy';
    case 'deferred':
      // A session the file says has ended no longer defers anything; the next check goes on.
      if (stored.deferredUntil === null || Date.parse(stored.deferredUntil) > now.getTime()) return 'deferred';
      break;
    default:
      break;
  }
  return ageState ?? 'ok';
}
