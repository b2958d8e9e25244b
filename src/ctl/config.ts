import { ExitCode } from '../errors.js';
import { isRecord } from '../ipc/protocol.js';
import type { Paint } from './color.js';
import type { CommandContext } from './context.js';
import { readConfig } from './replies.js';
import { visibleWidth } from './table.js';

/** `keyupctl config [--json]`, given the reply to `config`: `--json` prints keyupd's answer as it is. */
export async function runConfig(ctx: CommandContext, { json }: { json: boolean }, reply: Promise<unknown>): Promise<ExitCode> {
  const config = readConfig(await reply);
  ctx.out(json ? `${JSON.stringify(config)}\n` : formatConfig(config, ctx.paint).map((line) => `${line}\n`).join(''));
  return ExitCode.ok;
}

/** A source as SPEC writes it: `default`, `file:LINE`, `env:NAME` or `flag:NAME`. */
function formatSource(source: unknown): string {
  return typeof source === 'string' ? source : JSON.stringify(source ?? null);
}

type Row = readonly [left: string, comment: string | null];

function valueRows(values: unknown): Row[] {
  if (!isRecord(values)) return [];
  return Object.entries(values).flatMap(([key, entry]): Row[] => {
    if (!isRecord(entry) || !('value' in entry)) return [[`${key} = ${JSON.stringify(entry)}`, null]];
    const source = formatSource(entry.source);
    // A key given on several lines (post_rotate: a hook per line) is shown a line per value.
    if (Array.isArray(entry.value)) return entry.value.length === 0 ? [[`; ${key} is not set`, source]] : entry.value.map((item): Row => [`${key} = ${String(item)}`, source]);
    return [entry.value === null ? [`; ${key} is not set`, source] : [`${key} = ${String(entry.value)}`, source]];
  });
}

/**
 * The effective configuration as keyup INI: `[keyup]`, then each managed profile, every value
 * followed by a `;` comment saying where it came from, so it can be read, compared or copied.
 */
export function formatConfig(config: Record<string, unknown>, paint: Paint): string[] {
  const rows: Row[] = [];
  const file = typeof config.file === 'string' ? config.file : 'an unknown file';
  const refused = isRecord(config.config_error) && typeof config.config_error.message === 'string' ? config.config_error : undefined;
  if (refused !== undefined) {
    const hint = typeof refused.hint === 'string' ? ` ${refused.hint}` : '';
    rows.push([paint('red', `; Configuration not applied: ${String(refused.message)}${hint} keyupd keeps running the configuration below.`), null]);
  }
  rows.push([`; keyup configuration from ${file}${config.found === false ? ' (no such file: every value is a default)' : ''}`, null], ['', null], ['[keyup]', null], ...valueRows(config.keyup));

  const managed = isRecord(config.managed) ? config.managed : {};
  if (isRecord(config.profiles)) {
    for (const [name, values] of Object.entries(config.profiles)) {
      const why = managed[name];
      rows.push(['', null], [`[profile ${name}]`, typeof why === 'string' ? `managed: ${why}` : null], ...valueRows(values));
    }
  }
  if (Array.isArray(config.unsupported_keys) && config.unsupported_keys.length > 0) {
    rows.push(['', null], [`; not supported yet by this version: ${config.unsupported_keys.join(', ')}`, null]);
  }

  const width = Math.max(0, ...rows.map(([left, comment]) => (comment === null ? 0 : visibleWidth(left))));
  return rows.map(([left, comment]) => {
    const text = comment === null ? left : `${left}${' '.repeat(width - visibleWidth(left))}  ${paint('dim', `; ${comment}`)}`;
    return left.startsWith('[') ? text.replace(left, paint('bold', left)) : text;
  });
}
