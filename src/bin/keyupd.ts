#!/usr/bin/env node
import { homedir } from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, KeyupError } from '../errors.js';
import { readVersion } from '../version.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// keyup runs on Node 20 on purpose; the SDK's notice about its future Node 22 floor is not the user's concern.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const parser = yargs(hideBin(process.argv))
  .scriptName('keyupd')
  .usage('$0 [--once] [--config PATH] [--socket PATH] [--log-level LEVEL]\n\nWithout --once: the daemon, in the foreground (systemd or launchd supervise it; keyupctl install sets that up).')
  .option('config', { type: 'string', describe: 'keyup configuration file' })
  .option('socket', { type: 'string', describe: 'Unix socket the daemon serves (no use with --once)' })
  .option('log-level', { choices: LOG_LEVELS, describe: 'override log_level' })
  .option('once', { type: 'boolean', default: false, describe: 'run one check now: rotate what is due, print a summary, exit' })
  .option('debug', { type: 'boolean', default: false, describe: 'add stack traces to errors' })
  .strict()
  // Bad usage is reported below, once, with exit code 2; yargs must not exit by itself.
  .fail(false)
  .exitProcess(false)
  .help()
  .version('version', 'print the version and exit', readVersion());

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
    argv = await parser.parseAsync();
  } catch (error) {
    // yargs words some problems over two lines; a user gets one sentence.
    const problem = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim().replace(/\.?$/, '.');
    console.error(`keyupd: ${problem} Run keyupd --help for usage.`);
    process.exitCode = ExitCode.usage;
    return;
  }
  if (argv.help === true || argv.version === true) return;
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
      signal: stop.signal,
    });
  } catch (error) {
    report(error, argv.debug);
  } finally {
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
  }
}

await main();
