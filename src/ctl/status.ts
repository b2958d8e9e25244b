import { ExitCode } from '../errors.js';
import type { StatusDocument, StatusProfile } from '../ipc/protocol.js';
import { maskKeyId } from '../present/key-id.js';
import type { Paint, Style } from './color.js';
import type { CommandContext } from './context.js';
import { formatAge, formatDate, formatDateTime, formatRelative, getDueDate } from './format.js';
import { readStatus } from './replies.js';
import { renderTable } from './table.js';

type ProfileState = StatusProfile['state'];

/**
 * A mark per state, so a state reads at a glance even without colour (a pipe, NO_COLOR), each one
 * column wide so tables stay aligned.
 */
const MARKS: Readonly<Record<ProfileState, { readonly mark: string; readonly style: Style }>> = {
  ok: { mark: '✓', style: 'green' },
  warn: { mark: '!', style: 'yellow' },
  due: { mark: '»', style: 'yellow' },
  deferred: { mark: '‖', style: 'cyan' },
  rotating: { mark: '↻', style: 'blue' },
  busy: { mark: '~', style: 'magenta' },
  'needs-mfa': { mark: '?', style: 'red' },
  error: { mark: '✗', style: 'red' },
};

/** `✓ ok`, `✗ error`, …; an unknown state (a newer keyupd) shown as it came. */
export function formatState(state: string, paint: Paint): string {
  const known = MARKS[state as ProfileState] as (typeof MARKS)[ProfileState] | undefined;
  if (known === undefined) return `· ${state}`;
  return paint(known.style, `${known.mark} ${state}`);
}

export const STATUS_HEADERS = ['PROFILE', 'USER', 'KEY', 'AGE', 'STATE', 'NEXT / LAST ROTATION', 'ERROR / DEFERRED'] as const;

/** `keyupctl status [--json]`, given the reply to `status` (main.ts sends it early). */
export async function runStatus(ctx: CommandContext, { json }: { json: boolean }, reply: Promise<unknown>): Promise<ExitCode> {
  const status = readStatus(await reply);
  ctx.out(json ? `${JSON.stringify(status)}\n` : formatStatus(status, { paint: ctx.paint, now: ctx.now() }).map((line) => `${line}\n`).join(''));
  return ExitCode.ok;
}

/** Status for a person: who answers, what is wrong with the daemon, then one row per profile. */
export function formatStatus(status: StatusDocument, { paint, now }: { paint: Paint; now: Date }): string[] {
  const lines = [formatHeader(status, now)];
  if (status.config_error != null) {
    const { message, hint } = status.config_error;
    lines.push(paint('red', `${paint('bold', 'Configuration not applied:')} ${message}${hint == null ? '' : ` ${hint}`} keyupd keeps running the previous configuration.`));
  }
  if (status.waiting_for_network === true) lines.push(paint('yellow', 'keyupd is waiting for the network to come back before it carries on with its check.'));
  lines.push('');
  if (status.profiles.length === 0) return [...lines, 'keyupd manages no profile.'];
  lines.push(...renderTable(STATUS_HEADERS.map((header) => paint('bold', header)), status.profiles.map((profile) => formatRow(profile, paint))));
  for (const profile of status.profiles) {
    if (profile.error?.hint != null) lines.push(`${profile.profile}: ${profile.error.hint}`);
  }
  return lines;
}

function formatHeader(status: StatusDocument, now: Date): string {
  const parts = [`keyupd ${status.version}, pid ${status.pid}`];
  if (typeof status.started === 'string') parts[0] += `, up since ${formatDateTime(status.started)}`;
  if (typeof status.schedule === 'string') parts.push(`schedule ${status.schedule}`);
  parts.push(typeof status.next_check === 'string' ? `next check ${formatDateTime(status.next_check)} (${formatRelative(status.next_check, now)})` : 'no check planned');
  return parts.join(' · ');
}

function formatRow(profile: StatusProfile, paint: Paint): string[] {
  const age = formatAge(profile.key_age_days);
  const old = typeof profile.key_age_days === 'number' && typeof profile.warn_age_days === 'number' && profile.key_age_days >= profile.warn_age_days;
  return [
    profile.profile,
    profile.user ?? '-',
    profile.key_id == null ? '-' : maskKeyId(profile.key_id),
    old ? paint('yellow', age) : age,
    formatState(profile.state, paint),
    `${formatNextRotation(profile)} / ${formatLastRotation(profile)}`,
    formatTrouble(profile, paint),
  ];
}

function formatNextRotation(profile: StatusProfile): string {
  switch (profile.state) {
    case 'rotating':
      return 'now';
    case 'due':
      return 'next check';
    case 'deferred':
      return 'after the session';
    default: {
      const due = getDueDate(profile.key_created, profile.max_age_days);
      return due === undefined ? '-' : formatDate(due);
    }
  }
}

function formatLastRotation(profile: StatusProfile): string {
  const last = profile.last_rotation;
  if (last == null) return 'never';
  return last.ok ? formatDate(last.at) : `${formatDate(last.at)} (failed)`;
}

function formatTrouble(profile: StatusProfile, paint: Paint): string {
  if (profile.error != null) return paint('red', profile.error.message);
  if (profile.state === 'deferred' && profile.deferred_by != null) {
    return `by ${profile.deferred_by} ${profile.deferred_until == null ? 'until its session ends' : `until ${formatDateTime(profile.deferred_until)}`}`;
  }
  if (profile.state === 'needs-mfa') return 'IAM wants MFA: run keyupctl rotate now';
  return '';
}
