import type { ErrorInfo } from '../engine/outcome.js';
import type { ProfileView } from '../engine/view.js';
import type { StatusDocument, StatusProfile, WireError } from '../ipc/protocol.js';

export interface StatusInit {
  readonly version: string;
  readonly pid: number;
  readonly started: Date;
  readonly schedule: string;
  readonly nextCheck: Date | null;
  readonly configError: ErrorInfo | null;
  /** A check met no network and waits for it: status says so rather than report failures. */
  readonly waitingForNetwork: boolean;
  readonly views: readonly ProfileView[];
}

/** SPEC's `status` document from what the daemon knows: no lock, no file, no AWS call. */
export function buildStatus(init: StatusInit): StatusDocument {
  return {
    version: init.version,
    pid: init.pid,
    started: init.started.toISOString(),
    schedule: init.schedule,
    next_check: init.nextCheck?.toISOString() ?? null,
    config_error: toWireError(init.configError),
    waiting_for_network: init.waitingForNetwork,
    profiles: init.views.map(toStatusProfile),
  };
}

function toStatusProfile(view: ProfileView): StatusProfile {
  return {
    profile: view.profile,
    user: view.user,
    account: view.account,
    key_id: view.keyId,
    key_created: view.keyCreated,
    key_age_days: view.keyAgeDays,
    max_age_days: view.maxAgeDays,
    warn_age_days: view.warnAgeDays,
    state: view.state,
    deferred_by: view.deferredBy,
    deferred_until: view.deferredUntil,
    last_rotation:
      view.lastRotation === null ? null : { at: view.lastRotation.at, old_key_id: view.lastRotation.oldKeyId, new_key_id: view.lastRotation.newKeyId, ok: view.lastRotation.ok },
    last_checked: view.lastChecked,
    error: toWireError(view.error),
  };
}

export function toWireError(error: ErrorInfo | null): WireError | null {
  return error === null ? null : { code: error.code, message: error.message, hint: error.hint };
}
