import { join } from 'node:path';
import { KeyupError } from '../errors.js';
import type { KeyupPaths } from '../paths.js';
import { FolderSyncError, writeFileAtomically } from '../fs/atomic-write.js';
import { saveBackup } from './backups.js';
import { BOM, decodeUtf8 } from './decode.js';
import { replaceAccessKey } from './edit.js';
import type { AccessKey } from './edit.js';
import {
  createBackupError,
  createEmptyFileError,
  createFlushError,
  createMissingFileError,
  createNotAFileError,
  createReadError,
  createWriteError,
} from './file-errors.js';
import type { AwsFile } from './file-errors.js';
import { stripSpace } from './lines.js';
import { parseIni } from './parse.js';
import type { IniDocument } from './parse.js';
import { listProfiles } from './profiles.js';
import type { Profile } from './profiles.js';
import { getErrorCode, toBytes, toText } from '../fs/fs.js';
import type { FileSystem } from '../fs/fs.js';

export interface Clock {
  now(): Date;
}

export interface CredentialsStoreInit {
  /** `node:fs` in the daemon, memfs's `fs` in tests; only `fs.promises` is used. */
  fs: FileSystem;
  /**
   * From `resolvePaths()`: `credentialsFile` (`$AWS_SHARED_CREDENTIALS_FILE`, else
   * `~/.aws/credentials`), `awsConfigFile` (`$AWS_CONFIG_FILE`, else `~/.aws/config`) and
   * `stateDir` (`$XDG_STATE_HOME/keyup`), whose `backups/` folder holds the backups.
   */
  paths: Pick<KeyupPaths, 'credentialsFile' | 'awsConfigFile' | 'stateDir'>;
  /** The config's `backup`: save a copy of the file before each rewrite. Default `true`. */
  backup?: boolean;
  /** The config's `backup_keep`: how many copies to keep; 0 keeps every one. Default `10`. */
  backupKeep?: number;
  /** Names backups and ages leftover temp files. Default: the system clock. */
  clock?: Clock;
  /** How often to re-read and re-apply when the file keeps changing under a rewrite. Default `5`. */
  maxAttempts?: number;
}

/** What the credentials and config files say, read fresh from disk. */
export interface CredentialsSnapshot {
  readonly credentialsFile: string;
  readonly configFile: string;
  /**
   * The credentials file starts with a UTF-8 byte-order mark. keyup reads it and keeps it, as the
   * AWS SDKs do, but the AWS CLI (botocore) cannot read such a file: worth a warning.
   */
  readonly bom: boolean;
  /** Every profile of both files, credentials-file profiles first, in file order. */
  readonly profiles: readonly Profile[];
}

export interface ReplaceKeyResult {
  /** The profiles that now hold the new key, in file order; empty when none held the old key (nothing was written). */
  readonly changed: readonly string[];
  /** The copy saved before the rewrite, when backups are on and the file was rewritten. */
  readonly backupFile?: string;
}

interface LoadedCredentials {
  /** The real file, at the end of any chain of links. */
  readonly target: string;
  readonly bytes: Uint8Array;
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly document: IniDocument;
}

const systemClock: Clock = { now: () => new Date() };

/**
 * The only code that touches the AWS credentials and config files. Every call reads the files
 * afresh (never a cached copy), so a change the user made a moment ago is always seen.
 */
export class CredentialsStore {
  readonly #fs: FileSystem;
  readonly #paths: CredentialsStoreInit['paths'];
  readonly #backup: boolean;
  readonly #backupKeep: number;
  readonly #clock: Clock;
  readonly #maxAttempts: number;

  constructor({ fs, paths, backup = true, backupKeep = 10, clock = systemClock, maxAttempts = 5 }: CredentialsStoreInit) {
    this.#fs = fs;
    this.#paths = paths;
    this.#backup = backup;
    this.#backupKeep = backupKeep;
    this.#clock = clock;
    this.#maxAttempts = Math.max(1, maxAttempts);
  }

  /**
   * Reads and classifies every profile of the credentials and config files. A missing or empty
   * config file has no profiles; the credentials file must exist and hold something.
   *
   * @throws KeyupError when the credentials file is missing, empty or unreadable, or either file
   * is unreadable; FileFormatError (file and line) when either cannot be parsed completely.
   */
  async read(): Promise<CredentialsSnapshot> {
    const credentials = await this.#loadCredentials();
    const config = await this.#loadConfig();
    return {
      credentialsFile: this.#paths.credentialsFile,
      configFile: this.#paths.awsConfigFile,
      bom: credentials.document.bom,
      profiles: listProfiles(credentials.document, config),
    };
  }

