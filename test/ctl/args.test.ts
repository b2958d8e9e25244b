import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { UsageError, parseCommandLine } from '../../src/ctl/args.js';
import { getShortUsage } from '../../src/ctl/help.js';

const globals = { socket: undefined, timeoutMs: undefined, noColor: false, debug: false };

function usageError(args: string[]): UsageError {
  try {
    parseCommandLine(args);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`parsed: ${args.join(' ')}`);
}

describe('parseCommandLine', () => {
  it('reads each command and its options', () => {
    expect(parseCommandLine(['status'])).toEqual({ command: 'status', json: false, globals });
    expect(parseCommandLine(['status', '--json'])).toEqual({ command: 'status', json: true, globals });
    expect(parseCommandLine(['rotate', 'now'])).toEqual({ command: 'rotate', profiles: [], force: false, mfaCode: undefined, globals });
    expect(parseCommandLine(['rotate', 'now', '--profile', 'a', '--profile=b', '--force', '--mfa-code', '012345'])).toEqual({ command: 'rotate', profiles: ['a', 'b'], force: true, mfaCode: '012345', globals });
    expect(parseCommandLine(['keys', '--profile', 'a', '--json'])).toEqual({ command: 'keys', profile: 'a', json: true, globals });
    expect(parseCommandLine(['config'])).toEqual({ command: 'config', json: false, globals });
    expect(parseCommandLine(['reload'])).toEqual({ command: 'reload', globals });
    expect(parseCommandLine(['install', '--dry-run'])).toEqual({ command: 'install', dryRun: true, globals });
    expect(parseCommandLine(['uninstall'])).toEqual({ command: 'uninstall', globals });
    expect(parseCommandLine(['completion', 'bash'])).toEqual({ command: 'completion', globals });
  });

  it('takes the global options before or after the command', () => {
    const expected = { command: 'status', json: true, globals: { socket: '/tmp/s.sock', timeoutMs: 2500, noColor: true, debug: true } };
    expect(parseCommandLine(['--socket', '/tmp/s.sock', '--timeout', '2.5', '--no-color', '--debug', 'status', '--json'])).toEqual(expected);
    expect(parseCommandLine(['status', '--json', '--socket=/tmp/s.sock', '--timeout=2.5', '--debug', '--no-color'])).toEqual(expected);
  });

  it('finds help and version wherever they are asked for', () => {
    expect(parseCommandLine(['--help'])).toMatchObject({ command: 'help', topic: undefined });
    expect(parseCommandLine(['-h', 'keys'])).toMatchObject({ command: 'help', topic: 'keys' });
    expect(parseCommandLine(['rotate', 'now', '--help'])).toMatchObject({ command: 'help', topic: 'rotate' });
    expect(parseCommandLine(['help', 'rotate', 'now'])).toMatchObject({ command: 'help', topic: 'rotate' });
    expect(parseCommandLine(['help'])).toMatchObject({ command: 'help', topic: undefined });
    expect(parseCommandLine(['help', '--help'])).toMatchObject({ command: 'help', topic: 'help' });
    expect(parseCommandLine(['--version'])).toMatchObject({ command: 'version' });
    expect(parseCommandLine(['status', '--version'])).toMatchObject({ command: 'version' });
  });

  it.each([
    [['frobnicate'], 'frobnicate is not a keyupctl command.', undefined],
    [['status', '--verbose'], 'status does not take --verbose.', 'status'],
    [['status', '-x'], 'status does not take -x.', 'status'],
    [['keys', '--force'], 'keys does not take --force.', 'keys'],
    [['status', 'extra'], 'status takes no argument extra.', 'status'],
    [['status', '--json=yes'], '--json takes no value.', 'status'],
    [['keys', '--profile'], '--profile needs a value.', 'keys'],
    [['keys', '--profile='], '--profile needs a profile name.', 'keys'],
    [['--socket', '--json', 'status'], '--socket needs a value.', 'status'],
    [['rotate'], 'rotate needs the word now: keyupctl rotate now.', 'rotate'],
    [['rotate', 'later'], 'rotate takes now, not later.', 'rotate'],
    [['rotate', 'now', 'please'], 'rotate now takes no argument please.', 'rotate'],
    [['rotate', 'now', '--mfa-code', '12345'], '--mfa-code takes the six digits your MFA device shows.', 'rotate'],
    [['status', '--timeout', '0'], '--timeout takes a number of seconds above 0, not "0".', 'status'],
    [['status', '--timeout', 'soon'], '--timeout takes a number of seconds above 0, not "soon".', 'status'],
    [['help', 'frobnicate'], 'frobnicate is not a keyupctl command.', undefined],
    [['completion', 'fish'], 'completion knows bash and zsh, not fish.', 'completion'],
    [['--json'], 'keyupctl does not take --json.', undefined],
    [[], 'Name a command, such as keyupctl status.', undefined],
  ])('refuses %j: %s', (args, message, command) => {
    const error = usageError(args);
    expect(error.message).toBe(message);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.code).toBe('usage');
    expect(error.command).toBe(command);
    expect(getShortUsage(error.command)).toMatch(/^usage: keyupctl /);
  });
});
