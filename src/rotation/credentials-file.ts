import type { AwsCredentials } from '../aws/key-api.js';

/** A profile of the credentials file, as far as rotation cares. */
export type FileProfile =
  | { readonly name: string; readonly kind: 'long-term'; readonly accessKeyId: string; readonly secretAccessKey: string }
  | {
      readonly name: string;
      readonly kind: 'temporary';
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly sessionToken: string;
      readonly expiresAt?: Date;
    }
  | { readonly name: string; readonly kind: 'other' };

/** The credentials file as the rotation engine uses it; read afresh on every call. */
export interface CredentialsFile {
  readonly path: string;
  readProfiles(): Promise<readonly FileProfile[]>;
  /**
   * Puts `next` in place of `oldKeyId` in every profile that holds it, atomically and changing
   * nothing else. Returns the profiles changed; none when no profile holds the old key.
   */
  replaceKey(oldKeyId: string, next: AwsCredentials): Promise<readonly string[]>;
}
