import type { ExitCode } from '../errors.js';
import { PROGRESS_NOTIFICATION, type RotateParams } from '../ipc/protocol.js';
import type { CommandContext } from './context.js';
import { readRotateResult, type WireOutcome } from './replies.js';
import { RotationReporter, getRotateExitCode } from './rotate-progress.js';

/**
 * The silence `rotate now` allows between two messages. The daemon reports every step and every
 * attempt to verify the new key, but a single quiet wait (AWS's retries, a slow CreateAccessKey
 * behind a proxy) can be long; keyupctl must not give up on a rotation that is still going.
 */
export const ROTATE_TIMEOUT_MS = 120_000;

export interface RotateOptions {
  readonly profiles: readonly string[];
  readonly force: boolean;
  readonly mfaCode: string | undefined;
}

type FailedOutcome = Extract<WireOutcome, { kind: 'failed' }>;

/** A code STS refused may be typed again, this many times in all. */
const MFA_ATTEMPTS = 3;

/**
 * " (arn:…)" from the daemon's sentence, which names the device ("…a code from the MFA device
 * arn:… to rotate", "…refused the MFA code for the device arn:…: …"); empty when it does not.
 */
function describeDevice(outcome: FailedOutcome): string {
  const device = /the (?:MFA )?device (arn:\S+?)[.,:]? /.exec(`${outcome.error.message} `)?.[1];
  return device === undefined ? '' : ` (${device})`;
}

/**
 * `keyupctl rotate now`: streams each step, then exits 0 (done or busy), 1 (a failure), or 4 (a
 * deferral and no failure). Where IAM demands MFA and nobody gave `--mfa-code`, it asks at the
 * terminal, one profile at a time (each user has its own device), and rotates that profile again.
 */
export async function runRotate(ctx: CommandContext, { profiles, force, mfaCode }: RotateOptions): Promise<ExitCode> {
  const ask = mfaCode === undefined ? ctx.getAsk() : undefined;
  const willAskForMfa = ask !== undefined;
  const reporter = new RotationReporter({ out: ctx.out, err: ctx.err, paint: ctx.paint, live: ctx.stdoutIsTTY, willAskForMfa });
  const rotate = async (params: RotateParams, telling: RotationReporter) => {
    const result = await ctx.call('rotate', params, {
      timeoutMs: ctx.timeoutMs ?? ROTATE_TIMEOUT_MS,
      onNotification: (method, progress) => {
        if (method === PROGRESS_NOTIFICATION) telling.onProgress(progress);
      },
    });
    return readRotateResult(result);
  };
  const base: RotateParams = { ...(profiles.length === 0 ? {} : { profiles }), ...(force ? { force } : {}) };
  let outcomes = await rotate({ ...base, ...(mfaCode === undefined ? {} : { mfa_code: mfaCode }) }, reporter);
  reporter.finish(outcomes);

  if (ask !== undefined) {
    const needMfa = outcomes.filter((outcome): outcome is FailedOutcome => outcome.kind === 'failed' && outcome.error.code === 'needs-mfa');
    for (const refused of needMfa) {
      let latest: readonly WireOutcome[] = [refused];
      // A code STS refused (a typo, a code a moment too old) may be typed again.
      for (let attempt = 0; attempt < MFA_ATTEMPTS; attempt++) {
        const wanting = latest.find((outcome): outcome is FailedOutcome => outcome.profile === refused.profile && outcome.kind === 'failed' && (outcome.error.code === 'needs-mfa' || outcome.error.code === 'mfa-code-refused'));
        if (wanting === undefined) break;
        const code = (await ask(`${refused.profile}: MFA code${describeDevice(wanting)}: `))?.trim();
        if (code === undefined || !/^\d{6}$/.test(code)) {
          if (code !== undefined && code !== '') ctx.err(`keyupctl: ${refused.profile}: an MFA code is six digits; not rotated.\n`);
          // What stopped this profile, said once: the first refusal, or the refused code before this answer.
          reporter.reportFailure(wanting);
          break;
        }
        // A fresh reporter: this profile's second run is told in full, and a second refusal is a failure.
        const retry = new RotationReporter({ out: ctx.out, err: ctx.err, paint: ctx.paint, live: ctx.stdoutIsTTY, willAskForMfa: attempt + 1 < MFA_ATTEMPTS });
        latest = await rotate({ profiles: [refused.profile], ...(force ? { force } : {}), mfa_code: code }, retry);
        retry.finish(latest);
        outcomes = [...outcomes.filter((outcome) => outcome.profile !== refused.profile), ...latest];
      }
    }
  }
  return getRotateExitCode(outcomes);
}
