export type { LogLevel, LogTarget, NotifyMode, OldKeyAction, SettingKey, Settings, SyslogTarget } from './settings.js';
export { DEFAULT_PROFILE, ENV_AWS_PROFILE, MANAGE_WITH_KEY, daemonOnlyKeys, getDefaultSettings, settingFields, settingKeys, unsupportedKeys } from './settings.js';
export type { KeyupConfig, ParseConfigInit, ProfileConfig, SettingSources, Source } from './parse-config.js';
export { getDefaultConfig, parseConfig } from './parse-config.js';
export type { LoadConfigInit, ReadTextFile } from './load-config.js';
export { loadConfig } from './load-config.js';
export type { ConfigJson, SourcedJsonValue } from './render-config.js';
export { formatSource, renderConfig, toConfigJson } from './render-config.js';
export { formatSyslogTarget } from './parse-value.js';
