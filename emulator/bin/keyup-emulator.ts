#!/usr/bin/env node
import { USAGE, UsageError, runEmulatorCommand } from '../command.js';

const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});

runEmulatorCommand({
  argv: process.argv.slice(2),
  writeLine: (line) => process.stdout.write(`${line}\n`),
  stopRequested,
}).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`keyup-emulator: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`keyup-emulator: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
});
