import type { KeyupConfig, ProfileConfig, SettingSources, Source } from './parse-config.js';
import { formatSyslogTarget } from './parse-value.js';
import type { HookCommand, SettingKey, Settings, SyslogTarget } from './settings.js';
import { MANAGE_WITH_KEY, daemonOnlyKeys, settingFields, settingKeys } from './settings.js';

type JsonValue = string | number | boolean | null | readonly string[];

/** A value as `keyupctl config --json` shows it, with where it came from. */
export interface SourcedJsonValue {
  readonly value: JsonValue;
  readonly source: Source;
}

/** The configuration with its sources, as renderConfig reads it. */
interface SourcedConfig {
  readonly file: string;
  readonly found: boolean;
  readonly keyup: Readonly<Record<SettingKey, SourcedJsonValue>>;
  readonly profiles: readonly {
    readonly profile: string;
    readonly source: Source;
    /** Only the keys a profile may set; the daemon-wide ones are under `keyup`. */
    readonly settings: Readonly<Partial<Record<SettingKey, SourcedJsonValue>>>;
    readonly manage_with: SourcedJsonValue | null;
  }[];
}

/**
 * SPEC's `keyupctl config --json` (and the socket's `config`): every effective value with where
 * it came from, as `default`, `file:LINE`, `env:NAME` or `flag:NAME`. Besides SPEC's fields:
 * `found` (false: no file, every value a default), `managed` (why each profile is managed) and
 * `unsupported_keys`.
 */
export interface ConfigJson {
  readonly file: string;
  readonly found: boolean;
  readonly keyup: Readonly<Record<string, { readonly value: JsonValue; readonly source: string }>>;
  readonly profiles: Readonly<Record<string, Readonly<Record<string, { readonly value: JsonValue; readonly source: string }>>>>;
  readonly managed: Readonly<Record<string, string>>;
  readonly unsupported_keys: readonly SettingKey[];
}

const profileKeys = settingKeys.filter((key) => !daemonOnlyKeys.has(key));

/** `default`, `env AWS_PROFILE`, or `FILE:LINE [SECTION]`, which a terminal can open. */
export function formatSource(source: Source): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'env':
      return `env ${source.name}`;
    case 'file':
      return `${source.file}:${source.line} [${source.section}]`;
  }
}

function toJsonValue(settings: Settings, key: SettingKey): JsonValue {
  const value = settings[settingFields[key]];
  if (value === undefined) return null;
  // post_rotate: the commands as written, in order.
  if (Array.isArray(value)) return value.map((hook: HookCommand) => hook.command);
  return typeof value === 'object' ? formatSyslogTarget(value as SyslogTarget) : value;
}

function sourced(settings: Settings, sources: SettingSources, keys: readonly SettingKey[]): Record<string, SourcedJsonValue> {
  return Object.fromEntries(keys.map((key) => [key, { value: toJsonValue(settings, key), source: sources[settingFields[key]] }]));
}

function describeSources(config: KeyupConfig): SourcedConfig {
  return {
    file: config.file,
    found: config.found,
    keyup: sourced(config.daemon, config.daemonSources, settingKeys) as Record<SettingKey, SourcedJsonValue>,
    profiles: config.profiles.map((profile: ProfileConfig) => ({
      profile: profile.name,
      source: profile.source,
      settings: sourced(profile.settings, profile.sources, profileKeys),
      manage_with:
        profile.manageWith === undefined || profile.manageWithSource === undefined ? null : { value: profile.manageWith, source: profile.manageWithSource },
    })),
  };
}

/** SPEC's source words: `default`, `file:LINE`, `env:NAME`. */
export function formatSpecSource(source: Source): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'env':
      return `env:${source.name}`;
    case 'file':
      return `file:${source.line}`;
  }
}

/** The JSON of `keyupctl config --json` and the socket's `config` method (SPEC). */
export function toConfigJson(config: KeyupConfig): ConfigJson {
  const described = describeSources(config);
  const flatten = (values: Readonly<Partial<Record<SettingKey, SourcedJsonValue>>>) =>
    Object.fromEntries(Object.entries(values).map(([key, { value, source }]) => [key, { value, source: formatSpecSource(source) }]));
  return {
    file: config.file,
    found: config.found,
    keyup: flatten(described.keyup),
    profiles: Object.fromEntries(
      described.profiles.map((profile) => [
        profile.profile,
        { ...(profile.manage_with === null ? {} : { [MANAGE_WITH_KEY]: { value: profile.manage_with.value, source: formatSpecSource(profile.manage_with.source) } }), ...flatten(profile.settings) },
      ]),
    ),
    managed: Object.fromEntries(described.profiles.map((profile) => [profile.profile, formatSpecSource(profile.source)])),
    unsupported_keys: [...config.unsupportedKeys],
  };
}

/**
 * The effective configuration as `keyupctl config` prints it: valid keyup INI, each value
 * followed by a `;` comment saying where it came from, so it can be read, compared or copied.
 */
export function renderConfig(config: KeyupConfig): string {
  const json = describeSources(config);
  const unsupported = new Set(config.unsupportedKeys);
  // [left, comment] pairs; a null comment is a line printed as is.
  const rows: [string, string | null][] = [];
  const addValues = (values: Readonly<Partial<Record<SettingKey, SourcedJsonValue>>>): void => {
    for (const [key, { value, source }] of Object.entries(values) as [SettingKey, SourcedJsonValue][]) {
      const note = unsupported.has(key) ? `${formatSource(source)}; not supported yet by this version` : formatSource(source);
      if (Array.isArray(value)) {
        // A repeatable key: one line per value, as it is written.
        if (value.length === 0) rows.push([`; ${key} is not set`, note]);
        for (const item of value as readonly string[]) rows.push([`${key} = ${item}`, note]);
      } else rows.push(value === null ? [`; ${key} is not set`, note] : [`${key} = ${String(value)}`, note]);
    }
  };

  rows.push([`; keyup configuration from ${config.file}${config.found ? '' : ' (no such file: every value is a default)'}`, null], ['', null]);
  rows.push(['[keyup]', null]);
  addValues(json.keyup);
  for (const profile of json.profiles) {
    rows.push(['', null], [`[profile ${profile.profile}]`, `managed: ${formatSource(profile.source)}`]);
    if (profile.manage_with !== null) rows.push([`${MANAGE_WITH_KEY} = ${String(profile.manage_with.value)}`, formatSource(profile.manage_with.source)]);
    addValues(profile.settings);
  }

  const width = Math.max(...rows.map(([left, comment]) => (comment === null ? 0 : left.length)));
  return rows.map(([left, comment]) => (comment === null ? left : `${left.padEnd(width)}  ; ${comment}`)).join('\n') + '\n';
}
