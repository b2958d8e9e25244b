import { lstat, readlink, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, parse, resolve, sep } from 'node:path';
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';

/**
 * Watches the files keyupd reads (the credentials file, the AWS config, keyup's config) and says
 * when one changed.
 *
 * What the consumer should do with `onChange(file)`: re-read the file, and if it does not parse
 * (or is empty), read it again a moment later before acting on it. A file can be seen half-written:
 * `aws configure` truncates and then writes, and a sync tool may write in several pieces; a burst
 * is reported once it settles, but a slow writer can outlast any settling time. Never write a file
 * back on the strength of a read made during a change. keyupd's own atomic rewrites are reported
 * too: compare with what was written before treating one as someone else's edit.
 */
export interface FileWatcherInit {
  /**
   * The files, as the paths say (`$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`, …).
   * They need not exist, nor their folders: a file created later is reported then.
   */
  readonly files: readonly string[];
  /**
   * Called once per burst of changes to a file: written, replaced, created, deleted, or, for a
   * link, pointed elsewhere or its target changed. With the path as given in `files`. An error it
   * throws or rejects with goes to `onError`.
   */
  readonly onChange: (file: string) => void | Promise<void>;
  /** How long a file must stay quiet before `onChange`; default 200 ms. A file written without pause is still reported every 10 × this. */
  readonly settleMs?: number;
  /**
   * Errors of the watching itself (a folder that cannot be read, the inotify watch limit) and of
   * `onChange`. Default: dropped, which a daemon should not do: pass its logger.
   */
  readonly onError?: (error: unknown) => void;
}

export interface FileWatcher {
  /** Resolves once every folder is watched: read the files after it, not before. Never rejects. */
  readonly ready: Promise<void>;
  /** Stops every watch and timer; no `onChange` comes after it resolves. */
  close(): Promise<void>;
}

const DEFAULT_SETTLE_MS = 200;
const MAX_WAIT_FACTOR = 10;
/** Linux's own limit on links followed in one lookup (ELOOP). */
const MAX_LINKS = 40;

/**
 * A name in a folder whose events concern `file`. `reports` is false for a folder on the way to
 * the file that does not exist yet: its appearance is a reason to look again, not a change.
 */
interface WatchPoint {
  readonly folder: string;
  readonly name: string;
  readonly file: string;
  readonly reports: boolean;
}

/**
 * Where to look for changes to `file`, resolving the path a component at a time as the kernel
 * does. The file's own folder, always; if the file is a link, also the link's target in its
 * folder (a dotfiles repo), and so on along a chain, so that an editor replacing the target is
 * seen as well as the link being pointed elsewhere; if a folder is missing, the nearest one that
 * exists, for the missing name to appear. A link among the folders (a linked `~/.aws`) is followed
 * but not watched: folders are watched at their real paths.
 */
async function findWatchPoints(file: string): Promise<WatchPoint[]> {
  const absolute = resolve(file);
  const root = parse(absolute).root;
  const rest = absolute.slice(root.length).split(sep);
  const points: WatchPoint[] = [];
  let folder = root;
  let links = 0;
  for (let name = rest.shift(); name !== undefined; name = rest.shift()) {
    if (name === '' || name === '.') continue;
    if (name === '..') {
      folder = dirname(folder);
      continue;
    }
    const last = rest.length === 0;
    const path = join(folder, name);
    const stats = await lstat(path).catch(() => null);
    if (stats === null || (!last && !stats.isDirectory() && !stats.isSymbolicLink())) {
      // Missing, unreadable, or a file where a folder should be: wait for it to change.
      points.push({ folder, name, file, reports: last });
      return points;
    }
    if (stats.isSymbolicLink()) {
      if (last) points.push({ folder, name, file, reports: true });
      const target = links++ < MAX_LINKS ? await readlink(path).catch(() => null) : null;
      if (target === null) return points;
      const targetRoot = isAbsolute(target) ? parse(target).root : '';
      rest.unshift(...target.slice(targetRoot.length).split(sep));
      if (targetRoot !== '') folder = targetRoot;
      continue;
    }
    if (last) points.push({ folder, name, file, reports: true });
    folder = path;
  }
  return points;
}

