import type { StatusProfile } from '../ipc/protocol.js';
import type { Paint, Style } from './color.js';

export type ProfileState = StatusProfile['state'];

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
