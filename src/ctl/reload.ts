import { ExitCode } from '../errors.js';
import type { CommandContext } from './context.js';
import { readReload } from './replies.js';

/**
 * `keyupctl reload`. A configuration keyupd refused is bad configuration: exit 2, with the
 * daemon's sentence (file, line, key) and the reassurance that the previous one still runs.
 */
export async function runReload(ctx: CommandContext, reply: Promise<unknown>): Promise<ExitCode> {
  const { reloaded, config_error: problem } = readReload(await reply);
  if (reloaded && problem === null) {
    ctx.out('keyupd re-read its configuration and the credentials file.\n');
    return ExitCode.ok;
  }
  const why = problem === null ? 'keyupd did not take the new configuration.' : `${problem.message}${problem.hint === null ? '' : ` ${problem.hint}`}`;
  ctx.err(`keyupctl: ${why} keyupd keeps running the previous configuration.\n`);
  return ExitCode.usage;
}
