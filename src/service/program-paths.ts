import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFsError } from '../fs/describe-fs-error.js';
import { toText, type FileSystem } from '../fs/fs.js';
import { TEMPLATE_PATHS, type ServiceManagerName } from './platform.js';
import { createServiceError } from './service-error.js';

/** `<prefix>/Cellar/<formula>/<version>/bin/node`: where Homebrew's node really is. */
const HOMEBREW_CELLAR_NODE = /^(.*)\/Cellar\/([^/]+)\/[^/]+\/bin\/node$/;
/** A path with a version in it (nvm, fnm, volta, asdf, n): gone once that version is removed. */
const VERSIONED_PATH = /\/v?\d+\.\d+\.\d+\//;

const REINSTALL = 'Reinstall keyup, then run keyupctl install again.';

async function realpathOf(fs: FileSystem, path: string): Promise<string> {
  return toText(await fs.promises.realpath(path));
}

/**
 * The node the unit names: `execPath` (this node, its links already resolved by Node), except
 * that Homebrew's Cellar path, which `brew upgrade` deletes, becomes its `opt/<formula>` link
 * when that link leads to the same node, so the service survives upgrades.
 */
export async function resolveNodePath(fs: FileSystem, execPath: string): Promise<string> {
  const match = HOMEBREW_CELLAR_NODE.exec(execPath);
  if (match === null) return execPath;
  const stable = `${match[1] ?? ''}/opt/${match[2] ?? ''}/bin/node`;
  try {
    if ((await realpathOf(fs, stable)) === (await realpathOf(fs, execPath))) return stable;
  } catch {
    // No opt link (an unusual Homebrew set-up): the Cellar path works until the next upgrade.
  }
  return execPath;
}

/** Whether the node path names a version, so that removing that version breaks the service. */
export function isVersionedPath(path: string): boolean {
  return VERSIONED_PATH.test(path);
}

/**
 * keyupd.js beside the real file of the running keyupctl: npm's global install puts a link to it
 * on PATH, so `scriptPath` (process.argv[1]) is resolved through links first.
 */
export async function resolveKeyupdPath(fs: FileSystem, scriptPath: string): Promise<string> {
  let script: string;
  try {
    script = await realpathOf(fs, scriptPath);
  } catch (error) {
    throw createServiceError('service-failed', `Cannot find keyupctl's own file ${scriptPath} (${describeFsError(error)}), nor so keyupd beside it.`, REINSTALL, error);
  }
  const keyupd = join(dirname(script), 'keyupd.js');
  const isFile = await fs.promises.stat(keyupd).then((stats) => stats.isFile(), () => false);
  if (!isFile) throw createServiceError('service-failed', `keyupd.js is not beside keyupctl: there is no file ${keyupd}.`, REINSTALL);
  return keyupd;
}

/**
 * The folder holding systemd/ and launchd/: the nearest one above this module that has the
 * template (keyup's package folder, whether this runs from dist/ or from the sources).
 */
export async function findTemplateDir(fs: FileSystem, manager: ServiceManagerName, start = dirname(fileURLToPath(import.meta.url))): Promise<string> {
  for (let dir = start; ; dir = dirname(dir)) {
    if (await fs.promises.stat(join(dir, TEMPLATE_PATHS[manager])).then((stats) => stats.isFile(), () => false)) return dir;
    if (dirname(dir) === dir) break;
  }
  throw createServiceError('service-failed', `keyup's service template ${TEMPLATE_PATHS[manager]} is missing from its installation.`, REINSTALL);
}
