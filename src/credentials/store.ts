import { join } from 'node:path';
import { KeyupError } from '../errors.js';
import type { KeyupPaths } from '../paths.js';
import { checkCanReplace, FolderSyncError, writeFileAtomically } from '../fs/atomic-write.js';
import { saveBackup } from './backups.js';
import { BOM, decodeUtf8 } from './decode.js';
import { findKeyHolders, replaceAccessKey } from './edit.js';
import type { AccessKey } from './edit.js';
import {
  createBackupError,
  createEmptyFileError,
  createFlushError,
  createMissingFileError,
  createReadError,
  createWriteError,
} from './file-errors.js';
import type { AwsFile } from './file-errors.js';
import { fingerprintAwsFile, type AwsFileFingerprints } from './fingerprint.js';
import { stripSpace } from './lines.js';
import { parseIni } from './parse.js';
import type { IniDocument } from './parse.js';
import { listProfiles, toConfigProfileName } from './profiles.js';
import type { Profile } from './profiles.js';
import { getErrorCode, toBytes, toText } from '../fs/fs.js';
import { readBoundedFileWithStats } from '../fs/read-file.js';
import type { FileOwner, FileSystem } from '../fs/fs.js';

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
  /**
   * Told after each rewrite, with the fingerprint of what was written (see fingerprintAwsFile):
   * how the daemon tells keyup's own writes from anybody else's.
   */
  onWritten?: (file: AwsFile, fingerprint: string) => void;
}

/** A profile that holds a long-term key in one of the two files: a place a rotation must change. */
export interface KeyHolder {
  readonly file: AwsFile;
  readonly profile: string;
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
  /** For each long-term key id, every profile of either file that holds it (what replaceKey changes). */
  readonly keyHolders: ReadonlyMap<string, readonly KeyHolder[]>;
}

export interface ReplaceKeyResult {
  /** The credentials-file profiles that now hold the new key, in file order; empty when none held the old key. */
  readonly changed: readonly string[];
  /** The AWS config file's profiles that now hold the new key (a key kept there is rotated too). */
  readonly changedInConfig: readonly string[];
  /** The copy of the credentials file saved before its rewrite, when backups are on and it was rewritten. */
  readonly backupFile?: string;
}

interface LoadedFile {
  readonly kind: AwsFile;
  /** The path as configured, for messages. */
  readonly file: string;
  /** The real file, at the end of any chain of links. */
  readonly target: string;
  readonly bytes: Uint8Array;
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Kept by every rewrite: root rewriting a person's file must leave it theirs. */
  readonly owner: FileOwner;
  readonly document: IniDocument;
}

const systemClock: Clock = { now: () => new Date() };

/**
 * What a snapshot was read from, kept out of the snapshot itself (its bytes hold every secret of
 * the files, and a snapshot is passed around and may be logged by mistake). A rotation reads the
 * files under its lock once and hands the snapshot back to checkCanReplace and replaceKey, which
 * then need not read and parse them again.
 */
const sources = new WeakMap<CredentialsSnapshot, { readonly store: CredentialsStore; readonly credentials: LoadedFile; readonly config: LoadedFile | undefined }>();

