/**
 * keyupctl's help, written by hand: the parsing is Node's util.parseArgs, which has no help of its
 * own (and yargs, which would write it, costs keyupctl its start-up budget). Loaded only for
 * help and usage errors.
 */

import { COMMAND_NAMES, type CommandName } from './args.js';

/** One line per command: how it is typed. */
export const SYNOPSES: Readonly<Record<CommandName, string>> = {
  status: 'keyupctl status [--json]',
  rotate: 'keyupctl rotate now [--profile P]... [--force] [--mfa-code CODE]',
  keys: 'keyupctl keys [--profile P] [--json]',
  config: 'keyupctl config [--json]',
  reload: 'keyupctl reload',
  install: 'keyupctl install [--dry-run]',
  uninstall: 'keyupctl uninstall',
  completion: 'keyupctl completion [bash|zsh]',
  help: 'keyupctl help [COMMAND]',
};

const GLOBAL_OPTIONS_HELP = `Options for every command:
  --socket PATH      keyupd's socket (else $KEYUP_SOCKET, else $XDG_RUNTIME_DIR/keyup/keyupd.sock,
                     else keyupd.sock in ~/.local/state/keyup)
  --timeout SECONDS  how long keyupd may stay silent before keyupctl gives up
                     (default 10; 120 for rotate now, where waiting for IAM takes a while)
  --no-color         no colour (nor with NO_COLOR set, nor when output is not a terminal)
  --debug            add a stack trace to an unexpected error
  -h, --help         this help
  --version          keyupctl's version (needs no keyupd)`;

const EXIT_CODES_HELP = `Exit codes: 0 done; 1 failed; 2 bad usage or bad configuration; 3 keyupd is not
reachable; 4 deferred (nothing rotated because temporary credentials are active).`;

const GENERAL = `keyupctl: ask keyupd, the daemon that keeps your AWS access keys fresh.

Usage: keyupctl COMMAND [OPTIONS]

Commands:
  status [--json]             each managed profile: user, key, age, state, next and last rotation
  rotate now [--profile P]... [--force] [--mfa-code CODE]
                              rotate now, whatever the keys' age, showing each step
  keys [--profile P] [--json] the IAM user's keys: status, age, last use, which profiles hold them
  config [--json]             the configuration keyupd runs with, and where each value came from
  reload                      re-read the configuration and the credentials file now
  install [--dry-run]         run keyupd as your user service (systemd on Linux, launchd on macOS)
  uninstall                   stop and remove that service
  completion [bash|zsh]       print a shell completion script (keyupctl help completion)
  help [COMMAND]              this text, or a command's

${GLOBAL_OPTIONS_HELP}

${EXIT_CODES_HELP}
`;

const COMMANDS: Readonly<Record<CommandName, string>> = {
  status: `Shows each profile keyupd manages: IAM user, key (shortened), its age in days, its state,
when it is next rotated and when it last was, and any error or deferral; above them keyupd's
version, pid, schedule and next check.

States: ok; warn (old enough to warn about); due (rotated at the next check); deferred
(temporary credentials are active); rotating; busy (another keyup process is rotating it);
needs-mfa (run keyupctl rotate now, which asks for the code); error.

Options:
  --json   print keyupd's status document as it is (one JSON value)`,
  rotate: `Rotates now, whatever the keys' age, and shows each step as keyupd takes it. Without
--profile, every managed profile. A profile another keyup process is rotating is reported as
busy and not waited for. Where IAM demands MFA, keyupctl asks for the code on the terminal.

Options:
  --profile P      rotate profile P only (repeat for several)
  --force          rotate even while temporary credentials in the credentials file are active
  --mfa-code CODE  the six-digit code of the profile's MFA device, where IAM demands MFA

Exit code 4 when a rotation was deferred and nothing failed.`,
  keys: `Lists the keys of each managed profile's IAM user: id, status, creation date, age, when,
where and for what service each was last used, which profiles hold it, and which one keyup
manages.

Options:
  --profile P   only profile P
  --json        print keyupd's answer as it is (one JSON value)`,
  config: `Prints the configuration keyupd runs with, every value followed by where it came from
(a default, a line of the config file, an environment variable).

Options:
  --json   print keyupd's answer as it is (one JSON value)`,
  reload: `Makes keyupd re-read its configuration and the credentials file now (it also notices
changes by itself within seconds). A configuration with an error is refused, said here, and the
previous one keeps running (exit 2).`,
  install: `Installs keyupd as your per-user service and starts it: a systemd user unit on Linux,
a launchd agent on macOS, then waits until keyupd answers (exit 1, naming its log, if it does
not within 20 s). Running it again changes nothing.

Options:
  --dry-run   print the file it would write and the commands it would run; change nothing`,
  uninstall: `Stops, disables and removes the per-user service that keyupctl install made.`,
  completion: `Prints a completion script for bash and zsh (the same script serves both).

To use it now:           source <(keyupctl completion)
To keep it, add that line to ~/.bashrc or ~/.zshrc, or save it once:
  keyupctl completion > ~/.local/share/bash-completion/completions/keyupctl`,
  help: `Prints help: keyupctl help, or keyupctl help COMMAND (the same as keyupctl COMMAND --help).`,
};

/** The whole help, or one command's. */
export function getHelp(command?: CommandName): string {
  if (command === undefined) return GENERAL;
  return `Usage: ${SYNOPSES[command]}\n\n${COMMANDS[command]}\n\n${GLOBAL_OPTIONS_HELP}\n`;
}

/** What a usage error shows under its sentence: how the command is typed, or the list of commands. */
export function getShortUsage(command?: CommandName): string {
  return command === undefined ? `usage: keyupctl COMMAND [OPTIONS], COMMAND one of ${COMMAND_NAMES.map((name) => (name === 'rotate' ? 'rotate now' : name)).join(', ')}` : `usage: ${SYNOPSES[command]}`;
}
