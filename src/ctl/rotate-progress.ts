/**
 * `rotate now`'s output as the daemon's `rotate.progress` events arrive: one line per step that
 * matters to a person, the wait for IAM on one line (rewritten in place on a terminal, at most a
 * line per second of waiting elsewhere), then one line per profile's outcome.
 */
import { ExitCode } from '../errors.js';
import { isRecord } from '../ipc/protocol.js';
import { describeBusy } from '../present/busy.js';
import { describeDeferral } from '../present/deferral.js';
import { formatHolders } from '../present/holders.js';
import { maskKeyId } from '../present/key-id.js';
import type { Paint } from './color.js';
import { formatDateTime, formatSeconds, toClause } from './format.js';
import { isWireOutcome, type WireOutcome } from './replies.js';
import { visibleWidth } from './table.js';

export interface ProgressOutput {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly paint: Paint;
  /** stdout is a terminal: the wait for IAM is one line rewritten in place. */
  readonly live: boolean;
  /**
   * Whether keyupctl will ask for an MFA code when IAM demands one: the refusal is then a
   * question to come, not yet a failure to report.
   */
  readonly willAskForMfa: boolean;
}

interface ProfileProgress {
  /** `elapsed_ms` of the first verify event: the wait for IAM is counted from it. */
  verifyStartMs: number | undefined;
  /** The wait last printed, on a non-terminal. */
  lastWaitPrintedMs: number;
  /** Engine sentences already printed, so that outcome notes are not printed twice. */
  readonly printed: Set<string>;
  ended: boolean;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const mask = (value: unknown): string => maskKeyId(str(value) ?? '');

export class RotationReporter {
  private readonly profiles = new Map<string, ProfileProgress>();
  /** The profile whose live line is on screen, unfinished, and that line's width. */
  private live: { profile: string; width: number } | undefined;

  constructor(private readonly output: ProgressOutput) {}

  /** One `rotate.progress` notification's params. Shapes it does not know are skipped: a newer keyupd may send more. */
  onProgress(params: unknown): void {
    if (!isRecord(params) || typeof params.profile !== 'string') return;
    const profile = params.profile;
    const state = this.stateOf(profile);
    const elapsedMs = num(params.elapsed_ms) ?? 0;
    if (params.type === 'end') {
      if (isWireOutcome(params.outcome)) this.printOutcome(params.outcome, elapsedMs);
      return;
    }
    if (params.type !== 'step' || typeof params.step !== 'string') return;
    const text = str(params.text) ?? '';
    const data = isRecord(params.data) ? params.data : {};
    switch (params.step) {
      case 'defer':
        // The end event says it, with until when.
        return;
      case 'create':
        if (data.new_key_id != null) return this.line(profile, `created new key ${mask(data.new_key_id)}`);
        return this.line(profile, (num(data.attempt) ?? 1) > 1 ? `creating new key (attempt ${num(data.attempt)})…` : 'creating new key…');
      case 'verify':
        return this.onVerify(profile, state, elapsedMs, data, text);
      case 'write':
        if (data.profiles != null) return this.line(profile, str(data.profiles) === profile ? 'credentials file updated' : `credentials file updated (${str(data.profiles)})`);
        return this.note(profile, text);
      case 'hook': {
        // One line when a hook starts and one with its result, its time included.
        const hook = `hook ${num(data.index) ?? '?'}/${num(data.of) ?? '?'} ${str(data.hook) ?? ''}`.trimEnd();
        const seconds = num(data.elapsed_ms) === undefined ? '' : ` (${((num(data.elapsed_ms) ?? 0) / 1000).toFixed(1)} s)`;
        if (data.ok === true) return this.line(profile, `${hook}: done${seconds}`);
        if (data.ok === false) return this.line(profile, `${hook}: failed${seconds}: ${text.replace(/^.*failed after [\d.]+ s: /, '').replace(/\.$/, '')}`);
        return this.line(profile, `running ${hook}…`);
      }
      case 'mfa':
        return this.line(profile, `MFA session made with the code of ${str(data.serial_number) ?? 'the device'}`);
      case 'retire':
        if (data.old_key_id != null) return this.line(profile, `old key ${mask(data.old_key_id)} ${data.action === 'deactivate' ? 'deactivated' : 'deleted'}`);
        return this.note(profile, text);
      default:
        return this.note(profile, text);
    }
  }

  /**
   * Prints the outcomes no end event reported (a rotation joined late, a profile refused before
   * it started), closes a live line, and gives the exit code of all of them.
   */
  finish(outcomes: readonly WireOutcome[]): ExitCode {
    for (const outcome of outcomes) {
      if (!this.stateOf(outcome.profile).ended) this.printOutcome(outcome, undefined);
    }
    this.closeLive();
    return getRotateExitCode(outcomes);
  }

  /** A failure the reporter held back because keyupctl meant to ask for an MFA code, and did not. */
  reportFailure(outcome: Extract<WireOutcome, { kind: 'failed' }>): void {
    this.error(`${outcome.profile}: ${outcome.error.message}${outcome.error.hint == null ? '' : ` ${outcome.error.hint}`}`);
  }

