export type { LogLevel, LogTarget, NotifyMode, OldKeyAction, SettingKey, Settings, SyslogTarget } from './settings.js';
export { DEFAULT_PROFILE, ENV_AWS_PROFILE, MANAGE_WITH_KEY, MAX_BACKUP_KEEP, MAX_DAYS, daemonOnlyKeys, getDefaultSettings, settingFields, settingKeys, unsupportedKeys } from './settings.js';
export type { KeyupConfig, ParseConfigInit, ProfileConfig, SettingSources, Source } from './parse-config.js';
export { getDefaultConfig, parseConfig } from './parse-config.js';
export type { LoadConfigInit } from './load-config.js';
export { MAX_CONFIG_BYTES, loadConfig } from './load-config.js';
export type { ConfigJson, SourcedJsonValue } from './render-config.js';
export { formatSource, renderConfig, toConfigJson } from './render-config.js';
export { formatSyslogTarget } from './parse-value.js';
