import type { CredentialsStore } from '../credentials/index.js';
import type { CredentialsFile, FileProfile, FileView, KeyHolder } from './credentials-file.js';

/**
 * The credentials store as the rotation engine sees it. Profiles pass through as the store made
 * them, so their secrets stay non-enumerable (out of any log by accident). Only a profile whose
 * credentials come from the credentials file can be rotated; one that the AWS config decides
 * (a role, SSO, keys kept in the config) is 'other', so the engine can say why it is not.
 */
export function createCredentialsFile(store: CredentialsStore, path: string): CredentialsFile {
  return {
    path,
    async read(): Promise<FileView> {
      const snapshot = await store.read();
      return {
        profiles: snapshot.profiles.map((profile): FileProfile => (profile.source === 'credentials' ? profile : { name: profile.name, kind: 'other' })),
        holdersOf: (accessKeyId) => snapshot.keyHolders.get(accessKeyId) ?? [],
      };
    },
    async replaceKey(oldKeyId, next) {
      const result = await store.replaceKey(oldKeyId, { accessKeyId: next.accessKeyId, secretAccessKey: next.secretAccessKey });
      const profiles: KeyHolder[] = [
        ...result.changed.map((profile) => ({ file: 'credentials' as const, profile })),
        ...result.changedInConfig.map((profile) => ({ file: 'config' as const, profile })),
      ];
      return { profiles };
    },
    checkCanReplace: (oldKeyId) => store.checkCanReplace(oldKeyId),
  };
}
