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
  /** Each line the hook wrote, with the new key's secret already replaced by `[secret]`. */
  readonly onOutput: (stream: 'stdout' | 'stderr', line: string) => void;
}

export type HookRunner = (init: RunHookInit) => Promise<HookResult>;

export interface HookRunnerInit {
  /** The user's HOME: the hook's working folder. */
  readonly home: string;
  /** The environment hooks start from (keyupd's); the credentials in `WITHHELD_ENV` are left out. */
  readonly env: NodeJS.ProcessEnv;
  /** A hook that runs longer is killed, and counts as failed. Default 60 s. */
  readonly timeoutMs?: number;
}

/**
 * AWS credentials keyupd's own environment may hold (`keyupd --once` run from a shell with a
 * session exported): a hook never gets them, its key arrives on stdin only (SPEC, rule 6).
 */
const WITHHELD_ENV: ReadonlySet<string> = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_CREDENTIAL_EXPIRATION']);
/** The longest line of a hook's output kept for the log; the rest of it is cut. */
const MAX_LINE = 2_000;
/** Output without a newline is passed on once this much of it is waiting, so keyupd's memory stays bounded. */
const MAX_PENDING = MAX_LINE * 4;
/** How long a hook has after SIGTERM (its timeout, or keyupd stopping) before SIGKILL. */
const KILL_GRACE_MS = 5_000;

/**
 * Runs hooks as child processes: no shell (the command asks for one if it wants one), in the
 * user's HOME, with the rotation's facts in `KEYUP_*` variables and the new key as JSON on stdin,
 * in the shape `credential_process` uses (`Version`, `AccessKeyId`, `SecretAccessKey`, …). Its
 * output goes line by line to `onOutput` with the secret replaced. A hook that exits non-zero, is
 * killed, cannot start, or outlives its timeout has failed; its process group is killed with it.
 */
export function createHookRunner({ home, env, timeoutMs = 60_000 }: HookRunnerInit): HookRunner {
  const baseEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !WITHHELD_ENV.has(name)));
  return ({ hook, facts, secret, signal, onOutput }) =>
    new Promise((resolve) => {
      const started = Date.now();
      const elapsed = () => Date.now() - started;
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
          ...baseEnv,
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
      readInto(child.stdout, createOutputLines([secret.secretAccessKey], (line) => onOutput('stdout', line)));
      readInto(child.stderr, createOutputLines([secret.secretAccessKey], (line) => onOutput('stderr', line)));
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

export interface OutputLines {
  /** A piece of the output, cut anywhere (a line, a secret, may continue in the next piece). */
  write(piece: string): void;
  /** The output ended: what is left goes out as the last line. */
  end(): void;
}

/**
 * Cuts a hook's output into lines for the log, each with every secret in `secrets` replaced by
 * `[secret]` and cut to 2,000 characters. Output without a newline is passed on in parts of about
 * 8,000 characters; the last (longest secret − 1) characters of each part, redacted first, wait
 * for the next piece, so a secret cut by a part's end is still whole when it is redacted.
 */
export function createOutputLines(secrets: readonly string[], onLine: (line: string) => void): OutputLines {
  // Too short a value would replace ordinary words; a secret access key has 40 characters.
  const values = secrets.filter((value) => value.length >= 8);
  const keep = Math.max(0, ...values.map((value) => value.length - 1));
  const redact = (text: string) => values.reduce((done, value) => done.split(value).join('[secret]'), text);
  const emit = (line: string) => onLine(redact(line).slice(0, MAX_LINE));
  let pending = '';
  return {
    write(piece) {
      pending += piece;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) emit(line.replace(/\r$/, ''));
      if (pending.length > MAX_PENDING) {
        // Redact before cutting: a secret wholly here is replaced, and one cut by the end of this
        // piece starts within the last `keep` characters, which stay for the next piece.
        const text = redact(pending);
        const cut = Math.max(0, text.length - keep);
        if (cut > 0) emit(text.slice(0, cut));
        pending = text.slice(cut);
      }
    },
    end() {
      if (pending !== '') emit(pending);
      pending = '';
    },
  };
}

/** Feeds a stream's text to `lines`, piece by piece as it arrives. */
function readInto(stream: NodeJS.ReadableStream, lines: OutputLines): void {
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => lines.write(chunk));
  stream.on('end', () => lines.end());
}
