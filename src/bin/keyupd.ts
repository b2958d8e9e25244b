#!/usr/bin/env node
import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { ExitCode, KeyupError } from '../errors.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevelFlag = (typeof LOG_LEVELS)[number];

// keyup runs on Node 20 on purpose; the SDK's notice about its future Node 22 floor is not the user's concern.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `Usage: keyupd [--once] [--config PATH] [--socket PATH] [--log-level LEVEL]

keyupd keeps the AWS access keys in your credentials file fresh. Without --once it is the
daemon, in the foreground (systemd or launchd supervise it; keyupctl install sets that up):
it checks key ages on its schedule, rotates what is due and serves keyupctl on its socket.

Options:
  --once             run one check now: rotate what is due, print a summary, exit (for cron)
  --config PATH      keyup's configuration file (else $KEYUP_CONFIG, else ~/.config/keyup/config)
  --socket PATH      the socket the daemon serves (else $KEYUP_SOCKET, else
                     $XDG_RUNTIME_DIR/keyup/keyupd.sock); no use with --once
  --log-level LEVEL  override log_level: ${LOG_LEVELS.join(', ')}
  --debug            add stack traces to errors
  --version          print the version and exit
  -h, --help         this help

Exit codes: 0 done; 1 failed; 2 bad usage or bad configuration; 4 deferred (--once: nothing
rotated because temporary credentials are active).
`;

/**
 * The command line, with Node's own parser: keyupd stays small in memory for months, and yargs
 * (its help rendering, locales, completion) would be 5 MiB of it for five flags.
 */
function parseCommandLine(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      once: { type: 'boolean', default: false },
      config: { type: 'string' },
      socket: { type: 'string' },
      'log-level': { type: 'string' },
      debug: { type: 'boolean', default: false },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 0) throw new Error(`keyupd takes no arguments, only options: ${positionals.join(' ')}`);
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not ${level}`);
  return { ...values, 'log-level': level as LogLevelFlag | undefined };
}

function report(error: unknown, debug: boolean): void {
  if (error instanceof KeyupError) {
    console.error(`keyupd: ${error.userMessage}`);
    process.exitCode = error.exitCode;
  } else {
    console.error(`keyupd: an unexpected error stopped keyupd (${error instanceof Error ? error.message : String(error)}). Run again with --debug for details.`);
    process.exitCode = ExitCode.failed;
  }
  if (debug && error instanceof Error) console.error(error.stack);
}

async function main(): Promise<void> {
  let argv;
  try {
    argv = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    // One sentence, whatever the parser's wording.
    const problem = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim().replace(/\.?$/, '.');
    console.error(`keyupd: ${problem} Run keyupd --help for usage.`);
    process.exitCode = ExitCode.usage;
    return;
  }
  if (argv.help) {
    process.stdout.write(HELP);
    return;
  }
  if (argv.version) {
    const { readVersion } = await import('../version.js');
    console.log(readVersion());
    return;
  }
  if (!argv.once) {
    try {
      const { runDaemon } = await import('../daemon/run.js');
      process.exitCode = await runDaemon({
        env: process.env,
        home: homedir(),
        ...(argv.config === undefined ? {} : { configFlag: argv.config }),
        ...(argv.socket === undefined ? {} : { socketFlag: argv.socket }),
        ...(argv['log-level'] === undefined ? {} : { logLevel: argv['log-level'] }),
      });
    } catch (error) {
      report(error, argv.debug);
    }
    return;
  }
  // SIGTERM or Ctrl-C stops the check at a resumable point (the journal carries on at the next
  // run); a second one does not wait for that.
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(ExitCode.failed);
    stop.abort();
  };
  process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  try {
    // Loaded only now: the AWS SDK it pulls in would slow --help and usage errors.
    const { runOnce } = await import('../once.js');
    process.exitCode = await runOnce({
      env: process.env,
      home: homedir(),
      ...(argv.config === undefined ? {} : { configFlag: argv.config }),
      ...(argv['log-level'] === undefined ? {} : { logLevel: argv['log-level'] }),
      print: (line) => console.log(`keyupd: ${line}`),
      ...(argv.debug ? { printDebug: (text: string) => console.error(text) } : {}),
      // At a terminal, a profile IAM changes only with MFA asks for the code; from cron it is reported.
      ...(process.stdin.isTTY === true ? { ask: (await import('../terminal/ask.js')).askAtTerminal } : {}),
      signal: stop.signal,
    });
  } catch (error) {
    report(error, argv.debug);
  } finally {
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
  }
}

await main();
