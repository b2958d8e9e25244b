import { spawn } from 'node:child_process';

/** A `post_rotate` command as the journal keeps it: as written, and as a program with arguments. */
export interface Hook {
  readonly command: string;
  readonly argv: readonly string[];
}

/** What a hook needs to know besides the secret: it goes in its environment (no secret there). */
export interface HookFacts {
  readonly profile: string;
  readonly user: string;
  readonly account: string;
  readonly oldKeyId: string;
  readonly newKeyId: string;
}

/** The new key, for the hook's stdin only: never its arguments or environment, which other processes of the user can read. */
export interface HookSecret {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly createDate: string;
}

export type HookResult =
  | { readonly ok: true; readonly elapsedMs: number }
  | { readonly ok: false; readonly elapsedMs: number; readonly why: string };

export interface RunHookInit {
  readonly hook: Hook;
  readonly facts: HookFacts;
  readonly secret: HookSecret;
  /** Ends the hook at once (shutdown): it is killed, and counts as not done. */
  readonly signal?: AbortSignal;
  /** Each line the hook wrote, with every secret of the rotation already replaced. */
  readonly onOutput: (stream: 'stdout' | 'stderr', line: string) => void;
}

export type HookRunner = (init: RunHookInit) => Promise<HookResult>;

export interface HookRunnerInit {
  /** The user's HOME: the hook's working folder. */
  readonly home: string;
  /** The environment hooks start from (keyupd's), without the secret of any rotation. */
  readonly env: NodeJS.ProcessEnv;
  /** A hook that runs longer is killed, and counts as failed. Default 60 s. */
  readonly timeoutMs?: number;
  /** Secrets that must never reach the log from a hook's output (the old key's too). */
  readonly redact?: readonly string[];
}

/** The longest line of a hook's output kept for the log; the rest of it is cut. */
const MAX_LINE = 2_000;
/** How long a hook has after SIGTERM (its timeout, or keyupd stopping) before SIGKILL. */
const KILL_GRACE_MS = 5_000;

/**
 * Runs hooks as child processes: no shell (the command asks for one if it wants one), in the
 * user's HOME, with the rotation's facts in `KEYUP_*` variables and the new key as JSON on stdin,
 * in the shape `credential_process` uses (`Version`, `AccessKeyId`, `SecretAccessKey`, …). Its
 * output goes line by line to `onOutput` with the secret replaced. A hook that exits non-zero, is
 * killed, cannot start, or outlives its timeout has failed; its process group is killed with it.
 */
export function createHookRunner({ home, env, timeoutMs = 60_000, redact = [] }: HookRunnerInit): HookRunner {
  return ({ hook, facts, secret, signal, onOutput }) =>
    new Promise((resolve) => {
      const started = Date.now();
      const elapsed = () => Date.now() - started;
      const secrets = [secret.secretAccessKey, ...redact].filter((value) => value.length >= 8);
      const clean = (line: string) => secrets.reduce((text, value) => text.split(value).join('[secret]'), line).slice(0, MAX_LINE);
      const [program = '', ...args] = hook.argv;
      let settled = false;
      const finish = (result: HookResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const child = spawn(program, args, {
        cwd: home,
        env: {
          ...env,
          KEYUP_PROFILE: facts.profile,
          KEYUP_USER: facts.user,
          KEYUP_ACCOUNT: facts.account,
          KEYUP_OLD_KEY_ID: facts.oldKeyId,
          KEYUP_NEW_KEY_ID: facts.newKeyId,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group: a timeout kills what it started too (gh, curl, a shell's children).
        detached: true,
      });
      let stopping: string | undefined;
      const stop = (why: string) => {
        if (stopping !== undefined || child.exitCode !== null || child.signalCode !== null) return;
        stopping = why;
        killGroup(child.pid, 'SIGTERM');
        setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
      };
      const timer = setTimeout(() => stop(`it did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`), timeoutMs);
      const onAbort = () => stop('keyupd stopped it, stopping itself');
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) onAbort();
      forEachLine(child.stdout, (line) => onOutput('stdout', clean(line)));
      forEachLine(child.stderr, (line) => onOutput('stderr', clean(line)));
      child.on('error', (error: NodeJS.ErrnoException) =>
        finish({ ok: false, elapsedMs: elapsed(), why: error.code === 'ENOENT' ? `${program} does not exist` : error.code === 'EACCES' ? `${program} is not executable` : `it could not start (${error.code ?? error.message})` }),
      );
      child.on('close', (code, killedBy) => {
        if (stopping !== undefined) finish({ ok: false, elapsedMs: elapsed(), why: stopping });
        else if (code === 0) finish({ ok: true, elapsedMs: elapsed() });
        else finish({ ok: false, elapsedMs: elapsed(), why: killedBy === null ? `it exited with code ${code ?? '?'}` : `it was killed by ${killedBy}` });
      });
      // A hook that does not read its stdin must not fail the write (EPIPE) nor hang it.
      child.stdin.on('error', () => undefined);
      child.stdin.end(
        `${JSON.stringify({
          Version: 1,
          AccessKeyId: secret.accessKeyId,
          SecretAccessKey: secret.secretAccessKey,
          CreateDate: secret.createDate,
          Profile: facts.profile,
          UserName: facts.user,
          Account: facts.account,
          OldAccessKeyId: facts.oldKeyId,
        })}\n`,
      );
    });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}

/** Calls `onLine` with each complete line of a stream, and the last one without a newline. */
function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line.replace(/\r$/, ''));
    // A hook that never writes a newline must not make keyupd hold its output without bound.
    if (pending.length > MAX_LINE * 4) {
      onLine(pending);
      pending = '';
    }
  });
  stream.on('end', () => {
    if (pending !== '') onLine(pending);
  });
}
