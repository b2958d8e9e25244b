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

// No top-level await: keyupctl ships as one CommonJS bundle (tools/bundle-keyupctl.mjs), which
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
  // The MFA prompt: only where someone can answer it, and loaded only then.
  getAsk: () => (process.stdin.isTTY === true ? async (question: string) => (await import('../terminal/ask.js')).askAtTerminal(question) : undefined),
  loadService: () => import('../service/install.js'),
  loadSocketWatch: async () => (await import('../ipc/watch-socket-folder.js')).watchSocketFolder,
}).then((code) => {
  process.exitCode = code;
});
