import { Volume, createFsFromVolume } from 'memfs';
import type { FileSystem } from '../../src/fs/fs.js';

/** A fresh in-memory file system with the given files, as keyup's fs type. */
export function createMemoryFs(files: Record<string, string> = {}): { fs: FileSystem; vol: InstanceType<typeof Volume> } {
  const vol = Volume.fromJSON(files);
  return { fs: createFsFromVolume(vol) as unknown as FileSystem, vol };
}
