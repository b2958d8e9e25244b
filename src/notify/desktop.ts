import { execFile } from 'node:child_process';

/** One desktop notification: a short title and a body that says what to do next. Never a secret. */
export interface Notification {
  readonly title: string;
  readonly body: string;
}

/** Runs a program with arguments, no shell; resolves with its exit, never rejects. */
export type RunProgram = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<{ ok: true } | { ok: false; problem: string }>;

export interface DesktopNotifierInit {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  run?: RunProgram;
  /** Told once (until a notification works again) when the tool is missing or fails. */
  warn: (sentence: string) => void;
}

export interface DesktopNotifier {
  show(notification: Notification): Promise<void>;
}

/**
 * The platform's own tool: `notify-send` on Linux, `osascript` on macOS. The text goes as
 * arguments, never through a shell (nor into AppleScript's source: it arrives as `argv`). Under a
 * systemd user service there is often no DBUS_SESSION_BUS_ADDRESS; the session bus is then at
 * `$XDG_RUNTIME_DIR/bus`. A missing or failing tool is said once, and keyup goes on.
 */
export function createDesktopNotifier({ platform = process.platform, env = process.env, run = runProgram, warn }: DesktopNotifierInit): DesktopNotifier {
  let warned = false;
  return {
    async show({ title, body }) {
      const command = commandFor(platform, env, title, body);
      if (command === undefined) {
        if (!warned) warn(`Desktop notifications are not available on ${platform}; keyup logs what it would have shown.`);
        warned = true;
        return;
      }
      const result = await run(command.file, command.args, command.env);
      if (result.ok) {
        warned = false;
        return;
      }
      if (!warned) warn(`keyup could not show a desktop notification with ${command.file} (${result.problem}); it logs what it would have shown and goes on.`);
      warned = true;
    },
  };
}

function commandFor(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, title: string, body: string): { file: string; args: string[]; env: NodeJS.ProcessEnv } | undefined {
  if (platform === 'darwin') {
    // The text is passed as arguments to the script, so no quote in it can end a string literal.
    const script = ['on run argv', 'display notification (item 2 of argv) with title (item 1 of argv)', 'end run'];
    return { file: 'osascript', args: [...script.flatMap((line) => ['-e', line]), title, body], env };
  }
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') {
    const bus = env.DBUS_SESSION_BUS_ADDRESS ?? (env.XDG_RUNTIME_DIR === undefined ? undefined : `unix:path=${env.XDG_RUNTIME_DIR}/bus`);
    return { file: 'notify-send', args: ['--app-name=keyup', title, body], env: { ...env, ...(bus === undefined ? {} : { DBUS_SESSION_BUS_ADDRESS: bus }) } };
  }
  return undefined;
}

const runProgram: RunProgram = (file, args, env) =>
  new Promise((resolve) => {
    execFile(file, [...args], { env, timeout: 10_000, windowsHide: true }, (error) => {
      if (error === null) resolve({ ok: true });
      else {
        const code = (error as { code?: unknown }).code;
        resolve({ ok: false, problem: code === 'ENOENT' ? 'it is not installed' : typeof code === 'number' ? `exit code ${code}` : error.message.split('\n')[0] ?? 'it failed' });
      }
    });
  });
