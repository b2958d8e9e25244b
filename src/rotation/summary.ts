import { ExitCode } from '../errors.js';
import { maskKeyId } from '../present/key-id.js';
import { getDueDate } from './policy.js';
import { describeDeferral, type RotateOutcome } from './rotator.js';

/**
 * One line per profile for a person or a cron mail, then one per note (a key deleted besides the
 * rotated one, a file put right again); key ids masked, never a secret.
 */
export function formatOutcome(outcome: RotateOutcome, maxAgeDays: number): string[] {
  return [formatResult(outcome, maxAgeDays), ...outcome.notes.map((note) => `${outcome.profile}: ${note}`)];
}

function formatResult(outcome: RotateOutcome, maxAgeDays: number): string {
  switch (outcome.kind) {
    case 'rotated':
      return `${outcome.profile} (${outcome.userName}): rotated ${maskKeyId(outcome.oldKeyId)} → ${maskKeyId(outcome.newKeyId)} in profile${outcome.profiles.length > 1 ? 's' : ''} ${outcome.profiles.join(', ')}.`;
    case 'current': {
      const due = getDueDate(outcome.keyCreated, maxAgeDays).toISOString().slice(0, 10);
      const state = outcome.keyAge.state === 'warn' ? 'due soon' : 'ok';
      return `${outcome.profile} (${outcome.user.userName}): key ${maskKeyId(outcome.keyId)} is ${outcome.keyAge.ageDays.toFixed(1)} days old, ${state}; rotation due on ${due}.`;
    }
    case 'deferred':
      return `${outcome.profile} (${outcome.user.userName}): ${lowerFirstWord(describeDeferral(outcome.deferral))}`;
    case 'failed':
      return `${outcome.profile}: ${outcome.error.userMessage}`;
  }
}

/** SPEC's exit codes: a failure wins over a deferral, which wins over success. */
export function getExitCode(outcomes: readonly RotateOutcome[]): ExitCode {
  if (outcomes.some((outcome) => outcome.kind === 'failed')) return ExitCode.failed;
  if (outcomes.some((outcome) => outcome.kind === 'deferred')) return ExitCode.deferred;
  return ExitCode.ok;
}

/** "Deferred until …" reads as one sentence after "profile (user): ". */
function lowerFirstWord(sentence: string): string {
  return sentence.replace(/^Deferred\b/, 'deferred');
}
