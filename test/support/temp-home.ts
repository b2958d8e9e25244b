import { mkdtemp, rm } from 'node:fs/promises';
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
