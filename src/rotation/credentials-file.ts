import type { AwsCredentials } from '../aws/key-api.js';
import type { KeyHolder } from '../engine/outcome.js';

export type { KeyHolder } from '../engine/outcome.js';

/** A profile of the credentials file, as far as rotation cares. */
export type FileProfile =
  | {
      readonly name: string;
      readonly kind: 'long-term';
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      /** `mfa_serial` of the profile in the AWS config file: its key changes keys only with MFA. */
      readonly mfaSerial?: string;
    }
  | {
      readonly name: string;
      readonly kind: 'temporary';
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly sessionToken: string;
      readonly expiresAt?: Date;
    }
  | { readonly name: string; readonly kind: 'other' };

/** The two AWS files as they were at one moment. */
export interface FileView {
  readonly profiles: readonly FileProfile[];
  /** Every profile, of either file, that holds this long-term key id: the places a rotation changes. */
  holdersOf(accessKeyId: string): readonly KeyHolder[];
}

/** Where the new key went. */
export interface ReplacedKey {
  readonly profiles: readonly KeyHolder[];
}

/**
 * The credentials file as the rotation engine uses it; `read` reads afresh on every call. The
 * other two may be given a view `read` made a moment ago (`from`): the files it was read from
 * are then used as they were read instead of being read and parsed once more, which is safe
 * because replaceKey renames nothing over a file that is no longer byte for byte what was read.
 */
export interface CredentialsFile {
  readonly path: string;
  read(): Promise<FileView>;
  /**
   * Puts `next` in place of `oldKeyId` in every profile that holds it, in the credentials file and
   * the AWS config file, atomically per file and changing nothing else. Returns the profiles
   * changed; none when no profile holds the old key.
   */
  replaceKey(oldKeyId: string, next: AwsCredentials, from?: FileView): Promise<ReplacedKey>;
  /**
   * Proves, changing nothing, that replaceKey could write every file that holds `oldKeyId` now
   * (the folder takes new files, the disk has room, the file is not mounted over). Called before
   * CreateAccessKey, so that keyup never makes a key it cannot put in place.
   */
  checkCanReplace(oldKeyId: string, from?: FileView): Promise<void>;
}
