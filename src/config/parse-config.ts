import { ConfigError } from '../errors.js';
import type { Env } from '../paths.js';
import type { IniEntry, IniSection } from './parse-ini.js';
import { parseIni } from './parse-ini.js';
import { parseValue } from './parse-value.js';
import type { SettingKey, Settings } from './settings.js';
import {
  DEFAULT_PROFILE,
  ENV_AWS_PROFILE,
  MANAGE_WITH_KEY,
  daemonOnlyKeys,
  getDefaultSettings,
  inertValues,
  settingFields,
  settingKeys,
  unsupportedKeys as currentUnsupportedKeys,
  repeatableKeys,
  type HookCommand,
} from './settings.js';

/** Where an effective value came from: SPEC's default, a line of the file, or the environment. */
export type Source =
  | { readonly kind: 'default' }
  /** `section` is `keyup` or `profile NAME`, as between the brackets. */
  | { readonly kind: 'file'; readonly file: string; readonly line: number; readonly section: string }
  | { readonly kind: 'env'; readonly name: string };

export type SettingSources = { readonly [F in keyof Settings]: Source };

/** One profile keyup manages, with its effective settings: its own section over `[keyup]` over the defaults. */
export interface ProfileConfig {
  readonly name: string;
  /** Why it is managed: its `[profile NAME]` line, else `$AWS_PROFILE`, else the default (`default`). */
  readonly source: Source;
  /** Daemon-wide keys (`schedule`, `log…`, `syslog`) are always those of `[keyup]`. */
  readonly settings: Settings;
  readonly sources: SettingSources;
  /** `manage_with`: the profile whose credentials make the IAM calls. Default: the profile itself. */
  readonly manageWith?: string;
  readonly manageWithSource?: Source;
}

/** The effective configuration: fully defaulted, validated and deeply frozen. */
export interface KeyupConfig {
  /** The config file's path (SPEC: `--config`, `$KEYUP_CONFIG`, else `$XDG_CONFIG_HOME/keyup/config`). */
  readonly file: string;
  /** False when there was no file, so every value is a default. */
  readonly found: boolean;
  /** `[keyup]` over the defaults. */
  readonly daemon: Settings;
  readonly daemonSources: SettingSources;
  /** In file order; never empty. */
  readonly profiles: readonly ProfileConfig[];
  /** The keys this build refused to take (see `unsupportedKeys`). */
  readonly unsupportedKeys: readonly SettingKey[];
}

export interface ParseConfigInit {
  /** Keys refused as "not supported yet". Default: `unsupportedKeys`, this build's list. */
  unsupportedKeys?: ReadonlySet<SettingKey>;
}

const KEYUP_SECTION = 'keyup';
const PROFILE_PREFIX = 'profile ';

type SectionRef = { readonly kind: 'keyup' } | { readonly kind: 'profile'; readonly name: string };

function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(settingFields, key);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

function unknownKeyProblem(key: string, section: string): string {
  const known = [...settingKeys, MANAGE_WITH_KEY];
  // A typo (two edits at most) or a shortened key (`max_age`) suggests the closest key.
  const near = known
    .filter((candidate) => editDistance(key, candidate) <= 2 || (key.length >= 4 && candidate.startsWith(key)))
    .sort((a, b) => editDistance(key, a) - editDistance(key, b))[0];
  // A statement, not a question: ConfigError ends the sentence with a period, and "?." reads badly.
  const fix = near !== undefined ? `perhaps you meant ${near}` : `keyup's keys are ${known.join(', ')}`;
  return `${key} is not a keyup key (in [${section}]); ${fix}`;
}

