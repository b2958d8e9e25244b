import { dirname, join } from 'node:path';
import { writeFileAtomically } from '../fs/atomic-write.js';
import { getErrorCode, readText, writeInPrivateDir, type FileSystem } from '../fs/fs.js';

/** One finished or failed rotation: ids and times, never a secret. */
export interface RotationRecord {
  readonly profile: string;
  readonly at: string;
  readonly oldKeyId: string;
  readonly newKeyId: string | null;
  /** IAM's CreateDate of the new key: its age where IAM shows keys only with MFA. */
  readonly newKeyCreated?: string;
  readonly ok: boolean;
  /** Every profile of the credentials file that now holds the new key. */
  readonly profiles?: readonly string[];
  readonly error?: string;
}

/** Enough to answer "when was this profile last rotated" for years of monthly rotations. */
const KEEP_RECORDS = 200;
/** 200 records are about 60 KiB; anything far larger is not keyup's. */
const MAX_HISTORY_BYTES = 4 * 1024 * 1024;

/** `<state>/history.json`: the rotations keyup has made, newest last. */
export class History {
  private readonly fs: FileSystem;
  readonly path: string;
  private swept = false;

  constructor({ fs, stateDir }: { fs: FileSystem; stateDir: string }) {
    this.fs = fs;
    this.path = join(stateDir, 'history.json');
  }

  async read(): Promise<RotationRecord[]> {
    try {
      const value: unknown = JSON.parse(await readText(this.fs, this.path, MAX_HISTORY_BYTES));
      return Array.isArray(value) ? (value as RotationRecord[]) : [];
    } catch (error) {
      // History is informative only; a damaged file must not stop rotations.
      if (getErrorCode(error) === 'ENOENT' || error instanceof SyntaxError) return [];
      throw error;
    }
  }

  async append(record: RotationRecord): Promise<void> {
    const records = [...(await this.read()), record].slice(-KEEP_RECORDS);
    const data = `${JSON.stringify(records, null, 1)}\n`;
    // Leftover temp files are looked for at the first write only: a History lives for one run.
    // Its folder is not flushed: a power cut may lose the newest record, never the file.
    const write = () => writeFileAtomically({ fs: this.fs, file: this.path, data, removeLeftovers: !this.swept, flushFolder: false });
    await writeInPrivateDir(this.fs, dirname(this.path), write);
    this.swept = true;
  }
}
