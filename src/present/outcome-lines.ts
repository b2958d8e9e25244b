import { ExitCode } from '../errors.js';
import type { Outcome } from '../engine/outcome.js';
import { formatErrorInfo } from '../engine/outcome.js';
import { getDueDate } from '../rotation/policy.js';
import { describeBusy } from './busy.js';
import { describeDeferral } from './deferral.js';
import { formatHolders } from './holders.js';
import { maskKeyId } from './key-id.js';

// The rotator and the notifications take it from here; keyupctl from ./holders.js, which loads
// nothing of the engine.
export { formatHolders } from './holders.js';

/**
 * One line per profile for a person or a cron mail, then one per note (a key deleted besides the
 * rotated one, a file put right again); key ids masked, never a secret.
 */
export function formatOutcome(outcome: Outcome): string[] {
  return [formatResult(outcome), ...outcome.notes.map((note) => `${outcome.profile}: ${note}`)];
}

function formatResult(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'rotated':
      return `${outcome.profile} (${outcome.user}): rotated ${maskKeyId(outcome.oldKeyId)} → ${maskKeyId(outcome.newKeyId)} in profile${outcome.holders.length > 1 ? 's' : ''} ${formatHolders(outcome.holders)}.`;
    case 'current': {
      const due = getDueDate(new Date(outcome.keyCreated), outcome.maxAgeDays).toISOString().slice(0, 10);
      const state = outcome.ageState === 'warn' ? 'due soon' : 'ok';
      return `${outcome.profile} (${outcome.user}): key ${maskKeyId(outcome.keyId)} is ${outcome.ageDays.toFixed(1)} days old, ${state}; rotation due on ${due}.`;
    }
    case 'deferred':
      return `${outcome.profile} (${outcome.user}): ${describeDeferral(outcome.deferral).replace(/^Deferred\b/, 'deferred')}`;
    case 'busy':
      return `${outcome.profile}: ${describeBusy(outcome, outcome.since)}.`;
    case 'failed':
      return `${outcome.profile}: ${formatErrorInfo(outcome.error)}`;
  }
}

/**
 * SPEC's exit codes: a failure wins over a deferral, which wins over success. A profile another
 * process is rotating is busy, which is not a failure.
 */
export function getExitCode(outcomes: readonly Outcome[]): ExitCode {
  if (outcomes.some((outcome) => outcome.kind === 'failed')) return ExitCode.failed;
  if (outcomes.some((outcome) => outcome.kind === 'deferred')) return ExitCode.deferred;
  return ExitCode.ok;
}
