export { CredentialsStore } from './store.js';
export type { Clock, CredentialsSnapshot, CredentialsStoreInit, ReplaceKeyResult } from './store.js';
export type { AccessKey } from './edit.js';
export { EXPIRY_KEYS } from './profiles.js';
export type { AwsFileFingerprints } from './fingerprint.js';
export type { LongTermProfile, OtherCredentials, OtherProfile, Profile, ProfileSource, TemporaryProfile } from './profiles.js';
export type { FileSystem } from '../fs/fs.js';
