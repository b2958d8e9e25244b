import type { CredentialsStore } from '../credentials/index.js';
import type { CredentialsFile, FileProfile } from './credentials-file.js';

/**
 * The credentials store as the rotation engine sees it: only the credentials file's profiles,
 * which are the ones keyup rotates and whose sessions defer a rotation (SPEC).
 */
export function createCredentialsFile(store: CredentialsStore, path: string): CredentialsFile {
  return {
    path,
    async readProfiles() {
      const snapshot = await store.read();
      return snapshot.profiles.filter((profile) => profile.source === 'credentials').map((profile): FileProfile => {
        // The store keeps secrets non-enumerable, so they are copied by name, never spread.
        switch (profile.kind) {
          case 'long-term':
            return { name: profile.name, kind: 'long-term', accessKeyId: profile.accessKeyId, secretAccessKey: profile.secretAccessKey };
          case 'temporary':
            return {
              name: profile.name,
              kind: 'temporary',
              accessKeyId: profile.accessKeyId,
              secretAccessKey: profile.secretAccessKey,
              sessionToken: profile.sessionToken,
              ...(profile.expiresAt === undefined ? {} : { expiresAt: profile.expiresAt }),
            };
          case 'other':
            return { name: profile.name, kind: 'other' };
        }
      });
    },
    async replaceKey(oldKeyId, next) {
      return (await store.replaceKey(oldKeyId, { accessKeyId: next.accessKeyId, secretAccessKey: next.secretAccessKey })).changed;
    },
  };
}