function resolveSection(section: IniSection, file: string): SectionRef {
  const { name, line } = section;
  if (name === KEYUP_SECTION) return { kind: 'keyup' };
  if (name.startsWith(PROFILE_PREFIX)) {
    const profile = name.slice(PROFILE_PREFIX.length);
    if (profile.includes(' ')) throw new ConfigError(file, line, `[${name}] has a space in its profile name; name one profile per section, like [profile ci-bot]`);
    return { kind: 'profile', name: profile };
  }
  if (name === 'profile') throw new ConfigError(file, line, `[profile] needs a profile name, like [profile default]`);
  // In ~/.aws/config `[default]` is a profile; here it could as well mean "defaults", so ask.
  if (name === 'default') throw new ConfigError(file, line, `[default] is not a keyup section; write [profile default] for the default profile, or [keyup] for settings of every profile`);
  const caseHint = name.toLowerCase() === KEYUP_SECTION || name.toLowerCase().startsWith(PROFILE_PREFIX) ? ' (section names are case-sensitive)' : '';
  throw new ConfigError(file, line, `[${name}] is not a keyup section; use [keyup] or [profile NAME]${caseHint}`);
}

interface ReadSection {
  readonly section: IniSection;
  readonly ref: SectionRef;
  readonly values: Partial<Record<SettingKey, { readonly value: unknown; readonly line: number }>>;
  readonly manageWith?: { readonly value: string; readonly line: number };
}

function readEntry(entry: IniEntry, ref: SectionRef, section: string, file: string, home: string, unsupported: ReadonlySet<SettingKey>): unknown {
  const { key, value, line } = entry;
  if (!isSettingKey(key)) throw new ConfigError(file, line, unknownKeyProblem(key, section));
  if (ref.kind === 'profile' && daemonOnlyKeys.has(key)) {
    throw new ConfigError(file, line, `${key} applies to the whole daemon, not to one profile; move it to [keyup]`);
  }
  if (unsupported.has(key) && value.toLowerCase() !== inertValues[key]) {
    throw new ConfigError(file, line, `${key} is not supported yet by this version of keyup; remove it`);
  }
  const parsed = parseValue(key, value, home);
  if (!parsed.ok) throw new ConfigError(file, line, parsed.problem);
  return parsed.value;
}

function readSection(section: IniSection, file: string, home: string, unsupported: ReadonlySet<SettingKey>): ReadSection {
  const ref = resolveSection(section, file);
  const values: ReadSection['values'] = {};
  let manageWith: ReadSection['manageWith'];
  for (const entry of section.entries) {
    const { key, value, line } = entry;
    if (key === 'post_rotate') {
      // One command per line, in order; an empty value clears the list so far.
      const command = readEntry(entry, ref, section.name, file, home, unsupported) as HookCommand | null;
      const earlier = values.post_rotate;
      values.post_rotate = command === null ? { value: [], line } : { value: [...((earlier?.value as HookCommand[] | undefined) ?? []), command], line: earlier?.line ?? line };
      continue;
    }
    if (key !== MANAGE_WITH_KEY) {
      values[key as SettingKey] = { value: readEntry(entry, ref, section.name, file, home, unsupported), line };
      continue;
    }
    if (ref.kind !== 'profile') throw new ConfigError(file, line, `${MANAGE_WITH_KEY} only belongs in a [profile NAME] section; move it there`);
    if (value === '' || /\s/.test(value)) throw new ConfigError(file, line, `${MANAGE_WITH_KEY} must name one profile, like ${MANAGE_WITH_KEY} = admin, not '${value}'`);
    if (value === ref.name) throw new ConfigError(file, line, `${MANAGE_WITH_KEY} names [${section.name}] itself; name another profile, or remove it to use the profile's own key`);
    manageWith = { value, line };
  }
  checkWarnBelowMax(values, section.name, file);
  return { section, ref, values, manageWith };
}

/**
 * Refused only when one section states both: an inherited `max_age_days` below the warning age
 * (SPEC's own example sets `max_age_days = 30` under a default warning at 80) just means the
 * profile has no warning stage.
 */
function checkWarnBelowMax(values: ReadSection['values'], section: string, file: string): void {
  const max = values.max_age_days;
  const warn = values.warn_age_days;
  if (max === undefined || warn === undefined || max.value === 0 || (warn.value as number) <= (max.value as number)) return;
  throw new ConfigError(
    file,
    warn.line,
    `warn_age_days (${String(warn.value)}) must not exceed max_age_days (${String(max.value)}, line ${max.line}) in [${section}]; lower it, or raise max_age_days`,
  );
}

