/**
 * keyupctl's command line, parsed by Node's own util.parseArgs (strict: an unknown option is an
 * error, never ignored). yargs would cost keyupctl more than its whole start-up budget.
 *
 * Global options may stand anywhere: `keyupctl --socket S status` and `keyupctl status --socket S`
 * are the same. A first, lenient pass finds the command; the second, strict one parses the
 * global options together with that command's own.
 */
import { parseArgs } from 'node:util';
import { ExitCode, KeyupError } from '../errors.js';

export const COMMAND_NAMES = ['status', 'rotate', 'keys', 'config', 'reload', 'install', 'uninstall', 'completion', 'help'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}

type OptionConfig = { readonly type: 'string' | 'boolean'; readonly multiple?: boolean; readonly short?: string };
type OptionsConfig = Readonly<Record<string, OptionConfig>>;

const GLOBAL_OPTIONS = {
  socket: { type: 'string' },
  timeout: { type: 'string' },
  'no-color': { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies OptionsConfig;

const COMMAND_OPTIONS = {
  status: { json: { type: 'boolean' } },
  rotate: { profile: { type: 'string', multiple: true }, force: { type: 'boolean' }, 'mfa-code': { type: 'string' } },
  keys: { profile: { type: 'string' }, json: { type: 'boolean' } },
  config: { json: { type: 'boolean' } },
  reload: {},
  install: { 'dry-run': { type: 'boolean' } },
  uninstall: {},
  completion: {},
  help: {},
} as const satisfies Readonly<Record<CommandName, OptionsConfig>>;

/** Every option of every command, for the first pass: it must know which options take a value. */
const ALL_OPTIONS: OptionsConfig = Object.assign({}, GLOBAL_OPTIONS, ...Object.values(COMMAND_OPTIONS), { profile: { type: 'string', multiple: true } }) as OptionsConfig;

export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;

/** The options every command takes. */
export interface GlobalOptions {
  readonly socket: string | undefined;
  /** `--timeout`, in ms. */
  readonly timeoutMs: number | undefined;
  readonly noColor: boolean;
  readonly debug: boolean;
}

export type Invocation = { readonly globals: GlobalOptions } & (
  | { readonly command: 'help'; readonly topic: CommandName | undefined }
  | { readonly command: 'version' }
  | { readonly command: 'status'; readonly json: boolean }
  | { readonly command: 'rotate'; readonly profiles: readonly string[]; readonly force: boolean; readonly mfaCode: string | undefined }
  | { readonly command: 'keys'; readonly profile: string | undefined; readonly json: boolean }
  | { readonly command: 'config'; readonly json: boolean }
  | { readonly command: 'reload' }
  | { readonly command: 'install'; readonly dryRun: boolean }
  | { readonly command: 'uninstall' }
  | { readonly command: 'completion' }
);

/** Bad usage: exit 2, the sentence, then how the command is typed (help.ts's getShortUsage). */
export class UsageError extends KeyupError {
  constructor(
    message: string,
    readonly command: CommandName | undefined,
  ) {
    super(message, { hint: `Run keyupctl help${command === undefined || command === 'help' ? '' : ` ${command}`} for more.`, exitCode: ExitCode.usage, code: 'usage' });
  }
}

/** Parses keyupctl's arguments (without node and the script). Throws {@link UsageError}. */
export function parseCommandLine(args: readonly string[]): Invocation {
  const { tokens } = parseArgs({ args: [...args], options: ALL_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional');
  const name = first?.kind === 'positional' ? first.value : undefined;
  if (name !== undefined && !isCommandName(name)) throw new UsageError(`${name} is not a keyupctl command.`, undefined);
  const command = name;

  let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options: { ...GLOBAL_OPTIONS, ...(command === undefined ? {} : COMMAND_OPTIONS[command]) }, strict: true, allowPositionals: true });
  } catch (error) {
    throw describeParseError(error, command);
  }
  const { values } = parsed;
  const rest = parsed.positionals.slice(1);
  const globals = readGlobals(values, command);

  if (values.version === true) return { command: 'version', globals };
  // `keyupctl help --help` is the help of help; `keyupctl help` is the whole help.
  if (values.help === true && command === 'help' && rest.length === 0) return { command: 'help', topic: 'help', globals };
  if (values.help === true || command === 'help') return { command: 'help', topic: readHelpTopic(command, rest), globals };
  if (command === undefined) throw new UsageError('Name a command, such as keyupctl status.', undefined);

  const flag = (key: string) => values[key] === true;
  switch (command) {
    case 'rotate': {
      if (rest[0] !== 'now') throw new UsageError(rest[0] === undefined ? 'rotate needs the word now: keyupctl rotate now.' : `rotate takes now, not ${rest[0]}.`, command);
      takeNoMore(command, rest.slice(1));
      const profiles = (values.profile as string[] | undefined) ?? [];
      if (profiles.some((profile) => profile === '')) throw new UsageError('--profile needs a profile name.', command);
      const mfaCode = values['mfa-code'] as string | undefined;
      if (mfaCode !== undefined && !/^\d{6}$/.test(mfaCode)) throw new UsageError('--mfa-code takes the six digits your MFA device shows.', command);
      return { command, profiles, force: flag('force'), mfaCode, globals };
    }
    case 'keys': {
      takeNoMore(command, rest);
      const profile = values.profile as string | undefined;
      if (profile === '') throw new UsageError('--profile needs a profile name.', command);
      return { command, profile, json: flag('json'), globals };
    }
    case 'completion':
      // Either shell gets the same script; naming one is allowed because people do.
      if (rest[0] !== undefined && !(COMPLETION_SHELLS as readonly string[]).includes(rest[0])) throw new UsageError(`completion knows bash and zsh, not ${rest[0]}.`, command);
      takeNoMore(command, rest.slice(1));
      return { command, globals };
    case 'status':
    case 'config':
      takeNoMore(command, rest);
      return { command, json: flag('json'), globals };
    case 'install':
      takeNoMore(command, rest);
      return { command, dryRun: flag('dry-run'), globals };
    case 'reload':
    case 'uninstall':
      takeNoMore(command, rest);
      return { command, globals };
  }
}

function readGlobals(values: Record<string, unknown>, command: CommandName | undefined): GlobalOptions {
  const socket = values.socket as string | undefined;
  if (socket === '') throw new UsageError('--socket needs a path.', command);
  const timeout = values.timeout as string | undefined;
  let timeoutMs: number | undefined;
  if (timeout !== undefined) {
    const seconds = Number(timeout);
    if (timeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout takes a number of seconds above 0, not ${JSON.stringify(timeout)}.`, command);
    timeoutMs = Math.round(seconds * 1000);
  }
  return { socket, timeoutMs, noColor: values['no-color'] === true, debug: values.debug === true };
}

function readHelpTopic(command: CommandName | undefined, rest: readonly string[]): CommandName | undefined {
  if (command !== 'help') return command;
  const [topic, ...more] = rest;
  if (topic === undefined) return undefined;
  if (!isCommandName(topic)) throw new UsageError(`${topic} is not a keyupctl command.`, undefined);
  // `keyupctl help rotate now` reads naturally.
  if (!(topic === 'rotate' && more.length === 1 && more[0] === 'now')) takeNoMore('help', more);
  return topic;
}

function takeNoMore(command: CommandName, rest: readonly string[]): void {
  if (rest.length > 0) throw new UsageError(`${command === 'rotate' ? 'rotate now' : command} takes no argument ${rest[0] ?? ''}.`, command);
}

/** util.parseArgs's message names the option; keyupctl says it in one sentence of its own. */
function describeParseError(error: unknown, command: CommandName | undefined): UsageError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]*)/.exec(message)?.[1] ?? 'an option';
  const who = command === undefined ? 'keyupctl' : command === 'rotate' ? 'rotate now' : command;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`${who} does not take ${option}.`, command);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return new UsageError(message.includes('does not take an argument') ? `${option} takes no value.` : `${option} needs a value.`, command);
  }
  return new UsageError(`${message.split('\n')[0] ?? message}`, command);
}
