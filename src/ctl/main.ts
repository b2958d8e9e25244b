/**
 * keyupctl from its arguments to its exit code: parse, run one command against keyupd, report
 * a failure in one sentence. Everything it touches is passed in (src/bin/keyupctl.ts wires the
 * process), so it runs as well against a fake daemon in a test.
 *
 * keyupctl's start-up budget is about a bare `node`, and on a slow machine every ES module costs
 * a millisecond or two to load: so only the parser, the client and the paths load up front, and
 * each command's module (with what only it needs: help texts, the rotation's progress, the
 * service installer) when that command runs. test/ctl/imports.test.ts holds it to that.
 */
import { ExitCode, KeyupError } from '../errors.js';
import type { request as requestDaemon } from '../ipc/client.js';
import type { Method } from '../ipc/protocol.js';
import { resolvePaths, type Env } from '../paths.js';
import { UsageError, parseCommandLine, type Invocation } from './args.js';
import { createPaint, shouldUseColor } from './color.js';
import type { Ask, CommandContext } from './context.js';
import type { AnswerWait, LoadService } from './service.js';

export interface KeyupctlDeps {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Env;
  readonly home: string;
  readonly stdoutIsTTY: boolean;
  readonly request: typeof requestDaemon;
  readonly now: () => Date;
  /** keyupctl's own version (src/version.ts). */
  readonly readVersion: () => string | Promise<string>;
  /** Asks at the terminal; undefined when stdin is not one (then `--mfa-code` is the only way). */
  readonly getAsk: () => Ask | undefined;
  readonly loadService: LoadService;
  /** After `install`, wakes the wait for keyupd's socket (src/ipc/watch-socket-folder.ts). */
  readonly loadSocketWatch: AnswerWait['loadSocketWatch'];
}

/** Runs keyupctl with `args` (without node and the script) and gives its exit code. */
export async function runKeyupctl(args: readonly string[], deps: KeyupctlDeps): Promise<ExitCode> {
  let invocation: Invocation;
  try {
    invocation = parseCommandLine(args);
  } catch (error) {
    return await report(error, false, deps.err);
  }
  try {
    return await run(invocation, deps);
  } catch (error) {
    return await report(error, invocation.globals.debug, deps.err);
  }
}

async function run(invocation: Invocation, deps: KeyupctlDeps): Promise<ExitCode> {
  const { globals } = invocation;
  switch (invocation.command) {
    case 'help': {
      const { getHelp } = await import('./help.js');
      deps.out(getHelp(invocation.topic));
      return ExitCode.ok;
    }
    case 'version':
      deps.out(`keyupctl ${await deps.readVersion()}\n`);
      return ExitCode.ok;
    case 'completion': {
      const { COMPLETION_SCRIPT } = await import('./completion.js');
      deps.out(COMPLETION_SCRIPT);
      return ExitCode.ok;
    }
    default:
      break;
  }
  const socketPath = resolvePaths({ env: deps.env, home: deps.home, ...(globals.socket === undefined ? {} : { socketFlag: globals.socket }) }).socketFile;
  const ctx: CommandContext = {
    out: deps.out,
    err: deps.err,
    paint: createPaint(shouldUseColor({ env: deps.env, isTTY: deps.stdoutIsTTY, noColorFlag: globals.noColor })),
    stdoutIsTTY: deps.stdoutIsTTY,
    now: deps.now,
    getAsk: deps.getAsk,
    timeoutMs: globals.timeoutMs,
    call: (method, params, { timeoutMs = globals.timeoutMs, onNotification } = {}) =>
      deps.request(socketPath, method, params, { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(onNotification === undefined ? {} : { onNotification }) }),
  };
  switch (invocation.command) {
    case 'status': {
      const reply = sendEarly(ctx, 'status');
      return (await import('./status.js')).runStatus(ctx, invocation, reply);
    }
    case 'rotate':
      return (await import('./rotate.js')).runRotate(ctx, invocation);
    case 'keys': {
      const reply = sendEarly(ctx, 'keys', invocation.profile === undefined ? {} : { profile: invocation.profile });
      return (await import('./keys.js')).runKeys(ctx, invocation, reply);
    }
    case 'config': {
      const reply = sendEarly(ctx, 'config');
      return (await import('./config.js')).runConfig(ctx, invocation, reply);
    }
    case 'reload': {
      const reply = sendEarly(ctx, 'reload');
      return (await import('./reload.js')).runReload(ctx, reply);
    }
    case 'install':
      return (await import('./service.js')).runInstall(ctx, invocation, deps.loadService, { socketPath, loadSocketWatch: deps.loadSocketWatch });
    case 'uninstall':
      return (await import('./service.js')).runUninstall(ctx, deps.loadService);
  }
}

/**
 * A query command's one request, sent before the module that shows its answer loads, so that
 * keyupd answering and the loading overlap (a few milliseconds of keyupctl status's start-up
 * budget). The command awaits the reply; until it does, a quick refusal (no keyupd) must not
 * count as an unhandled rejection.
 */
function sendEarly(ctx: CommandContext, method: Method, params?: unknown): Promise<unknown> {
  const reply = ctx.call(method, params);
  reply.catch(() => undefined);
  return reply;
}

/** One sentence (and what to do) on stderr, each line starting with `keyupctl: `; the exit code. */
async function report(error: unknown, debug: boolean, err: (text: string) => void): Promise<ExitCode> {
  if (error instanceof UsageError) {
    const { getShortUsage } = await import('./help.js');
    err(`keyupctl: ${error.userMessage}\nkeyupctl: ${getShortUsage(error.command)}\n`);
    return error.exitCode;
  }
  if (error instanceof KeyupError) {
    err(`keyupctl: ${error.userMessage}\n`);
    if (debug) err(`${describeStack(error)}\n`);
    return error.exitCode;
  }
  err(`keyupctl: an unexpected error stopped keyupctl (${error instanceof Error ? error.message : String(error)}). Run again with --debug for details.\n`);
  if (debug) err(`${describeStack(error)}\n`);
  return ExitCode.failed;
}

function describeStack(error: unknown): string {
  const lines: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    lines.push(`${depth === 0 ? '' : 'caused by: '}${current.stack ?? current.message}`);
  }
  return lines.join('\n');
}
