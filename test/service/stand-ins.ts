import { chmod, mkdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A stand-in for systemctl: logs its arguments, answers like systemd 252's. KEYUP_STAND_IN_SYSTEMCTL
 * chooses a failure: `no-bus` (every call, as where no user manager runs), `fail-enable`.
 */
const SYSTEMCTL = `#!/bin/sh
printf 'systemctl %s\\n' "$*" >> "$KEYUP_STAND_IN_LOG"
if [ "$KEYUP_STAND_IN_SYSTEMCTL" = no-bus ]; then
  echo 'Failed to connect to bus: No medium found' >&2
  exit 1
fi
case "$2" in
  show) echo 'Version=252' ;;
  enable)
    if [ "$KEYUP_STAND_IN_SYSTEMCTL" = fail-enable ]; then
      echo 'Failed to enable unit: Unit file keyupd.service does not exist.' >&2
      exit 1
    fi ;;
esac
exit 0
`;

/**
 * A stand-in for launchctl, with launchd's state in a folder: \`loaded\` while the agent is loaded.
 * KEYUP_STAND_IN_LINGER=N: after bootout the job stays loaded for N more \`print\`s, as launchd
 * does while keyupd stops. KEYUP_STAND_IN_LAUNCHCTL: \`no-gui\` (no GUI domain, as over ssh),
 * \`slow-bootout\` (bootout answers 36, still in progress), \`bad-plist\` (bootstrap refuses).
 */
const LAUNCHCTL = `#!/bin/sh
printf 'launchctl %s\\n' "$*" >> "$KEYUP_STAND_IN_LOG"
state="$KEYUP_STAND_IN_STATE"
label=dev.keyup.keyupd
case "$1" in
  print)
    case "$2" in
      */$label)
        if [ -f "$state/loaded" ] && [ -f "$state/unloading" ]; then
          left=$(cat "$state/unloading")
          if [ "$left" -gt 0 ]; then
            echo $((left - 1)) > "$state/unloading"
          else
            rm -f "$state/loaded" "$state/unloading"
          fi
        fi
        if [ -f "$state/loaded" ]; then
          echo "$2 = {"
          exit 0
        fi
        echo "Could not find service \\"$label\\" in domain for user gui: 501" >&2
        exit 113 ;;
      *)
        if [ "$KEYUP_STAND_IN_LAUNCHCTL" = no-gui ]; then
          echo 'Could not find domain for user gui: 501' >&2
          exit 113
        fi
        echo "$2 = {"
        exit 0 ;;
    esac ;;
  bootout)
    if [ ! -f "$state/loaded" ]; then
      echo 'Boot-out failed: 3: No such process' >&2
      exit 3
    fi
    echo "\${KEYUP_STAND_IN_LINGER:-0}" > "$state/unloading"
    if [ "$KEYUP_STAND_IN_LAUNCHCTL" = slow-bootout ]; then
      echo 'Boot-out failed: 36: Operation now in progress' >&2
      exit 36
    fi
    if [ "\${KEYUP_STAND_IN_LINGER:-0}" = 0 ]; then rm -f "$state/loaded" "$state/unloading"; fi
    exit 0 ;;
  bootstrap)
    if [ -f "$state/loaded" ] || [ "$KEYUP_STAND_IN_LAUNCHCTL" = bad-plist ]; then
      echo 'Bootstrap failed: 5: Input/output error' >&2
      echo 'Try re-running the command as root for richer errors.' >&2
      exit 5
    fi
    printf '%s' "$3" > "$state/loaded"
    exit 0 ;;
  enable) exit 0 ;;
  kickstart)
    if [ -f "$state/loaded" ]; then exit 0; fi
    echo "Could not find service \\"$label\\" in domain for user gui: 501" >&2
    exit 113 ;;
esac
echo "Unrecognized subcommand: $1" >&2
exit 64
`;

export interface StandIns {
  /** Put first on PATH. */
  readonly bin: string;
  /** Each call's arguments, one line each. */
  readonly log: string;
  /** launchd's state. */
  readonly state: string;
  /** The variables the stand-ins read; add the failure modes to them. */
  readonly env: Record<string, string>;
  /** The commands run so far, as `systemctl --user …` lines. */
  calls(): Promise<string[]>;
  /** Forgets the calls so far. */
  clear(): Promise<void>;
}

/** Writes stand-ins for systemctl and launchctl into `dir`. */
export async function createStandIns(dir: string): Promise<StandIns> {
  const bin = join(dir, 'stand-ins');
  const state = join(dir, 'launchd-state');
  const log = join(dir, 'calls.log');
  await mkdir(bin, { recursive: true });
  await mkdir(state, { recursive: true });
  for (const [name, text] of [['systemctl', SYSTEMCTL], ['launchctl', LAUNCHCTL]] as const) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
  await writeFile(log, '');
  return {
    bin,
    log,
    state,
    env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, KEYUP_STAND_IN_LOG: log, KEYUP_STAND_IN_STATE: state },
    calls: async () => (await readFile(log, 'utf8')).split('\n').filter((line) => line !== ''),
    clear: () => writeFile(log, ''),
  };
}

export interface FakePackage {
  /** What npm puts on PATH: a link to the package's keyupctl.js. */
  readonly keyupctlLink: string;
  /** The keyupd.js the unit must name: beside keyupctl.js's real file. */
  readonly keyupd: string;
}

/** An npm global install in miniature: prefix/bin/keyupctl → lib/node_modules/keyup/dist/src/bin/keyupctl.js. */
export async function createFakePackage(dir: string): Promise<FakePackage> {
  const binDir = join(dir, 'prefix', 'lib', 'node_modules', 'keyup', 'dist', 'src', 'bin');
  await mkdir(binDir, { recursive: true });
  await writeFile(join(binDir, 'keyupctl.js'), '');
  await writeFile(join(binDir, 'keyupd.js'), '');
  await mkdir(join(dir, 'prefix', 'bin'), { recursive: true });
  const keyupctlLink = join(dir, 'prefix', 'bin', 'keyupctl');
  await symlink('../lib/node_modules/keyup/dist/src/bin/keyupctl.js', keyupctlLink);
  return { keyupctlLink, keyupd: join(binDir, 'keyupd.js') };
}

/** An executable that stands for node, at an absolute path without a version in it. */
export async function createFakeNode(dir: string): Promise<string> {
  await mkdir(join(dir, 'node', 'bin'), { recursive: true });
  const node = join(await realpath(dir), 'node', 'bin', 'node');
  await writeFile(node, '#!/bin/sh\n');
  await chmod(node, 0o755);
  return node;
}