/** For each folder, each name watched in it and the files a change to that name concerns. */
type Wanted = Map<string, Map<string, Set<string>>>;

async function findWanted(files: readonly string[]): Promise<Wanted> {
  const wanted: Wanted = new Map();
  for (const points of await Promise.all(files.map(findWatchPoints))) {
    for (const { folder, name, file, reports } of points) {
      const names = wanted.get(folder) ?? new Map<string, Set<string>>();
      wanted.set(folder, names);
      const concerned = names.get(name) ?? new Set<string>();
      names.set(name, concerned);
      if (reports) concerned.add(file);
    }
  }
  return wanted;
}

/** The folder's identity, so that one deleted and made again is watched afresh. */
async function identify(folder: string): Promise<string | null> {
  const stats = await stat(folder).catch(() => null);
  return stats === null ? null : `${stats.dev}:${stats.ino}`;
}

const sameNames = (a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>) => a.size === b.size && [...a.keys()].every((name) => b.has(name));

interface FolderWatch {
  readonly identity: string | null;
  /** Replaced, never mutated, when only the files concerned change. */
  names: Map<string, Set<string>>;
  readonly watcher: FSWatcher;
}

/**
 * Watches the folders of the files, never the files alone: editors and keyup itself replace a
 * file by renaming another over it, and a watch on the old file would go quiet. One chokidar
 * watcher per folder (depth 0, fs.watch, so inotify on Linux; no polling), with every name but the
 * wanted ones ignored, so that a busy folder such as `~/.config` costs one watch and a directory
 * read per burst of events in it. Folders are found again after any event, so that a link pointed
 * elsewhere, a folder made or deleted, or a folder replaced moves the watches where they belong.
 */
