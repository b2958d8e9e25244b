import { ExitCode } from '../errors.js';
import type { Paint } from './color.js';
import type { CommandContext } from './context.js';
import { formatAge, formatDate } from './format.js';
import { readKeys, type WireKey, type WireProfileKeys } from './replies.js';
import { renderTable } from './table.js';

export const KEYS_HEADERS = ['KEY ID', 'STATUS', 'CREATED', 'AGE', 'LAST USED', 'PROFILES', 'MANAGED'] as const;

/**
 * `keyupctl keys [--profile P] [--json]`, given the reply to `keys`. A profile whose keys could not be listed is said on
 * stderr and makes the exit code 1; the others are still shown.
 */
export async function runKeys(ctx: CommandContext, { json }: { json: boolean }, reply: Promise<unknown>): Promise<ExitCode> {
  const keys = readKeys(await reply);
  if (json) {
    ctx.out(`${JSON.stringify(keys)}\n`);
  } else {
    ctx.out(formatKeys(keys, ctx.paint).map((line) => `${line}\n`).join(''));
    for (const entry of keys) {
      if (entry.error != null) ctx.err(`keyupctl: ${entry.profile}: ${entry.error.message}${entry.error.hint == null ? '' : ` ${entry.error.hint}`}\n`);
    }
  }
  return keys.some((entry) => entry.error != null) ? ExitCode.failed : ExitCode.ok;
}

/** A heading and a table per profile; a profile that failed has its heading only (its error goes to stderr). */
export function formatKeys(keys: readonly WireProfileKeys[], paint: Paint): string[] {
  if (keys.length === 0) return ['keyupd manages no profile.'];
  const lines: string[] = [];
  for (const entry of keys) {
    if (lines.length > 0) lines.push('');
    const owner = entry.user == null ? '' : ` (user ${entry.user}${entry.account == null ? '' : `, account ${entry.account}`})`;
    lines.push(paint('bold', `${entry.profile}${owner}`));
    if (entry.error != null) {
      lines.push(paint('red', `keys not listed: ${entry.error.message}`));
      continue;
    }
    if (entry.keys.length === 0) {
      lines.push('no keys');
      continue;
    }
    lines.push(...renderTable(KEYS_HEADERS, entry.keys.map((key) => formatKeyRow(key, paint))));
  }
  return lines;
}

function formatKeyRow(key: WireKey, paint: Paint): string[] {
  return [
    key.key_id,
    key.status === 'Active' ? key.status : paint('dim', key.status),
    formatDate(key.created),
    formatAge(key.age_days),
    formatLastUsed(key.last_used),
    key.in_profiles.length === 0 ? '-' : key.in_profiles.join(', '),
    key.managed ? paint('bold', 'yes') : '',
  ];
}

/** `2026-11-20 s3 eu-west-1`, `never`. */
export function formatLastUsed(lastUsed: WireKey['last_used']): string {
  if (lastUsed == null || lastUsed.date == null) return 'never';
  return [formatDate(lastUsed.date), lastUsed.service, lastUsed.region].filter((part): part is string => typeof part === 'string' && part !== '').join(' ');
}
