import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, KeyupError } from '../errors.js';
import { DaemonUnreachableError } from '../ipc/client.js';
import type { StatusDocument } from '../ipc/protocol.js';
import type { SocketFolderWatch } from '../ipc/watch-socket-folder.js';
import type * as Service from '../service/install.js';
import type { CommandContext } from './context.js';
import { readStatus } from './replies.js';

/** What keyupctl needs of src/service/install.ts: loaded only for these two commands, it reads files and runs systemctl. */
export type ServiceModule = Pick<typeof Service, 'createServiceInit' | 'install' | 'uninstall'>;
export type LoadService = () => Promise<ServiceModule>;

/** How install waits for the keyupd it started: where it listens, and a watch of that place. */
export interface AnswerWait {
  readonly socketPath: string;
  /** Loaded only by install: keyupctl's start-up loads nothing it does not need. */
  readonly loadSocketWatch: () => Promise<WatchSocketFolder>;
}

export type WatchSocketFolder = (socketPath: string) => SocketFolderWatch;

/**
 * How long a keyupd just started may take to listen. It listens before its first check, after
 * loading node and the AWS SDK: well under a second on a laptop, a few on a loaded machine.
 */
export const ANSWER_DEADLINE_MS = 20_000;

/**
 * Between two looks at the socket when no change was seen: keyupd binds its socket and then
 * listens, and a look between the two is refused with no later change to wake on.
 */
const RECHECK_MS = 250;

/**
 * `keyupctl install [--dry-run]`: the service module's lines, as they are, and then — not dry —
 * a wait until the started keyupd answers, so that `keyupctl install && keyupctl status` works at
 * once and a keyupd that dies at start (a bad configuration, a wrong path) is said here rather
 * than found days later. Failures are the service module's KeyupErrors.
 */
export async function runInstall(ctx: CommandContext, { dryRun }: { dryRun: boolean }, loadService: LoadService, wait: AnswerWait): Promise<ExitCode> {
  const service = await loadService();
  // A keyupd answering before a unit was written or replaced is not the service's: one started
  // by hand in a terminal. The service's own keyupd then exits 2 ("already running"), and the
  // one that answers afterwards is still that one, which must not pass for the service.
  const before = dryRun ? undefined : await askStatus(ctx);
  const report = await service.install(service.createServiceInit(), { dryRun });
  ctx.out(report.lines.map((line) => `${line}\n`).join(''));
  if (dryRun) return ExitCode.ok;
  const status = await waitForAnswer(ctx, wait.socketPath, await wait.loadSocketWatch());
  if (before !== undefined && before.pid === status.pid && report.fileState !== 'unchanged') {
    throw new KeyupError(`The service is installed, but the keyupd that answers at ${wait.socketPath} is pid ${status.pid}, which was running before and is not the service's, so the service's own keyupd could not start.`, {
      hint: `Stop pid ${status.pid} (Ctrl-C where it runs, or kill ${status.pid}), then run keyupctl install again.`,
      code: 'already-running',
    });
  }
  ctx.out(`keyupd ${status.version} answers at ${wait.socketPath} (pid ${status.pid}).\n`);
  return ExitCode.ok;
}

/**
 * keyupd's status if one answers now, else undefined. Only a hint for later: whatever keeps an
 * answer from coming (nothing runs, a reply that makes no sense) must not stop the install.
 */
async function askStatus(ctx: CommandContext): Promise<StatusDocument | undefined> {
  try {
    return readStatus(await ctx.call('status'));
  } catch {
    return undefined;
  }
}

async function waitForAnswer(ctx: CommandContext, socketPath: string, watchSocketFolder: WatchSocketFolder): Promise<StatusDocument> {
  const deadline = ctx.now().getTime() + ANSWER_DEADLINE_MS;
  for (;;) {
    const watch = watchSocketFolder(socketPath);
    try {
      return readStatus(await ctx.call('status'));
    } catch (error) {
      if (!(error instanceof DaemonUnreachableError)) throw error;
      const left = deadline - ctx.now().getTime();
      if (left <= 0) {
        throw new KeyupError(`keyupd was started but does not answer at ${socketPath} after ${ANSWER_DEADLINE_MS / 1000} s.`, {
          hint: 'Its log, named above, tells why; after fixing that, run keyupctl install again.',
          code: 'daemon-unreachable',
          cause: error,
        });
      }
      // The timer is cancelled once the watch wins, so that it does not hold keyupctl's exit.
      const timer = new AbortController();
      await Promise.race([watch.changed, sleep(Math.min(left, RECHECK_MS), undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
    } finally {
      watch.close();
    }
  }
}

/** `keyupctl uninstall`. */
export async function runUninstall(ctx: CommandContext, loadService: LoadService): Promise<ExitCode> {
  const service = await loadService();
  const report = await service.uninstall(service.createServiceInit());
  ctx.out(report.lines.map((line) => `${line}\n`).join(''));
  return ExitCode.ok;
}
