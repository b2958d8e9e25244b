import { join } from 'node:path';
import { KeyupError } from '../errors.js';
import { writeFileAtomically } from '../fs/atomic-write.js';
import { ensurePrivateDir, getErrorCode, readText, syncFolder, syncHandle, type FileSystem } from '../fs/fs.js';

/**
 * How far a rotation got. Each step is recorded, durably, before the action that follows it:
 * - `creating`: CreateAccessKey may be in flight; IAM may hold a key whose secret we never saw.
 * - `created`: the new key and its secret are on disk; nothing else knows them yet.
 * - `verified`: STS accepted the new key as the same user.
 * - `written`: the credentials file holds the new key; the old key may still be active.
 */
export type JournalStep = 'creating' | 'created' | 'verified' | 'written';

export interface JournalUser {
  readonly name: string;
  readonly arn: string;
  readonly account: string;
}

export interface JournalEntry {
  readonly version: 1;
  readonly profile: string;
  readonly step: JournalStep;
  /** When the rotation began; a key newer than this that keyup cannot name is one it made. */
  readonly startedAt: string;
  readonly force: boolean;
  readonly user: JournalUser;
  readonly manageWith?: string;
  /** What becomes of the old key, fixed when the rotation began so a resumed one does the same. */
  readonly oldKey: 'delete' | 'deactivate';
  readonly oldKeyId: string;
  readonly newKey?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly createDate: string;
  };
}

const STEPS: readonly JournalStep[] = ['creating', 'created', 'verified', 'written'];

function isJournalEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<JournalEntry>;
  return (
    entry.version === 1 &&
    typeof entry.profile === 'string' &&
    STEPS.includes(entry.step as JournalStep) &&
    typeof entry.startedAt === 'string' &&
    typeof entry.oldKeyId === 'string' &&
    typeof entry.user?.name === 'string' &&
    (entry.step === 'creating' || typeof entry.newKey?.secretAccessKey === 'string')
  );
}

/**
 * One small file per profile in `<state>/journal/`, 0600, replaced atomically: the only place a
 * new secret is kept before the credentials file has it.
 */
export class Journal {
  private readonly fs: FileSystem;
  private readonly stateDir: string;
  readonly dir: string;
  private dirIsDurable = false;

  constructor({ fs, stateDir }: { fs: FileSystem; stateDir: string }) {
    this.fs = fs;
    this.stateDir = stateDir;
    this.dir = join(stateDir, 'journal');
  }

  pathOf(profile: string): string {
    // Profile names may hold spaces, slashes and unicode; the file name must not.
    return join(this.dir, `${encodeURIComponent(profile)}.json`);
  }

  async write(entry: JournalEntry): Promise<void> {
    if (!this.dirIsDurable) {
      await ensurePrivateDir(this.fs, this.dir);
      // A folder made a moment ago is lost in a power cut until its parent is flushed too.
      await syncFolder(this.fs, this.stateDir);
      this.dirIsDurable = true;
    }
    await writeFileAtomically({ fs: this.fs, file: this.pathOf(entry.profile), data: `${JSON.stringify(entry)}\n` });
  }

  async read(profile: string): Promise<JournalEntry | undefined> {
    const path = this.pathOf(profile);
    let text: string;
    try {
      text = await readText(this.fs, path);
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!isJournalEntry(value) || value.profile !== profile) {
      // Never delete it: it may hold the only copy of a new key's secret.
      throw new KeyupError(`The rotation journal ${path} is not one keyup can read, so the rotation of profile ${profile} cannot be finished.`, {
        hint: 'Look inside it for a new key (it may hold its secret), put that key in the credentials file by hand if it is needed, then delete the file.',
      });
    }
    return value;
  }

  /** Every profile with an unfinished rotation. */
  async listProfiles(): Promise<string[]> {
    let names: readonly unknown[];
    try {
      names = await this.fs.promises.readdir(this.dir);
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((name): name is string => typeof name === 'string' && name.endsWith('.json') && !name.startsWith('.')).map((name) => decodeURIComponent(name.slice(0, -'.json'.length)));
  }

  /**
   * Ends a rotation's journal. The file is overwritten with zeros before it is unlinked, so the
   * secret does not linger in its blocks (on file systems that write in place).
   */
  async remove(profile: string): Promise<void> {
    const path = this.pathOf(profile);
    let handle;
    try {
      handle = await this.fs.promises.open(path, 'r+');
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return;
      throw error;
    }
    try {
      const size = Number((await handle.stat()).size);
      await handle.write(new Uint8Array(size), 0, size, 0);
      await syncHandle(handle);
    } finally {
      await handle.close();
    }
    await this.fs.promises.unlink(path);
    await syncFolder(this.fs, this.dir);
  }
}
