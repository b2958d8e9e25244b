import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isProcessAlive } from '../fs/atomic-write.js';
import { describeFsError } from '../fs/describe-fs-error.js';
import { ensurePrivateDir, getErrorCode, readText, toBytes, writeNewFile, type FileSystem } from '../fs/fs.js';
import { KeyupError } from '../errors.js';
import { isKeyId } from '../present/key-id.js';

/** What a lock file says about its holder. */
export interface LockOwner {
  readonly pid: number;
  /** Random, per acquisition: the holder's proof. Only the holder knows it was the one to write it. */
  readonly token: string;
  readonly profile: string;
  readonly since: string;
  /** The kernel's start time of the holding process (Linux), which a reused pid does not have. */
  readonly processStart?: string;
}

export interface KeyLocksInit {
  fs: FileSystem;
  stateDir: string;
  pid?: number;
  now?: () => Date;
  /** Whether a process still runs. Default: signal 0. */
  isAlive?: (pid: number) => boolean;
  /** The start time of a running process, where the system tells (Linux: /proc/PID/stat). */
  readProcessStart?: (pid: number) => Promise<string | undefined>;
  /**
   * Without a start time to compare (not Linux), a lock older than this is stale even if its pid
   * runs again: pids are reused after a crash. Every step under the lock is bounded well below it.
   */
  staleAfterMs?: number;
}

export interface HeldLock {
  release(): Promise<void>;
}

export type LockResult = { readonly held: HeldLock } | { readonly busy: { readonly pid: number; readonly profile: string; readonly since: string } };

/** Tokens of the locks this process holds now, whatever KeyLocks took them. */
const heldHere = new Set<string>();

/**
 * Cross-process locks, one per access key being rotated, in `<state>/locks/`. Per key and not
 * per profile: two profiles may hold the same key, and rotating it twice at once would make two
 * new keys for one user. Another keyup process (cron's `keyupd --once` beside the daemon) that
 * wants the same key finds it held and reports the profile busy; a different key is free.
 *
 * A lock is a file made with O_EXCL holding the holder's pid, a random token and, on Linux, the
 * holder's start time. It is stale when its pid no longer runs, or runs but started at another
 * time (a reused pid), or — where start times are unknown — is older than `staleAfterMs`; a stale
 * lock is taken over, so a kill -9 never blocks the next rotation. Only the token's owner
 * releases it.
 */
export class KeyLocks {
  private readonly fs: FileSystem;
  readonly dir: string;
  private readonly pid: number;
  private readonly now: () => Date;
  private readonly isAlive: (pid: number) => boolean;
  private readonly readProcessStart: (pid: number) => Promise<string | undefined>;
  private readonly staleAfterMs: number;

  constructor({ fs, stateDir, pid = process.pid, now = () => new Date(), isAlive = isProcessAlive, readProcessStart = readLinuxProcessStart, staleAfterMs = 30 * 60_000 }: KeyLocksInit) {
    this.fs = fs;
    this.dir = join(stateDir, 'locks');
    this.pid = pid;
    this.now = now;
    this.isAlive = isAlive;
    this.readProcessStart = readProcessStart;
    this.staleAfterMs = staleAfterMs;
  }

  pathOf(keyId: string): string {
    const name = isKeyId(keyId) ? keyId : `~${createHash('sha256').update(keyId).digest('hex').slice(0, 40)}`;
    return join(this.dir, `${name}.lock`);
  }

