import { join } from 'node:path';
import { writeFileAtomically } from '../fs/atomic-write.js';
import { ensurePrivateDir, readText, type FileSystem } from '../fs/fs.js';
import type { NotificationMemory } from './notifications.js';

const EMPTY: NotificationMemory = { shown: {}, deferredSince: {} };

/**
 * `<state>/notifications.json`: what was last shown per profile and since when each deferral
 * runs, shared by the daemon and `keyupd --once` so that neither repeats an event after a
 * restart and a deferral is counted from its start. Never a secret.
 */
export class NotificationStore {
  readonly path: string;
  /** What the last write put in the file. */
  private written: string | undefined;

  constructor(
    private readonly fs: FileSystem,
    private readonly stateDir: string,
  ) {
    this.path = join(stateDir, 'notifications.json');
  }

  /** Damaged or missing: nothing remembered, at worst one notification shown twice. */
  async read(): Promise<NotificationMemory> {
    try {
      const value = JSON.parse(await readText(this.fs, this.path, 1024 * 1024)) as Partial<NotificationMemory>;
      const record = (inner: unknown) => (typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? (inner as Record<string, string>) : {});
      return { shown: record(value.shown), deferredSince: record(value.deferredSince) };
    } catch {
      return EMPTY;
    }
  }

  /**
   * Replaces the file, unless it would hold what this store last wrote (the daemon saves after
   * every check; most show nothing new). No flush of the folder: a power cut that loses the
   * rename at worst shows one notification twice.
   */
  async write(memory: NotificationMemory): Promise<void> {
    const data = `${JSON.stringify(memory, null, 1)}\n`;
    if (data === this.written) return;
    await ensurePrivateDir(this.fs, this.stateDir);
    await writeFileAtomically({ fs: this.fs, file: this.path, data, flushFolder: false });
    this.written = data;
  }
}
