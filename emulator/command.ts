import { parseArgs } from 'node:util';
import { startEmulator, type Emulator, type EmulatorOptions, type RateLimitSettings } from './index.js';

export const USAGE =
  'usage: keyup-emulator [--port N] [--host ADDRESS] [--activation-delay-ms N] [--account-id ID]\n' +
  '                      [--iam-rate PER_SECOND [--iam-burst N]] [--sts-rate PER_SECOND [--sts-burst N]]';

/** A command-line mistake: the command prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function parseNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) throw new UsageError(`${flag} must be a whole number, not '${value}'.`);
  return number;
}

function parseRate(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value) || !Number.isFinite(rate) || rate <= 0) {
    throw new UsageError(`${flag} must be a number above 0, not '${value}'.`);
  }
  return rate;
}

/** `--iam-rate 20 --iam-burst 40 --sts-rate 600` as `startEmulator`'s `rateLimit`, or undefined. */
function parseRateLimit(values: Record<string, string | undefined>): RateLimitSettings | undefined {
  const settings: RateLimitSettings = {};
  for (const service of ['iam', 'sts'] as const) {
    const rate = parseRate(values[`${service}-rate`], `--${service}-rate`);
    const burst = parseNumber(values[`${service}-burst`], `--${service}-burst`);
    if (burst !== undefined && rate === undefined) throw new UsageError(`--${service}-burst needs --${service}-rate.`);
    if (burst === 0) throw new UsageError(`--${service}-burst must be at least 1.`);
    if (rate !== undefined) settings[service] = burst === undefined ? { rate } : { rate, burst };
  }
  return Object.keys(settings).length === 0 ? undefined : settings;
}

/** Reads the command's flags into emulator options. */
export function parseCommandLine(argv: readonly string[]): EmulatorOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'activation-delay-ms': { type: 'string' },
        'account-id': { type: 'string' },
        'iam-rate': { type: 'string' },
        'iam-burst': { type: 'string' },
        'sts-rate': { type: 'string' },
        'sts-burst': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const port = parseNumber(values.port, '--port');
  if (port !== undefined && port > 65_535) throw new UsageError('--port must be at most 65535.');
  const accountId = values['account-id'];
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) throw new UsageError('--account-id must be 12 digits.');
  return {
    port,
    host: values.host,
    activationDelayMs: parseNumber(values['activation-delay-ms'], '--activation-delay-ms'),
    accountId,
    rateLimit: parseRateLimit(values),
  };
}

export interface RunCommandInit {
  argv: readonly string[];
  /** Where the one ready line goes. */
  writeLine: (line: string) => void;
  /** Resolves when the command should stop (SIGTERM, SIGINT). */
  stopRequested: Promise<unknown>;
}

/**
 * Starts the emulator, announces `{"endpoint": …}` on one line once it accepts requests, and
 * stops it when asked. Resolves once stopped.
 */
export async function runEmulatorCommand({ argv, writeLine, stopRequested }: RunCommandInit): Promise<void> {
  const options = parseCommandLine(argv);
  // Options left undefined by the command line must not override startEmulator's defaults.
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const emulator: Emulator = await startEmulator(defined);
  writeLine(JSON.stringify({ endpoint: emulator.endpoint }));
  await stopRequested;
  await emulator.stop();
}
