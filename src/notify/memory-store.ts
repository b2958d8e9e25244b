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

  async write(memory: NotificationMemory): Promise<void> {
    await ensurePrivateDir(this.fs, this.stateDir);
    await writeFileAtomically({ fs: this.fs, file: this.path, data: `${JSON.stringify(memory, null, 1)}\n` });
  }
}