/** Far beyond any real file (1,000 profiles are about 150 KiB), and still a bounded read. */
const MAX_AWS_FILE_BYTES = 16 * 1024 * 1024;

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
  readonly #onWritten: CredentialsStoreInit['onWritten'];
  /** Files whose folder this store has looked in for leftover temp files already: once is enough for a run. */
  readonly #swept = new Set<string>();

  constructor({ fs, paths, backup = true, backupKeep = 10, clock = systemClock, maxAttempts = 5, onWritten }: CredentialsStoreInit) {
    this.#onWritten = onWritten;
    this.#fs = fs;
    this.#paths = paths;
    this.#backup = backup;
    this.#backupKeep = backupKeep;
    this.#clock = clock;
    this.#maxAttempts = Math.max(1, maxAttempts);
  }

  /**
   * The fingerprint of each AWS file as it is now (see fingerprintAwsFile), read as {@link read}
   * reads them and failing as it fails, without classifying a profile.
   */
  async fingerprints(): Promise<AwsFileFingerprints> {
    const credentials = await this.#loadCredentials();
    const config = await this.#loadConfig();
    return { credentials: fingerprintAwsFile(credentials.document), config: config === undefined ? null : fingerprintAwsFile(config.document) };
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
    const snapshot: CredentialsSnapshot = {
      credentialsFile: this.#paths.credentialsFile,
      configFile: this.#paths.awsConfigFile,
      bom: credentials.document.bom,
      profiles: listProfiles(credentials.document, config?.document),
      keyHolders: collectKeyHolders(credentials.document, config?.document),
    };
    sources.set(snapshot, { store: this, credentials, config });
    return snapshot;
  }

  /**
   * Puts `next` in place of the key `oldKeyId` in every profile that holds it (not temporary
   * ones): first in the credentials file, then in the AWS config file (where `aws_access_key_id`
   * is valid too), changing only those two values per profile; every other byte stays. Each
   * rewrite is atomic, keeps the file's owner and mode (tightened to at most 0600), writes through
   * links to the real file, and is preceded by a backup of the credentials file when those are on.
   * If a file changes while it is being rewritten (the user saves it, `aws configure` runs), it is
   * read again and the key applied to the new content instead, up to `maxAttempts` times.
   * Idempotent: once the old key is gone it changes nothing.
   *
   * `from`, a snapshot this store read a moment ago, spares reading each file it holds once more:
   * its content is edited, and the last look before the rename (the file still exactly what was
   * read, byte for byte) makes that as safe as a fresh read; a file changed since is read again.
   *
   * @throws KeyupError (the file being written is as it was) when a file cannot be read, parsed,
   * backed up or written, or keeps changing; FileFormatError (file and line) when one cannot be
   * parsed completely.
   */
  async replaceKey(oldKeyId: string, next: AccessKey, from?: CredentialsSnapshot): Promise<ReplaceKeyResult> {
    const source = this.#sourceOf(from);
    const credentials = await this.#rewrite('credentials', oldKeyId, next, source?.credentials);
    const config = await this.#rewrite('config', oldKeyId, next, source?.config);
    return {
      changed: credentials.changed,
      changedInConfig: config.changed.map(toConfigProfileName),
      ...(credentials.backupFile === undefined ? {} : { backupFile: credentials.backupFile }),
    };
  }

  /**
   * Proves, changing nothing, that replaceKey could rewrite every file that holds `oldKeyId` now:
   * its folder takes a new file as large as the rewrite, the disk has room, the owner can be kept,
   * and the file is not mounted over (a bind mount refuses the rename). Backups go to keyup's own
   * state folder, whose journal is written before anything changes anyway.
   *
   * `from`, a snapshot this store read a moment ago, is the files as they are now: they are not
   * read again.
   *
   * @throws KeyupError (code `credentials-file`) saying which file and why.
   */
  async checkCanReplace(oldKeyId: string, from?: CredentialsSnapshot): Promise<void> {
    const source = this.#sourceOf(from);
    const files = source === undefined ? [await this.#loadCredentials(), await this.#loadConfig()] : [source.credentials, source.config];
    for (const loaded of files) {
      if (loaded === undefined || !findKeyHolders(loaded.document).has(oldKeyId)) continue;
      try {
        // A longer key id and secret than today's make the file at most this much larger.
        await checkCanReplace({ fs: this.#fs, file: loaded.target, size: loaded.size + 512, owner: loaded.owner });
      } catch (error) {
        throw createWriteError(loaded.kind, loaded.file, error);
      }
    }
  }

  /** The files behind a snapshot this store made; undefined for any other (then the files are read). */
  #sourceOf(snapshot: CredentialsSnapshot | undefined): { credentials: LoadedFile; config: LoadedFile | undefined } | undefined {
    const source = snapshot === undefined ? undefined : sources.get(snapshot);
    return source?.store === this ? source : undefined;
  }

  async #rewrite(kind: AwsFile, oldKeyId: string, next: AccessKey, known: LoadedFile | undefined): Promise<{ changed: readonly string[]; backupFile?: string }> {
    // One rewrite of a file at a time in this process: between the last look (isStillCurrent)
    // and the rename, another rotation of this process could rename its own version in, which
    // this rename would then undo. Other processes are what isStillCurrent is for.
    return serialize(kind === 'credentials' ? this.#paths.credentialsFile : this.#paths.awsConfigFile, () => this.#rewriteNow(kind, oldKeyId, next, known));
  }

  async #rewriteNow(kind: AwsFile, oldKeyId: string, next: AccessKey, known: LoadedFile | undefined): Promise<{ changed: readonly string[]; backupFile?: string }> {
    for (let attempt = 0; attempt < this.#maxAttempts; attempt += 1) {
      // A file known from a snapshot is tried first; isStillCurrent below proves it is still the file.
      const loaded = attempt === 0 && known !== undefined ? known : kind === 'credentials' ? await this.#loadCredentials() : await this.#loadConfig();
      if (loaded === undefined) return { changed: [] };
      const edit = replaceAccessKey(loaded.document, oldKeyId, next);
      if (edit.changed.length === 0) return { changed: [] };
      // The config file's backups would need names of their own; the file holds a key only in the
      // rare setups that keep one there, and the credentials file's backup is what people restore.
      const backupFile = this.#backup && loaded.kind === 'credentials' ? await this.#saveBackup(loaded.bytes, loaded.owner) : undefined;
      let written: boolean;
      try {
        written = await writeFileAtomically({
          fs: this.#fs,
          file: loaded.target,
          data: Buffer.from(edit.text, 'utf8'),
          // Keep the owner's bits, but never let group or others read a file of secrets.
          mode: loaded.mode & 0o600,
          owner: loaded.owner,
          isStillCurrent: () => this.#isUnchanged(loaded),
          now: this.#clock.now(),
          removeLeftovers: !this.#swept.has(loaded.target),
        });
        this.#swept.add(loaded.target);
      } catch (error) {
        throw error instanceof FolderSyncError ? createFlushError(loaded.kind, loaded.file, error) : createWriteError(loaded.kind, loaded.file, error);
      }
      if (!written) continue;
      this.#onWritten?.(kind, fingerprintAwsFile(parseIni(edit.text, loaded.file)));
      return backupFile === undefined ? { changed: edit.changed } : { changed: edit.changed, backupFile };
    }
    const file = kind === 'credentials' ? `AWS credentials file ${this.#paths.credentialsFile}` : `AWS config file ${this.#paths.awsConfigFile}`;
    throw new KeyupError(`The ${file} kept changing while keyup was rewriting it, so keyup left it as it was.`, {
      code: 'credentials-file',
      hint: 'Try again once nothing else is writing to it.',
    });
  }

  async #loadCredentials(): Promise<LoadedFile> {
    const file = this.#paths.credentialsFile;
    const loaded = await this.#load('credentials', file);
    if (loaded === undefined) throw createMissingFileError('credentials', file, await this.#isLink(file));
    const text = loaded.document.text;
    if (stripSpace(text.startsWith(BOM) ? text.slice(BOM.length) : text) === '') throw createEmptyFileError('credentials', file);
    return loaded;
  }

  /** Most people have no config file, and the AWS CLI does without one. */
  async #loadConfig(): Promise<LoadedFile | undefined> {
    return this.#load('config', this.#paths.awsConfigFile);
  }

  /** Reads and parses one file; undefined when there is none. */
  async #load(kind: AwsFile, file: string): Promise<LoadedFile | undefined> {
    const target = await this.#resolveLinks(kind, file);
    if (target === undefined) return undefined;
    let bytes: Uint8Array;
    let stats: { mode: number; size: number; mtimeMs: number; owner: FileOwner };
    try {
      // What the open file's fstat says (a path that is not a regular file is refused there).
      const read = await readBoundedFileWithStats(this.#fs, target, { maxBytes: MAX_AWS_FILE_BYTES });
      const found = read.stats;
      stats = { mode: Number(found.mode) & 0o7777, size: Number(found.size), mtimeMs: Number(found.mtimeMs), owner: { uid: Number(found.uid), gid: Number(found.gid) } };
      bytes = read.bytes;
    } catch (error) {
      if (error instanceof KeyupError) throw error;
      if (getErrorCode(error) === 'ENOENT') return undefined;
      throw createReadError(kind, file, error);
    }
    return { kind, file, target, bytes, ...stats, document: parseIni(decodeUtf8(bytes, file), file) };
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
  async #isUnchanged(loaded: LoadedFile): Promise<boolean> {
    try {
      const target = toText(await this.#fs.promises.realpath(loaded.file));
      const stats = await this.#fs.promises.stat(target);
      if (target !== loaded.target || Number(stats.size) !== loaded.size || Number(stats.mtimeMs) !== loaded.mtimeMs) return false;
      if ((Number(stats.mode) & 0o7777) !== loaded.mode) return false;
      // A chown between the read and the write would otherwise be undone by the rewrite.
      if (Number(stats.uid) !== loaded.owner.uid || Number(stats.gid) !== loaded.owner.gid) return false;
      return Buffer.compare(toBytes(await this.#fs.promises.readFile(target)), loaded.bytes) === 0;
    } catch {
      // Gone or unreadable now: the next attempt reads it again and reports what is wrong.
      return false;
    }
  }

  async #saveBackup(bytes: Uint8Array, owner: FileOwner): Promise<string> {
    const folder = join(this.#paths.stateDir, 'backups');
    try {
      return await saveBackup({ fs: this.#fs, folder, bytes, now: this.#clock.now(), keep: this.#backupKeep, owner });
    } catch (error) {
      throw createBackupError(folder, error);
    }
  }
}

/** The rewrite in progress (or last) of each file path in this process; every store shares it. */
const rewrites = new Map<string, Promise<unknown>>();

/** Runs `work` after every earlier `work` for `path` in this process has settled. */
async function serialize<T>(path: string, work: () => Promise<T>): Promise<T> {
  const before = rewrites.get(path) ?? Promise.resolve();
  const mine = before.then(work, work);
  const settled = mine.catch(() => undefined);
  rewrites.set(path, settled);
  try {
    return await mine;
  } finally {
    if (rewrites.get(path) === settled) rewrites.delete(path);
  }
}

/** Key id → the profiles of both files that hold it, credentials file first. */
function collectKeyHolders(credentials: IniDocument, config: IniDocument | undefined): Map<string, KeyHolder[]> {
  const holders = new Map<string, KeyHolder[]>();
  const add = (file: AwsFile, found: Map<string, string[]>, name: (section: string) => string) => {
    for (const [keyId, sections] of found) holders.set(keyId, [...(holders.get(keyId) ?? []), ...sections.map((section) => ({ file, profile: name(section) }))]);
  };
  add('credentials', findKeyHolders(credentials), (section) => section);
  if (config !== undefined) add('config', findKeyHolders(config), toConfigProfileName);
  return holders;
}
