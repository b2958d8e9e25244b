import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempHome {
  readonly dir: string;
  /** An environment whose every keyup and AWS path points inside `dir`, never at the real home. */
  readonly env: Record<string, string>;
  remove(): Promise<void>;
}

export async function createTempHome(prefix = 'keyup-test-'): Promise<TempHome> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const env = {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, '.config'),
    XDG_STATE_HOME: join(dir, '.local', 'state'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, '.aws', 'credentials'),
    AWS_CONFIG_FILE: join(dir, '.aws', 'config'),
  };
  return { dir, env, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Every regular file under `dir` on the real disk, by path, with its contents; a missing folder
 * gives an empty map. Anything else (keyupd's socket sits in the state folder when
 * XDG_RUNTIME_DIR is unset) is left out: it has no contents to read.
 */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.set(path, await readFile(path, 'utf8'));
    }
  };
  await walk(dir);
  return files;
}
