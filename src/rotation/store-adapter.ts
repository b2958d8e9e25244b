import type { CredentialsSnapshot, CredentialsStore } from '../credentials/index.js';
import type { CredentialsFile, FileProfile, FileView, KeyHolder } from './credentials-file.js';

/**
 * The credentials store as the rotation engine sees it. Profiles pass through as the store made
 * them, so their secrets stay non-enumerable (out of any log by accident). Only a profile whose
 * credentials come from the credentials file can be rotated; one that the AWS config decides
 * (a role, SSO, keys kept in the config) is 'other', so the engine can say why it is not.
 */
export function createCredentialsFile(store: CredentialsStore, path: string): CredentialsFile {
  // The snapshot behind each view this adapter made, for the store to use again (see CredentialsFile).
  const snapshots = new WeakMap<FileView, CredentialsSnapshot>();
  const snapshotOf = (view: FileView | undefined) => (view === undefined ? undefined : snapshots.get(view));
  return {
    path,
    async read(): Promise<FileView> {
      const snapshot = await store.read();
      const view: FileView = {
        profiles: snapshot.profiles.map((profile): FileProfile => (profile.source === 'credentials' ? profile : { name: profile.name, kind: 'other' })),
        holdersOf: (accessKeyId) => snapshot.keyHolders.get(accessKeyId) ?? [],
      };
      snapshots.set(view, snapshot);
      return view;
    },
    async replaceKey(oldKeyId, next, from) {
      const result = await store.replaceKey(oldKeyId, { accessKeyId: next.accessKeyId, secretAccessKey: next.secretAccessKey }, snapshotOf(from));
      const profiles: KeyHolder[] = [
        ...result.changed.map((profile) => ({ file: 'credentials' as const, profile })),
        ...result.changedInConfig.map((profile) => ({ file: 'config' as const, profile })),
      ];
      return { profiles };
    },
    checkCanReplace: (oldKeyId, from) => store.checkCanReplace(oldKeyId, snapshotOf(from)),
  };
}
