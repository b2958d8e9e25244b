import { join } from 'node:path';
import type { StoredView } from '../engine/view.js';
import { writeFileAtomically } from '../fs/atomic-write.js';
import { ensurePrivateDir, readText, type FileSystem } from '../fs/fs.js';

/** What the daemon keeps across restarts: when it last checked, and what it knew of each profile. */
export interface DaemonState {
  /** When the last check finished: a slot after it, missed while keyupd was down, is made up at start. */
  readonly lastCheck: string | null;
  readonly views: readonly StoredView[];
}

const EMPTY: DaemonState = { lastCheck: null, views: [] };

/** `<state>/daemon.json`, replaced atomically; never holds a secret. */
export class StateStore {
  readonly path: string;
  private readonly fs: FileSystem;
  private readonly stateDir: string;
  /** What the last write put in the file. */
  private written: string | undefined;

  constructor({ fs, stateDir }: { fs: FileSystem; stateDir: string }) {
    this.fs = fs;
    this.stateDir = stateDir;
    this.path = join(stateDir, 'daemon.json');
  }

  /**
   * The saved state. A missing, unreadable or damaged file is a fresh start: it is only a memory
   * (the journal, not this, carries any rotation in progress), and the start-up check fills it.
   */
  async read(): Promise<DaemonState> {
    try {
      const value = JSON.parse(await readText(this.fs, this.path, 4 * 1024 * 1024)) as Partial<DaemonState>;
      return {
        lastCheck: typeof value.lastCheck === 'string' && !Number.isNaN(Date.parse(value.lastCheck)) ? value.lastCheck : null,
        views: Array.isArray(value.views) ? value.views.filter(isStoredView) : [],
      };
    } catch {
      return EMPTY;
    }
  }

  /**
   * Replaces the file, unless it would hold what this store last wrote: the daemon saves after
   * every check (and every retry while the network is away), and most change nothing. Neither
   * leftovers (swept at start) nor the folder's flush are worth a write each time: a power cut
   * that loses the rename at worst repeats a make-up check.
   */
  async write(state: DaemonState): Promise<void> {
    const data = `${JSON.stringify(state, null, 1)}\n`;
    if (data === this.written) return;
    await ensurePrivateDir(this.fs, this.stateDir);
    await writeFileAtomically({ fs: this.fs, file: this.path, data, removeLeftovers: false, flushFolder: false });
    this.written = data;
  }
}

function isStoredView(value: unknown): value is StoredView {
  return typeof value === 'object' && value !== null && typeof (value as { profile?: unknown }).profile === 'string';
}