  /**
   * Puts `next` in place of the key `oldKeyId` in every profile of the credentials file that holds
   * it (not temporary ones), changing only those two values per profile; every other byte stays.
   * The rewrite is atomic, keeps the file's mode (tightened to at most 0600), writes through links
   * to the real file, and is preceded by a backup when those are on. If the file changes while it
   * is being rewritten (the user saves it, `aws configure` runs), it is read again and the key
   * applied to the new content instead, up to `maxAttempts` times. Idempotent: once the old key is
   * gone it changes nothing. The AWS config file is never written.
   *
   * @throws KeyupError (the file is as it was) when it cannot be read, parsed, backed up or written,
   * or keeps changing; FileFormatError (file and line) when it cannot be parsed completely.
   */
  async replaceKey(oldKeyId: string, next: AccessKey): Promise<ReplaceKeyResult> {
    for (let attempt = 0; attempt < this.#maxAttempts; attempt += 1) {
      const loaded = await this.#loadCredentials();
      const edit = replaceAccessKey(loaded.document, oldKeyId, next);
      if (edit.changed.length === 0) return { changed: [] };
      const backupFile = this.#backup ? await this.#saveBackup(loaded.bytes) : undefined;
      let written: boolean;
      try {
        written = await writeFileAtomically({
          fs: this.#fs,
          file: loaded.target,
          data: Buffer.from(edit.text, 'utf8'),
          // Keep the owner's bits, but never let group or others read a file of secrets.
          mode: loaded.mode & 0o600,
          isStillCurrent: () => this.#isUnchanged(loaded),
          now: this.#clock.now(),
        });
      } catch (error) {
        throw error instanceof FolderSyncError ? createFlushError(this.#paths.credentialsFile, error) : createWriteError(this.#paths.credentialsFile, error);
      }
      if (written) return backupFile === undefined ? { changed: edit.changed } : { changed: edit.changed, backupFile };
    }
    throw new KeyupError(`The AWS credentials file ${this.#paths.credentialsFile} kept changing while keyup was rewriting it, so keyup left it as it was.`, {
      hint: 'Try again once nothing else is writing to it.',
    });
  }

  async #loadCredentials(): Promise<LoadedCredentials> {
    const file = this.#paths.credentialsFile;
    const target = await this.#resolveLinks('credentials', file);
    if (target === undefined) throw createMissingFileError('credentials', file, await this.#isLink(file));
    let bytes: Uint8Array;
    let stats: { mode: number; size: number; mtimeMs: number };
    try {
      const found = await this.#fs.promises.stat(target);
      if (!found.isFile()) throw createNotAFileError('credentials', file);
      stats = { mode: Number(found.mode) & 0o7777, size: Number(found.size), mtimeMs: Number(found.mtimeMs) };
      bytes = toBytes(await this.#fs.promises.readFile(target));
    } catch (error) {
      if (error instanceof KeyupError) throw error;
      if (getErrorCode(error) === 'ENOENT') throw createMissingFileError('credentials', file, false);
      throw createReadError('credentials', file, error);
    }
    const text = decodeUtf8(bytes, file);
    if (stripSpace(text.startsWith(BOM) ? text.slice(BOM.length) : text) === '') throw createEmptyFileError('credentials', file);
    return { target, bytes, ...stats, document: parseIni(text, file) };
  }

  async #loadConfig(): Promise<IniDocument | undefined> {
    const file = this.#paths.awsConfigFile;
    const target = await this.#resolveLinks('config', file);
    // Most people have no config file, and the AWS CLI does without one.
    if (target === undefined) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = toBytes(await this.#fs.promises.readFile(target));
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return undefined;
      throw createReadError('config', file, error);
    }
    return parseIni(decodeUtf8(bytes, file), file);
  }

  /** The real path at the end of the link chain, or undefined when there is no file there. */
  async #resolveLinks(kind: AwsFile, file: string): Promise<string | undefined> {
    try {
      return toText(await this.#fs.promises.realpath(file));
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return undefined;
      throw createReadError(kind, file, error);
    }
  }

  async #isLink(file: string): Promise<boolean> {
    try {
      return (await this.#fs.promises.lstat(file)).isSymbolicLink();
    } catch {
      return false;
    }
  }

  /** Whether the file is still exactly what was read: same target, size, time, mode and bytes. */
  async #isUnchanged(loaded: LoadedCredentials): Promise<boolean> {
    try {
      const target = toText(await this.#fs.promises.realpath(this.#paths.credentialsFile));
      const stats = await this.#fs.promises.stat(target);
      if (target !== loaded.target || Number(stats.size) !== loaded.size || Number(stats.mtimeMs) !== loaded.mtimeMs) return false;
      if ((Number(stats.mode) & 0o7777) !== loaded.mode) return false;
      return Buffer.compare(toBytes(await this.#fs.promises.readFile(target)), loaded.bytes) === 0;
    } catch {
      // Gone or unreadable now: the next attempt reads it again and reports what is wrong.
      return false;
    }
  }

  async #saveBackup(bytes: Uint8Array): Promise<string> {
    const folder = join(this.#paths.stateDir, 'backups');
    try {
      return await saveBackup({ fs: this.#fs, folder, bytes, now: this.#clock.now(), keep: this.#backupKeep });
    } catch (error) {
      throw createBackupError(folder, error);
    }
  }
}