function override(base: Settings, baseSources: SettingSources, read: ReadSection, file: string): { settings: Settings; sources: SettingSources } {
  const settings: Record<string, unknown> = { ...base };
  const sources: Record<string, Source> = { ...baseSources };
  for (const key of settingKeys) {
    const found = read.values[key];
    if (found === undefined) continue;
    settings[settingFields[key]] = found.value;
    sources[settingFields[key]] = { kind: 'file', file, line: found.line, section: read.section.name };
  }
  return { settings: settings as unknown as Settings, sources: sources as SettingSources };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function build(text: string, file: string, env: Env, home: string, found: boolean, unsupported: ReadonlySet<SettingKey>): KeyupConfig {
  const defaultValues: Record<string, unknown> = { ...getDefaultSettings(env, home) };
  const defaultSources: Record<string, Source> = {};
  for (const key of settingKeys) {
    defaultSources[settingFields[key]] = { kind: 'default' };
    // An unsupported feature is off: say so rather than show a default this build ignores.
    const inert = inertValues[key];
    if (unsupported.has(key) && inert !== undefined) defaultValues[settingFields[key]] = inert;
  }
  const defaults = defaultValues as unknown as Settings;

  const sections = parseIni(text, file, repeatableKeys).map((section) => readSection(section, file, home, unsupported));
  const keyup = sections.find((read) => read.ref.kind === 'keyup');
  const daemon = keyup === undefined ? { settings: defaults, sources: defaultSources as SettingSources } : override(defaults, defaultSources as SettingSources, keyup, file);

  const profiles: ProfileConfig[] = [];
  for (const read of sections) {
    if (read.ref.kind !== 'profile') continue;
    const { settings, sources } = override(daemon.settings, daemon.sources, read, file);
    const source: Source = { kind: 'file', file, line: read.section.line, section: read.section.name };
    const manageWith = read.manageWith === undefined ? {} : { manageWith: read.manageWith.value, manageWithSource: { kind: 'file', file, line: read.manageWith.line, section: read.section.name } as const };
    profiles.push({ name: read.ref.name, source, settings, sources, ...manageWith });
  }
  if (profiles.length === 0) {
    const fromEnv = env[ENV_AWS_PROFILE]?.trim();
    const managed = fromEnv !== undefined && fromEnv !== '' ? { name: fromEnv, source: { kind: 'env', name: ENV_AWS_PROFILE } as const } : { name: DEFAULT_PROFILE, source: { kind: 'default' } as const };
    profiles.push({ ...managed, settings: daemon.settings, sources: daemon.sources });
  }

  return deepFreeze({
    file,
    found,
    daemon: daemon.settings,
    daemonSources: daemon.sources,
    profiles,
    unsupportedKeys: settingKeys.filter((key) => unsupported.has(key)),
  });
}

/**
 * Reads keyup's config text (SPEC "Configuration") into the effective configuration. Pure: the
 * same text, env and home give the same result, and nothing outside is touched, so a reload can
 * try a new file and keep the old configuration when this throws. Throws a `ConfigError`
 * (exit 2) naming `file`, the 1-based line and the key, on the first problem in line order.
 *
 * @param env supplies `$AWS_PROFILE` (used only when the file has no `[profile …]` section) and
 *   `$XDG_STATE_HOME` (for the default `log_file`).
 * @param home expands `~`.
 */
export function parseConfig(text: string, file: string, env: Env, home: string, { unsupportedKeys = currentUnsupportedKeys }: ParseConfigInit = {}): KeyupConfig {
  return build(text, file, env, home, true, unsupportedKeys);
}

/** The configuration when `file` does not exist: every value a default (SPEC). */
export function getDefaultConfig(file: string, env: Env, home: string, { unsupportedKeys = currentUnsupportedKeys }: ParseConfigInit = {}): KeyupConfig {
  return build('', file, env, home, false, unsupportedKeys);
}
