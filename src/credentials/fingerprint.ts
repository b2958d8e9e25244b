import { createHash } from 'node:crypto';
import type { IniDocument } from './parse.js';
import { CLASSIFYING_KEYS } from './profiles.js';

/**
 * What matters to keyup in one AWS file, as a hash: each section's name and the values of the
 * keys that classify its profile (key id, session token and expiry, role, SSO, MFA device), in
 * file order. Two versions of a file with the same fingerprint mean the same to keyup. The
 * secret is left out, and the token only goes into the hash, which keeps no trace of it.
 */
export function fingerprintAwsFile(document: IniDocument): string {
  const hash = createHash('sha256');
  for (const section of document.sections) {
    hash.update(`[${section.name}]\n`);
    for (const key of CLASSIFYING_KEYS) {
      const entry = section.entries.get(key);
      if (entry !== undefined) hash.update(`${key}=${entry.value.trim()}\n`);
    }
  }
  return hash.digest('hex');
}

/** Both AWS files' fingerprints; `config` is null when there is no config file. */
export interface AwsFileFingerprints {
  readonly credentials: string;
  readonly config: string | null;
}
