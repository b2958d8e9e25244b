#!/usr/bin/env node
/**
 * keyupctl's composition root: this process's streams, environment and clock, handed to
 * runKeyupctl. It sets process.exitCode and never calls process.exit(), so that what was written
 * to a pipe is flushed before the process ends.
 */
import { homedir } from 'node:os';
import { request } from '../ipc/client.js';
import { runKeyupctl } from '../ctl/main.js';

/** A reader that went away (`keyupctl status | head -1`) is not keyupctl's failure. */
function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}
process.stdout.on('error', ignoreClosedPipe);
process.stderr.on('error', ignoreClosedPipe);

/** The MFA prompt, on stderr so that stdout stays the command's output. Loaded only when asked. */
async function ask(question: string): Promise<string | undefined> {
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-C or Ctrl-D at the prompt is no answer (the profile is reported as needing MFA). Closing
  // alone would leave the question unsettled, and the process would end mid-await (exit 13).
  const giveUp = new AbortController();
  terminal.on('SIGINT', () => giveUp.abort()).on('close', () => giveUp.abort());
  try {
    return await terminal.question(question, { signal: giveUp.signal });
  } catch {
    return undefined;
  } finally {
    terminal.close();
  }
}

// No top-level await: keyupctl ships as one CommonJS bundle (see package.json "bundle"), which
// starts faster than an ES module graph and cannot wait at its top level.
void runKeyupctl(process.argv.slice(2), {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  env: process.env,
  home: homedir(),
  stdoutIsTTY: process.stdout.isTTY === true,
  request,
  now: () => new Date(),
  // Only --version needs it (and node:fs): loaded then.
  readVersion: async () => (await import('../version.js')).readVersion(),
  // Not process.stdin at start: creating that stream costs milliseconds keyupctl status has not got.
  getAsk: () => (process.stdin.isTTY === true ? ask : undefined),
  loadService: () => import('../service/install.js'),
}).then((code) => {
  process.exitCode = code;
});
