import type { NotifyMode } from '../config/index.js';
import type { Outcome } from '../engine/outcome.js';
import { maskKeyId } from '../present/key-id.js';
import { formatHolders } from '../present/outcome-lines.js';
import type { Notification } from './desktop.js';

/** What the notifications remember across checks (and, in the daemon, across restarts). */
export interface NotificationMemory {
  /** Per profile, what was last shown: the same failure is not shown again at every check. */
  readonly shown: Readonly<Record<string, string>>;
  /** Per profile, since when its rotation has been deferred. */
  readonly deferredSince: Readonly<Record<string, string>>;
}

const DAY_MS = 86_400_000;
/** A notification is a glance; the rest is in `keyupctl status`. */
const MAX_BODY = 280;
/**
 * Failures nobody needs to hear about: waited out, left to another process, stopped on purpose,
 * or an MFA code refused (typed by someone at the terminal, who saw the answer there).
 */
const QUIET_CODES = new Set(['network', 'aborted', 'busy', 'mfa-code-refused']);

/**
 * Which outcomes become a desktop notification (SPEC `notify = off | failures | all`), worded
 * with what to run next, never a secret — and each event once: the same failure at every check
 * is not a new event, nor is a deferral that goes on.
 */
export class Notifications {
  private readonly shown: Map<string, string>;
  private readonly deferredSince: Map<string, Date>;

  constructor(
    private readonly modeOf: (profile: string) => NotifyMode,
    memory: NotificationMemory = { shown: {}, deferredSince: {} },
  ) {
    this.shown = new Map(Object.entries(memory.shown));
    this.deferredSince = new Map(Object.entries(memory.deferredSince).map(([profile, at]) => [profile, new Date(at)]));
  }

  /** The notification an outcome calls for now, if any; remembers it so it is not repeated. */
  consider(outcome: Outcome, now: Date): Notification | undefined {
    const mode = this.modeOf(outcome.profile);
    if (outcome.kind !== 'deferred') this.deferredSince.delete(outcome.profile);
    const event = this.eventOf(outcome, now);
    if (event === undefined) {
      // Fine again: the next failure is news.
      if (outcome.kind === 'current' || outcome.kind === 'rotated') this.shown.delete(outcome.profile);
      return undefined;
    }
    if (mode === 'off' || (event.success && mode !== 'all')) return undefined;
    if (this.shown.get(outcome.profile) === event.signature) return undefined;
    this.shown.set(outcome.profile, event.signature);
    return { title: event.title, body: clip(event.body) };
  }

  memory(): NotificationMemory {
    return {
      shown: Object.fromEntries(this.shown),
      deferredSince: Object.fromEntries([...this.deferredSince].map(([profile, at]) => [profile, at.toISOString()])),
    };
  }

  private eventOf(outcome: Outcome, now: Date): { signature: string; title: string; body: string; success: boolean } | undefined {
    const { profile } = outcome;
    switch (outcome.kind) {
      case 'rotated':
        return {
          signature: `rotated:${outcome.newKeyId}`,
          title: `keyup rotated the AWS key of profile ${profile}`,
          body: `${maskKeyId(outcome.oldKeyId)} was replaced by ${maskKeyId(outcome.newKeyId)} in ${formatHolders(outcome.holders)}. Nothing to do: your tools use the new key already.`,
          success: true,
        };
      case 'failed': {
        if (QUIET_CODES.has(outcome.error.code)) return undefined;
        if (outcome.error.code === 'needs-mfa') {
          return {
            signature: 'needs-mfa',
            title: `Profile ${profile} needs an MFA code to rotate its AWS key`,
            body: `Run: keyupctl rotate now --profile ${profile} (it asks for the code).`,
            success: false,
          };
        }
        return {
          signature: `failed:${outcome.error.code}:${outcome.error.message}`,
          title: `keyup could not rotate the AWS key of profile ${profile}`,
          body: `${outcome.error.message} Run keyupctl status to see what to do.`,
          success: false,
        };
      }
      case 'deferred': {
        const since = this.deferredSince.get(profile) ?? now;
        this.deferredSince.set(profile, since);
        if (now.getTime() - since.getTime() < DAY_MS) return undefined;
        const { deferral } = outcome;
        const why =
          deferral.reason === 'active-session'
            ? `profile ${deferral.profile} holds temporary credentials that AWS still accepts${deferral.until === null ? '' : ` (until ${deferral.until})`}`
            : `STS could not be asked whether the session in profile ${deferral.profile} is still active`;
        return {
          signature: `deferred:${since.toISOString()}`,
          title: `keyup has waited over a day to rotate the AWS key of profile ${profile}`,
          body: `The key is ${outcome.ageDays.toFixed(0)} days old and due, but ${why}. End that session, or run: keyupctl rotate now --force --profile ${profile}`,
          success: false,
        };
      }
      case 'current':
      case 'busy':
        return undefined;
    }
  }
}

function clip(text: string): string {
  return text.length <= MAX_BODY ? text : `${text.slice(0, MAX_BODY - 1)}…`;
}
