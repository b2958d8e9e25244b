import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** A watch started before a look at the socket, so that a change right after the look is not missed. */
export interface SocketFolderWatch {
  /** Resolves at the first change in the folder (or, while it is missing, the nearest one above it that exists). */
  readonly changed: Promise<void>;
  close(): void;
}

/**
 * Watches the folder a socket will appear in: keyupd binding it (or making its folder) is an
 * event there, so a keyupctl waiting for a keyupd just started wakes when it appears instead of
 * polling for it. A folder that cannot be watched at all gives a watch that never fires; the
 * caller's deadline and re-check then decide.
 */
export function watchSocketFolder(socketPath: string): SocketFolderWatch {
  let fire = () => {};
  const changed = new Promise<void>((resolve) => (fire = resolve));
  let watcher: FSWatcher | undefined;
  for (let folder = dirname(socketPath); watcher === undefined; folder = dirname(folder)) {
    try {
      watcher = watch(folder, { persistent: false }, () => fire());
      watcher.on('error', () => fire());
    } catch {
      if (folder === dirname(folder)) break;
    }
  }
  return { changed, close: () => watcher?.close() };
}
