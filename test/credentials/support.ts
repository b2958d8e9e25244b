import { createFsFromVolume, Volume } from 'memfs';
import type { FileSystem, FileSystemPromises } from '../../src/fs/fs.js';

export const OLD_ID = 'AKIAOLDKEYOLDKEY0001';
export const OLD_SECRET = 'oldSecret/abcdefghijklmnopqrstuvwxyz012345';
export const NEW_KEY = { accessKeyId: 'AKIANEWKEYNEWKEY0002', secretAccessKey: 'newSecret+abcdefghijklmnopqrstuvwxyz012345' } as const;

/** A fresh in-memory file system holding `files` (path → content). */
export function createMemoryFs(files: Record<string, string | Buffer> = {}): ReturnType<typeof createFsFromVolume> {
  const fs = createFsFromVolume(new Volume());
  for (const [path, content] of Object.entries(files)) {
    fs.mkdirSync(path.slice(0, path.lastIndexOf('/')) || '/', { recursive: true });
    fs.writeFileSync(path, content, { mode: 0o600 });
  }
  return fs;
}

/**
 * The same file system with some `promises` methods replaced, to inject failures or a
 * concurrent writer at a precise step. Other methods stay bound to the original.
 */
export function hookFs(fs: FileSystem, hooks: Partial<FileSystemPromises>): FileSystem {
  const promises = new Proxy(fs.promises, {
    get(target, property, receiver) {
      const hook = (hooks as Record<PropertyKey, unknown>)[property];
      if (hook !== undefined) return hook;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { constants: fs.constants, promises };
}

/** A Node-style system error. */
export function createSystemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

export function createFakeClock(start = '2026-11-24T07:00:00.000Z') {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}