export function createFileWatcher({ files, onChange, settleMs = DEFAULT_SETTLE_MS, onError = () => {} }: FileWatcherInit): FileWatcher {
  const watches = new Map<string, FolderWatch>();
  const pending = new Map<string, { readonly firstAt: number; readonly timer: NodeJS.Timeout }>();
  let closed = false;

  const report = (error: unknown): void => {
    try {
      onError(error);
    } catch {
      // onError is where errors end; one that throws there has nowhere left to go.
    }
  };

  const deliver = (file: string): void => {
    if (closed) return;
    try {
      Promise.resolve(onChange(file)).catch(report);
    } catch (error) {
      report(error);
    }
  };

  /** Debounce per file, but never longer than MAX_WAIT_FACTOR × settleMs from the first event. */
  const markChanged = (file: string): void => {
    if (closed) return;
    const now = Date.now();
    const previous = pending.get(file);
    if (previous !== undefined) clearTimeout(previous.timer);
    const firstAt = previous?.firstAt ?? now;
    const delay = Math.max(0, Math.min(settleMs, firstAt + MAX_WAIT_FACTOR * settleMs - now));
    const timer = setTimeout(() => {
      pending.delete(file);
      deliver(file);
    }, delay);
    pending.set(file, { firstAt, timer });
  };

  // One reconciliation at a time; events during one ask for one more after it.
  let reconciling: Promise<void> = Promise.resolve();
  let again = false;
  let queued = false;
  const scheduleReconcile = (): void => {
    if (closed) return;
    if (queued) {
      again = true;
      return;
    }
    queued = true;
    reconciling = reconciling.then(async () => {
      do {
        again = false;
        await reconcile(false).catch(report);
      } while (again && !closed);
      queued = false;
    });
  };

  const startWatch = (folder: string, identity: string | null, names: Map<string, Set<string>>, reportPresent: ReadonlySet<string>): Promise<FolderWatch> => {
    const watcher = watch(folder, {
      depth: 0,
      // chokidar lets $CHOKIDAR_USEPOLLING override this; keyupd's own environment should not set it.
      usePolling: false,
      // Links are watched as links here; their targets get watch points of their own.
      followSymlinks: false,
      // keyup debounces bursts itself; chokidar's unlink delay would only add a timer to close.
      atomic: false,
      ignoreInitial: false,
      ignored: (path: string) => path !== folder && !(dirname(path) === folder && names.has(basename(path))),
    });
    const entry: FolderWatch = { identity, names, watcher };
    let scanned = false;
    const onEvent = (name: string, present: boolean): void => {
      // What the first scan finds is news only for names this watch has just taken on.
      if (scanned || !present || reportPresent.has(name)) entry.names.get(name)?.forEach(markChanged);
      scheduleReconcile();
    };
    watcher.on('all', (event, path) => {
      if (dirname(path) === folder && names.has(basename(path))) onEvent(basename(path), event === 'add' || event === 'addDir');
      else if (path === folder && event === 'unlinkDir') scheduleReconcile();
    });
    // fs.watch's own reports, under chokidar's diffing and throttling: a same-second rewrite or a
    // link re-pointed at nothing still counts. A watch on the folder names the entry (or, when
    // the folder itself goes, the folder); a watch chokidar keeps on a file is named by its path.
    watcher.on('raw', (_event, name, details) => {
      const watchedPath = (details as { watchedPath?: string } | undefined)?.watchedPath;
      const entryName = watchedPath === folder ? name : watchedPath !== undefined && dirname(watchedPath) === folder ? basename(watchedPath) : undefined;
      if (entryName !== undefined && names.has(entryName)) onEvent(entryName, false);
      else if (entryName === basename(folder)) scheduleReconcile();
    });
    watcher.on('error', (error) => {
      report(error);
      scheduleReconcile();
    });
    return new Promise((done) => {
      watcher.once('ready', () => {
        scanned = true;
        done(entry);
      });
    });
  };

  /**
   * Bring the watches in line with where the files are now. A new watch is ready before the one
   * it replaces closes, so that no change falls between them.
   */
  const reconcile = async (initial: boolean): Promise<void> => {
    const wanted = await findWanted(files);
    const identities = new Map(await Promise.all([...wanted.keys(), ...watches.keys()].map(async (folder) => [folder, await identify(folder)] as const)));
    if (closed) return;
    const retired: FolderWatch[] = [];
    const starting: Promise<readonly [string, FolderWatch]>[] = [];
    for (const [folder, names] of wanted) {
      const current = watches.get(folder);
      const identity = identities.get(folder) ?? null;
      if (current !== undefined && current.identity === identity && sameNames(current.names, names)) {
        current.names = names;
        continue;
      }
      // At start, every file is read after `ready`; later, whatever a new watch finds is news.
      const known = current !== undefined && current.identity === identity ? current.names : new Map<string, unknown>();
      const fresh = initial ? new Set<string>() : new Set([...names.keys()].filter((name) => !known.has(name)));
      if (current !== undefined) retired.push(current);
      starting.push(startWatch(folder, identity, names, fresh).then((entry) => [folder, entry] as const));
    }
    for (const [folder, current] of watches) {
      if (wanted.has(folder)) continue;
      retired.push(current);
      watches.delete(folder);
    }
    for (const [folder, entry] of await Promise.all(starting)) {
      if (closed) await entry.watcher.close();
      else watches.set(folder, entry);
    }
    await Promise.all(retired.map((entry) => entry.watcher.close()));
  };

  queued = true;
  reconciling = reconcile(true)
    .catch(report)
    .then(async () => {
      queued = false;
      if (again) scheduleReconcile();
    });
  const ready = reconciling;

  return {
    ready,
    async close() {
      closed = true;
      for (const { timer } of pending.values()) clearTimeout(timer);
      pending.clear();
      await reconciling;
      await Promise.all([...watches.values()].map((entry) => entry.watcher.close()));
      watches.clear();
    },
  };
}
