/**
 * Numbers and times as keyupctl shows them to a person. Times are shown in local time (a person
 * reads their own clock); `--json` keeps the daemon's ISO strings.
 */

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

const pad = (value: number) => String(value).padStart(2, '0');

function parse(iso: string): Date | undefined {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A key's age in days with one decimal: `54.2d`; `-` when unknown. */
export function formatAge(days: number | null | undefined): string {
  return typeof days === 'number' && Number.isFinite(days) ? `${days.toFixed(1)}d` : '-';
}

/** `2026-11-24`, local; a value that is not a date is shown as it came. */
export function formatDate(iso: string): string {
  const date = parse(iso);
  return date === undefined ? iso : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** `2026-11-24 07:00`, local. */
export function formatDateTime(iso: string): string {
  const date = parse(iso);
  return date === undefined ? iso : `${formatDate(iso)} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** `in 3 h`, `5 min ago`, `now`: how far `iso` is from `now`, roughly. */
export function formatRelative(iso: string, now: Date): string {
  const date = parse(iso);
  if (date === undefined) return iso;
  const diff = date.getTime() - now.getTime();
  const span = Math.abs(diff);
  if (span < MS_PER_MINUTE) return 'now';
  const amount = span < MS_PER_HOUR ? `${Math.round(span / MS_PER_MINUTE)} min` : span < MS_PER_DAY ? `${Math.round(span / MS_PER_HOUR)} h` : `${Math.round(span / MS_PER_DAY)} d`;
  return diff > 0 ? `in ${amount}` : `${amount} ago`;
}

/** Elapsed milliseconds as seconds with one decimal: `3.1 s`. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/** The date a key reaches `maxAgeDays`, from its creation date; undefined when either is unknown. */
export function getDueDate(keyCreated: string | null | undefined, maxAgeDays: number | null | undefined): string | undefined {
  if (typeof keyCreated !== 'string' || typeof maxAgeDays !== 'number') return undefined;
  const created = parse(keyCreated);
  return created === undefined ? undefined : new Date(created.getTime() + maxAgeDays * MS_PER_DAY).toISOString();
}

/**
 * An engine sentence as the tail of a `profile: …` line: first letter lowered (unless it starts
 * a name such as `AWS` or `IAM`), final full stop dropped.
 */
export function toClause(sentence: string): string {
  const text = sentence.trim().replace(/\.$/, '');
  if (/^[A-Z][A-Z0-9]/.test(text)) return text;
  return text.charAt(0).toLowerCase() + text.slice(1);
}