  private onVerify(profile: string, state: ProfileProgress, elapsedMs: number, data: Record<string, unknown>, text: string): void {
    if (data.verified === true) {
      const waited = state.verifyStartMs === undefined ? '' : ` after ${formatSeconds(elapsedMs - state.verifyStartMs)}`;
      return this.line(profile, `AWS accepts the new key${waited}`);
    }
    if (data.attempt === undefined) return this.note(profile, text);
    if (state.verifyStartMs === undefined || data.attempt === 0) {
      state.verifyStartMs = elapsedMs;
      state.lastWaitPrintedMs = 0;
      return this.liveLine(profile, `waiting for IAM to accept the new key ${mask(data.new_key_id)}…`);
    }
    const waitedMs = elapsedMs - state.verifyStartMs;
    const line = `waiting for IAM to accept the new key (${formatSeconds(waitedMs)})…`;
    if (this.output.live) return this.liveLine(profile, line);
    // A plain line per refused attempt would flood a log: one per second of waiting at most.
    if (waitedMs - state.lastWaitPrintedMs < 1000) return;
    state.lastWaitPrintedMs = waitedMs;
    this.line(profile, line);
  }

  private printOutcome(outcome: WireOutcome, elapsedMs: number | undefined): void {
    const state = this.stateOf(outcome.profile);
    state.ended = true;
    const p = outcome.profile;
    switch (outcome.kind) {
      case 'rotated': {
        const others = outcome.holders.filter((holder) => !(holder.profile === p && holder.file === 'credentials'));
        const also = others.length === 0 ? '' : `, also in ${formatHolders(others)}`;
        this.line(p, this.output.paint('green', `rotated ${maskKeyId(outcome.old_key_id)} → ${maskKeyId(outcome.new_key_id)}${elapsedMs === undefined ? '' : ` (${formatSeconds(elapsedMs)})`}${also}`));
        break;
      }
      case 'current':
        this.line(p, `key ${maskKeyId(outcome.key_id)} kept${typeof outcome.age_days === 'number' ? ` (${outcome.age_days.toFixed(1)} days old)` : ''}`);
        break;
      case 'deferred': {
        const deferral = { ...outcome.deferral, until: outcome.deferral.until === null ? null : formatDateTime(outcome.deferral.until) };
        this.line(p, this.output.paint('cyan', `${toClause(describeDeferral(deferral as Parameters<typeof describeDeferral>[0]))}; keyupctl rotate now --force rotates anyway`));
        break;
      }
      case 'busy':
        this.line(p, describeBusy(outcome, typeof outcome.since === 'string' ? formatDateTime(outcome.since) : undefined));
        break;
      case 'failed':
        if (outcome.error.code === 'needs-mfa' && this.output.willAskForMfa) this.line(p, 'IAM wants an MFA code to change this key');
        else if (outcome.error.code === 'mfa-code-refused' && this.output.willAskForMfa) this.line(p, 'AWS refused that MFA code; nothing was changed');
        else this.reportFailure(outcome);
        break;
    }
    for (const note of outcome.notes) this.note(p, note);
  }

  private note(profile: string, text: string): void {
    const state = this.stateOf(profile);
    if (text === '' || state.printed.has(text)) return;
    state.printed.add(text);
    this.line(profile, toClause(text));
  }

  private stateOf(profile: string): ProfileProgress {
    let state = this.profiles.get(profile);
    if (state === undefined) {
      state = { verifyStartMs: undefined, lastWaitPrintedMs: 0, printed: new Set(), ended: false };
      this.profiles.set(profile, state);
    }
    return state;
  }

  private line(profile: string, text: string): void {
    this.closeLive();
    this.output.out(`${profile}: ${text}\n`);
  }

  private error(text: string): void {
    this.closeLive();
    this.output.err(`keyupctl: ${text}\n`);
  }

  /** On a terminal, a line the next one of the same profile overwrites; elsewhere a plain line. */
  private liveLine(profile: string, text: string): void {
    if (!this.output.live) return this.line(profile, text);
    if (this.live !== undefined && this.live.profile !== profile) this.closeLive();
    const line = `${profile}: ${text}`;
    const width = visibleWidth(line);
    // Spaces, not an erase-line escape: what was longer is covered, and nothing but text is sent.
    this.output.out(`\r${line}${' '.repeat(Math.max(0, (this.live?.width ?? 0) - width))}`);
    this.live = { profile, width };
  }

  private closeLive(): void {
    if (this.live === undefined) return;
    this.live = undefined;
    this.output.out('\n');
  }
}

/** SPEC: any failure 1; else any deferral 4; else 0 (busy is not a failure). */
export function getRotateExitCode(outcomes: readonly WireOutcome[]): ExitCode {
  if (outcomes.some((outcome) => outcome.kind === 'failed')) return ExitCode.failed;
  if (outcomes.some((outcome) => outcome.kind === 'deferred')) return ExitCode.deferred;
  return ExitCode.ok;
}