  /** Takes the lock of `keyId` for `profile`, or says who holds it. Never waits. */
  async acquire(keyId: string, profile: string): Promise<LockResult> {
    const path = this.pathOf(keyId);
    const processStart = await this.readProcessStart(this.pid);
    const owner: LockOwner = { pid: this.pid, token: randomBytes(16).toString('hex'), profile, since: this.now().toISOString(), ...(processStart === undefined ? {} : { processStart }) };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.createLockFile(path, toBytes(JSON.stringify(owner)));
        heldHere.add(owner.token);
        return { held: { release: () => this.release(path, owner.token) } };
      } catch (error) {
        if (error instanceof KeyupError) throw error;
        if (getErrorCode(error) !== 'EEXIST') {
          throw new KeyupError(`keyup could not take its lock ${path} (${describeFsError(error)}).`, { code: 'state', hint: 'Fix that, then run keyup again.', cause: error });
        }
      }
      const { text, owner: current } = await this.readLock(path);
      if (current === undefined) {
        // Being written this very moment by its holder, or left half-written by a crash.
        if (await this.isFreshlyCreated(path)) return { busy: { pid: 0, profile, since: this.now().toISOString() } };
      } else if (!(await this.isStale(current))) {
        return { busy: { pid: current.pid, profile: current.profile, since: current.since } };
      }
      await this.removeStale(path, text);
    }
    throw new KeyupError(`Could not take the lock ${path}: other keyup processes keep taking it.`, { code: 'busy', hint: 'Try again in a moment.' });
  }

  /**
   * Creates the lock file, or fails with EEXIST. The lock folder is made only when it is missing:
   * it is there at nearly every rotation. The file is not flushed to disk: a lock is worth
   * nothing after a crash or a power cut, whose holder is gone (and one left empty by it is
   * judged stale like any other).
   */
  private async createLockFile(path: string, data: Uint8Array): Promise<void> {
    try {
      await writeNewFile(this.fs, path, data, 0o600, { durable: false });
      return;
    } catch (error) {
      if (getErrorCode(error) !== 'ENOENT') throw error;
    }
    try {
      await ensurePrivateDir(this.fs, this.dir);
    } catch (error) {
      throw new KeyupError(`keyup could not make its lock folder ${this.dir} (${describeFsError(error)}).`, { code: 'state', hint: 'Fix that, then run keyup again.', cause: error });
    }
    await writeNewFile(this.fs, path, data, 0o600, { durable: false });
  }

  private async isStale(owner: LockOwner): Promise<boolean> {
    // Our own pid, but not a lock we hold: an earlier process with this pid (pid 1 in a container).
    if (owner.pid === this.pid) return !heldHere.has(owner.token);
    if (!this.isAlive(owner.pid)) return true;
    const started = await this.readProcessStart(owner.pid);
    if (owner.processStart !== undefined && started !== undefined) return started !== owner.processStart;
    return !(this.now().getTime() - Date.parse(owner.since) < this.staleAfterMs);
  }

  private async isFreshlyCreated(path: string): Promise<boolean> {
    try {
      const { mtimeMs } = await this.fs.promises.stat(path);
      return this.now().getTime() - Number(mtimeMs) < 5_000;
    } catch {
      return false;
    }
  }

  /**
   * Moves the stale lock aside instead of deleting it by name: another process may have judged
   * it stale too, removed it and taken the lock, and its fresh lock must not go. Only the lock
   * whose contents were judged stale is removed; anything else is put back.
   */
  private async removeStale(path: string, staleText: string | undefined): Promise<void> {
    const aside = `${path}.${this.pid}.${randomBytes(4).toString('hex')}.stale`;
    try {
      await this.fs.promises.rename(path, aside);
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return;
      throw error;
    }
    const moved = await readText(this.fs, aside, 64 * 1024).catch(() => undefined);
    if (moved === staleText) await this.fs.promises.unlink(aside);
    else await this.fs.promises.rename(aside, path);
  }

  private async readLock(path: string): Promise<{ text: string | undefined; owner: LockOwner | undefined }> {
    let text: string;
    try {
      text = await readText(this.fs, path, 64 * 1024);
    } catch {
      return { text: undefined, owner: undefined };
    }
    try {
      const value = JSON.parse(text) as Partial<LockOwner>;
      const valid = typeof value.pid === 'number' && typeof value.token === 'string' && typeof value.profile === 'string' && typeof value.since === 'string';
      return { text, owner: valid ? (value as LockOwner) : undefined };
    } catch {
      return { text, owner: undefined };
    }
  }

  private async release(path: string, token: string): Promise<void> {
    heldHere.delete(token);
    const { owner } = await this.readLock(path);
    if (owner?.token === token) await this.fs.promises.unlink(path).catch(() => undefined);
  }
}

/** This process's own start time, read once: it is asked at every lock taken. */
let ownStart: Promise<string | undefined> | undefined;

/**
 * Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. A pid reused
 * by another process has another start time. Undefined where there is no /proc (macOS).
 */
export async function readLinuxProcessStart(pid: number): Promise<string | undefined> {
  if (pid !== process.pid) return readProcessStartNow(pid);
  ownStart ??= readProcessStartNow(pid);
  return ownStart;
}

async function readProcessStartNow(pid: number): Promise<string | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}
