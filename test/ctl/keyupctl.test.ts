import { execFile, spawn } from 'node:child_process';
import { access, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { ExitCode, KeyupError } from '../../src/errors.js';
import type { RequestContext } from '../../src/ipc/server.js';
import { startFakeServer, stopFakeServer, withDeadline } from '../ipc/socket-helpers.js';
import { createCtlScene, makeStatus } from './ctl-harness.js';

const buildDir = inject('buildDir');
const ESC = '\u001b';

const KEYS_DOC = [
  {
    profile: 'default',
    user: 'alice',
    account: '123456789012',
    keys: [
      { key_id: 'AKIAIOSFODNN7EXAMPLE', status: 'Active', created: '2026-10-01T09:00:00Z', age_days: 54.2, last_used: { date: '2026-11-20T08:00:00Z', service: 's3', region: 'eu-west-1' }, in_profiles: ['default', 'legacy (AWS config)'], managed: true },
      { key_id: 'AKIAOTHEROTHEROTHER1', status: 'Inactive', created: '2026-11-20T09:00:00Z', age_days: 4, last_used: null, in_profiles: [], managed: false },
    ],
    error: null,
  },
];

const CONFIG_DOC = {
  file: '/home/alice/.config/keyup/config',
  keyup: { max_age_days: { value: 90, source: 'default' }, schedule: { value: '0 7 * * *', source: 'file:2' } },
  profiles: { default: { max_age_days: { value: 30, source: 'file:9' } } },
};

/** A rotation as the daemon reports it: steps, several refused verify attempts, the end. */
function notifyRotation(ctx: RequestContext, profile: string): void {
  const step = (step: string, elapsed_ms: number, text: string, data: Record<string, unknown> = {}) => ctx.notify('rotate.progress', { type: 'step', profile, step, elapsed_ms, text, data });
  step('identify', 10, `Checking which IAM user the key AKIA…1234 in profile ${profile} belongs to.`, { key_id: 'AKIAOLDOLDOLDOLD1234' });
  step('assess', 120, 'The key AKIA…1234 of user alice is 95.0 days old (rotated at 90 days).', { key_id: 'AKIAOLDOLDOLDOLD1234', age_days: 95, age_state: 'due' });
  step('make-room', 200, 'Deleted the inactive key AKIA…DEAD of user alice to make room for the new key.', { deleted_key_id: 'AKIADEADDEADDEADDEAD' });
  step('create', 300, 'Creating a new key for user alice.', { attempt: 1 });
  step('create', 900, 'Created the new key AKIA…5678 for user alice.', { new_key_id: 'AKIANEWNEWNEWNEW5678' });
  step('verify', 1000, 'Waiting for AWS to accept the new key AKIA…5678.', { new_key_id: 'AKIANEWNEWNEWNEW5678', attempt: 0, streak: 0, outcome: null });
  // Eight refused attempts over 3.3 s: at most one line per second of waiting.
  for (const [attempt, at] of [1200, 1500, 1900, 2100, 2700, 3100, 3900, 4300].entries()) {
    step('verify', at, 'IAM has not spread the new key yet; waiting.', { new_key_id: 'AKIANEWNEWNEWNEW5678', attempt: attempt + 1, streak: 0, outcome: 'refused' });
  }
  step('verify', 4400, 'AWS accepts the new key AKIA…5678 as user alice.', { new_key_id: 'AKIANEWNEWNEWNEW5678', verified: true });
  step('write', 4500, `Wrote the new key AKIA…5678 to profile ${profile} of /home/alice/.aws/credentials.`, { new_key_id: 'AKIANEWNEWNEWNEW5678', profiles: profile });
  step('retire', 12_300, 'Deleted the old key AKIA…1234.', { old_key_id: 'AKIAOLDOLDOLDOLD1234', action: 'delete' });
}

function rotatedOutcome(profile: string) {
  return {
    kind: 'rotated',
    profile,
    user: 'alice',
    account: '123456789012',
    old_key_id: 'AKIAOLDOLDOLDOLD1234',
    new_key_id: 'AKIANEWNEWNEWNEW5678',
    key_created: '2026-11-24T10:00:00Z',
    holders: [{ file: 'credentials', profile }],
    notes: ['Deleted the inactive key AKIA…DEAD of user alice to make room for the new key.'],
  };
}

describe('keyupctl status', () => {
  it('shows the header, a row per profile with masked keys, ages, marks, deferrals and errors', async () => {
    const scene = await createCtlScene(buildDir);
    await scene.startDaemon({ status: async () => makeStatus() });
    const run = await scene.run(['status']);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^keyupd 1\.0\.0, pid 4242, up since 2026-11-24 07:00 · schedule 0 7 \* \* \* · next check 2026-11-25 07:00 \((in|\d).*\)$/);
    const header = lines.find((line) => line.startsWith('PROFILE'));
    expect(header).toMatch(/^PROFILE\s+USER\s+KEY\s+AGE\s+STATE\s+NEXT \/ LAST ROTATION\s+ERROR \/ DEFERRED$/);
    const row = (profile: string) => lines.find((line) => line.startsWith(`${profile} `)) ?? '';
    expect(row('default')).toMatch(/^default\s+alice\s+AKIA…MPLE\s+54\.2d\s+✓ ok\s+2026-12-30 \/ 2026-10-01$/);
    expect(row('ci-bot')).toMatch(/‖ deferred\s+after the session \/ never\s+by session until 2026-11-24 14:00$/);
    expect(row('broken')).toMatch(/^broken\s+-\s+-\s+-\s+✗ error\s+- \/ never\s+The key AKIA…0000 in profile broken is not valid: AWS does not accept it\.$/);
    expect(lines).toContain('broken: Put a working access key in profile broken.');
    // Aligned: every row's STATE starts in the header's STATE column.
    const column = header!.indexOf('STATE');
    for (const profile of ['default', 'ci-bot', 'broken']) expect([...row(profile)].slice(column, column + 1).join('')).toMatch(/[✓‖✗]/);
    expect(run.stdout).not.toContain(ESC);
    expect(run.stdout).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('--json prints exactly the daemon’s document, one JSON value and a newline', async () => {
    const scene = await createCtlScene(buildDir);
    const status = makeStatus();
    await scene.startDaemon({ status: async () => status });
    const run = await scene.run(['status', '--json']);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(run.stdout).toBe(`${JSON.stringify(status)}\n`);
    const parsed = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(expect.arrayContaining(['version', 'pid', 'started', 'schedule', 'next_check', 'config_error', 'profiles']));
    expect(Object.keys((parsed.profiles as Record<string, unknown>[])[0]!)).toEqual(
      expect.arrayContaining(['profile', 'user', 'account', 'key_id', 'key_created', 'key_age_days', 'max_age_days', 'state', 'deferred_by', 'deferred_until', 'last_rotation', 'error']),
    );
  });

  it('says a refused configuration prominently, and that keyupd waits for the network', async () => {
    const scene = await createCtlScene(buildDir);
    const configError = { code: 'config-invalid', message: '/home/alice/.config/keyup/config, line 3: unknown key max_age.', hint: 'Fix or remove the key.' };
    await scene.startDaemon({ status: async () => makeStatus({ config_error: configError, waiting_for_network: true }) });
    const run = await scene.run(['status']);
    expect(run.code).toBe(ExitCode.ok);
    const lines = run.stdout.split('\n');
    expect(lines[1]).toBe('Configuration not applied: /home/alice/.config/keyup/config, line 3: unknown key max_age. Fix or remove the key. keyupd keeps running the previous configuration.');
    expect(lines[2]).toMatch(/waiting for the network/);
  });

  it('reaches the socket named by --socket and by KEYUP_SOCKET', async () => {
    const scene = await createCtlScene(buildDir);
    const elsewhere = `${scene.home.dir}/other.sock`;
    const fake = await startFakeServer(elsewhere, (socket) => socket.end(`${JSON.stringify({ jsonrpc: '2.0', id: 1, result: makeStatus({ pid: 777 }) })}\n`));
    try {
      expect((await scene.run(['--socket', elsewhere, 'status', '--json'])).stdout).toContain('"pid":777');
      expect((await scene.run(['status', '--json'], { env: { KEYUP_SOCKET: elsewhere } })).stdout).toContain('"pid":777');
    } finally {
      await stopFakeServer(fake);
    }
  });
});

describe('keyupctl rotate now', () => {
  it('prints each step as it comes, the wait for IAM at most once a second, notes once, and the result', async () => {
    const scene = await createCtlScene(buildDir);
    const seen: unknown[] = [];
    await scene.startDaemon({
      rotate: async (params, ctx) => {
        seen.push(params);
        notifyRotation(ctx, 'default');
        ctx.notify('rotate.progress', { type: 'end', profile: 'default', elapsed_ms: 12_345, outcome: rotatedOutcome('default') });
        return { outcomes: [rotatedOutcome('default')] };
      },
    });
    const run = await scene.run(['rotate', 'now']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.ok);
    expect(seen).toEqual([{}]);
    expect(run.stdout.split('\n')).toEqual([
      'default: checking which IAM user the key AKIA…1234 in profile default belongs to',
      'default: the key AKIA…1234 of user alice is 95.0 days old (rotated at 90 days)',
      'default: deleted the inactive key AKIA…DEAD of user alice to make room for the new key',
      'default: creating new key…',
      'default: created new key AKIA…5678',
      'default: waiting for IAM to accept the new key AKIA…5678…',
      'default: waiting for IAM to accept the new key (1.1 s)…',
      'default: waiting for IAM to accept the new key (2.1 s)…',
      'default: waiting for IAM to accept the new key (3.3 s)…',
      'default: AWS accepts the new key after 3.4 s',
      'default: credentials file updated',
      'default: old key AKIA…1234 deleted',
      'default: rotated AKIA…1234 → AKIA…5678 (12.3 s)',
      '',
    ]);
  });

  it('sends --profile, --force and --mfa-code to keyupd', async () => {
    const scene = await createCtlScene(buildDir);
    const seen: unknown[] = [];
    await scene.startDaemon({
      rotate: async (params) => {
        seen.push(params);
        return { outcomes: [] };
      },
    });
    const run = await scene.run(['rotate', 'now', '--profile', 'default', '--profile', 'ci-bot', '--force', '--mfa-code', '123456']);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(seen).toEqual([{ profiles: ['default', 'ci-bot'], force: true, mfa_code: '123456' }]);
  });

  it('exits 0 when a profile is busy, naming the process', async () => {
    const scene = await createCtlScene(buildDir);
    const busy = { kind: 'busy', profile: 'default', pid: 123, rotating: 'default', since: '2026-11-24T09:59:00Z', notes: [] };
    await scene.startDaemon({
      rotate: async (_params, ctx) => {
        ctx.notify('rotate.progress', { type: 'end', profile: 'default', elapsed_ms: 5, outcome: busy });
        return { outcomes: [busy, rotatedOutcome('work')] };
      },
    });
    const run = await scene.run(['rotate', 'now']);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(run.stdout).toContain('default: busy: keyup process 123 is rotating it (since 2026-11-24 09:59); left to it\n');
    // An outcome no end event told of is still printed, from the result.
    expect(run.stdout).toContain('work: rotated AKIA…1234 → AKIA…5678\n');
  });

  it('exits 1 on any failure, with its sentence and hint on stderr', async () => {
    const scene = await createCtlScene(buildDir);
    const failed = { kind: 'failed', profile: 'default', error: { code: 'access-denied', message: 'IAM refused iam:CreateAccessKey for user alice.', hint: 'Allow it in the policy.' }, notes: [] };
    const deferred = { kind: 'deferred', profile: 'ci-bot', user: 'ci', key_id: 'AKIACIBOTCIBOTCI9999', deferral: { reason: 'active-session', profile: 'session', until: '2026-11-24T14:00:00Z' }, notes: [] };
    await scene.startDaemon({ rotate: async () => ({ outcomes: [failed, deferred] }) });
    const run = await scene.run(['rotate', 'now']);
    expect(run.code).toBe(ExitCode.failed);
    expect(run.stderr).toBe('keyupctl: default: IAM refused iam:CreateAccessKey for user alice. Allow it in the policy.\n');
  });

  it('exits 4 when a rotation is deferred and nothing failed, naming the session’s profile and until when', async () => {
    const scene = await createCtlScene(buildDir);
    const deferred = { kind: 'deferred', profile: 'default', user: 'alice', key_id: 'AKIAOLDOLDOLDOLD1234', deferral: { reason: 'active-session', profile: 'session', until: '2026-11-24T14:00:00Z' }, notes: [] };
    await scene.startDaemon({
      rotate: async (_params, ctx) => {
        ctx.notify('rotate.progress', { type: 'end', profile: 'default', elapsed_ms: 700, outcome: deferred });
        return { outcomes: [deferred] };
      },
    });
    const run = await scene.run(['rotate', 'now']);
    expect(run).toMatchObject({ code: ExitCode.deferred, stderr: '' });
    expect(run.stdout).toBe('default: deferred until 2026-11-24 14:00: profile session holds temporary credentials that AWS still accepts; keyupctl rotate now --force rotates anyway\n');
  });

  it('exits 2 with the daemon’s list of managed profiles for a profile keyup does not manage', async () => {
    const scene = await createCtlScene(buildDir);
    await scene.startDaemon({
      rotate: async () => {
        throw new KeyupError('keyup does not manage the profile nope; it manages default, ci-bot.', { exitCode: ExitCode.usage, code: 'usage', hint: 'Name one of those.' });
      },
    });
    const run = await scene.run(['rotate', 'now', '--profile', 'nope']);
    expect(run).toMatchObject({ code: ExitCode.usage, stdout: '' });
    expect(run.stderr).toBe('keyupctl: keyup does not manage the profile nope; it manages default, ci-bot. Name one of those.\n');
  });

  it('refuses an --mfa-code that is not six digits without asking keyupd', async () => {
    const scene = await createCtlScene(buildDir);
    const run = await scene.run(['rotate', 'now', '--mfa-code', '12ab']);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toMatch(/^keyupctl: --mfa-code takes the six digits/);
  });
});

describe('keyupctl keys', () => {
  it('shows each profile’s keys in a table', async () => {
    const scene = await createCtlScene(buildDir);
    const seen: unknown[] = [];
    await scene.startDaemon({
      keys: async (params) => {
        seen.push(params);
        return KEYS_DOC;
      },
    });
    const run = await scene.run(['keys', '--profile', 'default']);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(seen).toEqual([{ profile: 'default' }]);
    expect(run.stdout.split('\n')).toEqual([
      'default (user alice, account 123456789012)',
      'KEY ID                STATUS    CREATED     AGE    LAST USED                PROFILES                      MANAGED',
      'AKIAIOSFODNN7EXAMPLE  Active    2026-10-01  54.2d  2026-11-20 s3 eu-west-1  default, legacy (AWS config)  yes',
      'AKIAOTHEROTHEROTHER1  Inactive  2026-11-20  4.0d   never                    -',
      '',
    ]);
  });

  it('--json prints exactly the daemon’s answer (SPEC’s shape)', async () => {
    const scene = await createCtlScene(buildDir);
    await scene.startDaemon({ keys: async () => KEYS_DOC });
    const run = await scene.run(['keys', '--json']);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '', stdout: `${JSON.stringify(KEYS_DOC)}\n` });
    const [first] = JSON.parse(run.stdout) as { keys: Record<string, unknown>[] }[];
    expect(Object.keys(first!)).toEqual(expect.arrayContaining(['profile', 'user', 'account', 'keys']));
    expect(Object.keys(first!.keys[0]!)).toEqual(expect.arrayContaining(['key_id', 'status', 'created', 'age_days', 'last_used', 'in_profiles', 'managed']));
  });

  it('exits 1 when a profile’s keys could not be listed, and still shows the others', async () => {
    const scene = await createCtlScene(buildDir);
    const failed = { profile: 'broken', user: null, account: null, keys: [], error: { code: 'key-invalid', message: 'The key AKIA…0000 in profile broken is not valid.', hint: 'Put a working key in it.' } };
    await scene.startDaemon({ keys: async () => [...KEYS_DOC, failed] });
    const run = await scene.run(['keys']);
    expect(run.code).toBe(ExitCode.failed);
    expect(run.stdout).toContain('AKIAIOSFODNN7EXAMPLE');
    expect(run.stderr).toBe('keyupctl: broken: The key AKIA…0000 in profile broken is not valid. Put a working key in it.\n');
  });
});

describe('keyupctl config and reload', () => {
  it('config shows each value with its source; --json prints the daemon’s document', async () => {
    const scene = await createCtlScene(buildDir);
    await scene.startDaemon({ config: async () => CONFIG_DOC });
    const human = await scene.run(['config']);
    expect(human).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(human.stdout).toBe(
      [
        '; keyup configuration from /home/alice/.config/keyup/config',
        '',
        '[keyup]',
        'max_age_days = 90     ; default',
        'schedule = 0 7 * * *  ; file:2',
        '',
        '[profile default]',
        'max_age_days = 30     ; file:9',
        '',
      ].join('\n'),
    );
    const json = await scene.run(['config', '--json']);
    expect(json).toMatchObject({ code: ExitCode.ok, stderr: '', stdout: `${JSON.stringify(CONFIG_DOC)}\n` });
    expect(Object.keys(JSON.parse(json.stdout) as object)).toEqual(['file', 'keyup', 'profiles']);
  });

  it('reload says it re-read; a refused configuration exits 2 and says the previous one runs', async () => {
    const scene = await createCtlScene(buildDir);
    let refuse = false;
    await scene.startDaemon({
      reload: async () => (refuse ? { reloaded: false, config_error: { code: 'config-invalid', message: '/c/config, line 4: bad value for max_age_days.', hint: 'Give a number of days.' } } : { reloaded: true, config_error: null }),
    });
    expect(await scene.run(['reload'])).toMatchObject({ code: ExitCode.ok, stdout: 'keyupd re-read its configuration and the credentials file.\n', stderr: '' });
    refuse = true;
    const refused = await scene.run(['reload']);
    expect(refused).toMatchObject({ code: ExitCode.usage, stdout: '' });
    expect(refused.stderr).toBe('keyupctl: /c/config, line 4: bad value for max_age_days. Give a number of days. keyupd keeps running the previous configuration.\n');
  });
});

describe('keyupctl when keyupd cannot be reached or answers badly', () => {
  it('exits 3 with one sentence and how to start keyupd when nothing listens', async () => {
    const scene = await createCtlScene(buildDir);
    for (const command of [['status'], ['rotate', 'now'], ['keys'], ['config'], ['reload']]) {
      const run = await scene.run(command);
      expect(run).toMatchObject({ code: ExitCode.unreachable, stdout: '' });
      expect(run.stderr).toBe(`keyupctl: keyupd is not running (nothing listens at ${scene.socketPath}). Start it with \`keyupctl install\`, or run \`keyupd\` in a terminal.\n`);
    }
  });

  it('exits 1 with one sentence for a reply that is not JSON, one cut off, one of the wrong shape, and one too late', async () => {
    const scene = await createCtlScene(buildDir);
    await mkdir(dirname(scene.socketPath), { recursive: true, mode: 0o700 });
    let answer: (write: (text: string) => void, end: () => void) => void = () => undefined;
    const fake = await startFakeServer(scene.socketPath, (socket) => {
      socket.once('data', () => answer((text) => socket.write(text), () => socket.end()));
    });
    try {
      const cases: [string, (write: (text: string) => void, end: () => void) => void, RegExp, string[]][] = [
        ['not JSON', (write) => write('this is not json\n'), /^keyupctl: keyupd sent a reply keyupctl cannot read: a line that is not JSON\. /, []],
        ['cut off', (write, end) => (write('{"jsonrpc":"2.0","id":1,"res'), end()), /^keyupctl: keyupd closed the connection before answering status\. /, []],
        ['wrong shape', (write) => write('{"jsonrpc":"2.0","id":1,"result":{"hello":1}}\n'), /^keyupctl: keyupd sent a reply keyupctl cannot read: a status without version, pid or profiles\. /, []],
        ['late', () => undefined, /^keyupctl: keyupd did not answer status within 300 ms\. /, ['--timeout', '0.3']],
      ];
      for (const [what, reply, expected, extra] of cases) {
        answer = reply;
        const run = await scene.run(['status', ...extra]);
        expect({ what, code: run.code, stdout: run.stdout }).toEqual({ what, code: ExitCode.failed, stdout: '' });
        expect(run.stderr).toMatch(expected);
        expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      }
    } finally {
      await stopFakeServer(fake);
    }
  });
});

describe('keyupctl usage', () => {
  it('exits 2 with a short usage on stderr for an unknown command, an unknown flag, a missing value', async () => {
    const scene = await createCtlScene(buildDir);
    const cases: [string[], string][] = [
      [['frobnicate'], 'keyupctl: frobnicate is not a keyupctl command. Run keyupctl help for more.'],
      [['status', '--verbose'], 'keyupctl: status does not take --verbose. Run keyupctl help status for more.'],
      [['keys', '--profile'], 'keyupctl: --profile needs a value. Run keyupctl help keys for more.'],
      [['rotate'], 'keyupctl: rotate needs the word now: keyupctl rotate now. Run keyupctl help rotate for more.'],
      [[], 'keyupctl: Name a command, such as keyupctl status. Run keyupctl help for more.'],
    ];
    for (const [args, sentence] of cases) {
      const run = await scene.run(args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: ExitCode.usage, stdout: '' });
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe(sentence);
      expect(lines[1]).toMatch(/^keyupctl: usage: keyupctl /);
      expect(lines).toHaveLength(2);
    }
  });

  it('--help and help COMMAND print each command’s help, without keyupd', async () => {
    const scene = await createCtlScene(buildDir);
    for (const command of ['status', 'rotate', 'keys', 'config', 'reload', 'install', 'uninstall', 'completion', 'help']) {
      const viaFlag = await scene.run([command, ...(command === 'rotate' ? ['now'] : []), '--help']);
      expect({ command, code: viaFlag.code, stderr: viaFlag.stderr }).toEqual({ command, code: ExitCode.ok, stderr: '' });
      expect(viaFlag.stdout).toMatch(new RegExp(`^Usage: keyupctl ${command}\\b`));
      expect(viaFlag.stdout).toContain('--socket PATH');
      const viaHelp = await scene.run(['help', command]);
      expect(viaHelp.stdout).toBe(viaFlag.stdout);
    }
    const general = await scene.run(['--help']);
    expect(general.code).toBe(ExitCode.ok);
    for (const command of ['status [--json]', 'rotate now', 'keys', 'config', 'reload', 'install [--dry-run]', 'uninstall', 'completion']) expect(general.stdout).toContain(command);
    expect((await scene.run(['help', 'completion'])).stdout).toContain('source <(keyupctl completion)');
  });

  it('--version prints keyupctl’s version without keyupd', async () => {
    const scene = await createCtlScene(buildDir);
    const run = await scene.run(['--version']);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    const { version } = JSON.parse(await readFile(join(buildDir, '..', 'package.json'), 'utf8')) as { version: string };
    expect(run.stdout).toBe(`keyupctl ${version}\n`);
  });

  it('completion prints a script that bash -n accepts and that completes commands', async () => {
    const scene = await createCtlScene(buildDir);
    const run = await scene.run(['completion']);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(run.stdout).toContain('complete -F _keyupctl keyupctl');
    await promisify(execFile)('bash', ['-n', '-c', run.stdout]);
    // Sourced, it offers the commands for `keyupctl st<Tab>` and the options of keys.
    const script = `${run.stdout}\nCOMP_WORDS=(keyupctl st); COMP_CWORD=1; _keyupctl; echo "\${COMPREPLY[*]}"\nCOMP_WORDS=(keyupctl keys --j); COMP_CWORD=2; _keyupctl; echo "\${COMPREPLY[*]}"`;
    const { stdout } = await promisify(execFile)('bash', ['--norc', '-c', script], { env: { ...scene.home.env, PATH: process.env.PATH ?? '' } });
    expect(stdout).toBe('status\n--json\n');
    expect((await scene.run(['completion', 'zsh'])).stdout).toBe(run.stdout);
  });
});

describe('keyupctl rotate now at a terminal', () => {
  /** keyupctl in a real terminal (script(1) from util-linux), typing `answer` at the MFA prompt. */
  async function rotateAtTerminal(scene: Awaited<ReturnType<typeof createCtlScene>>, answer: string): Promise<{ code: number | null; output: string }> {
    const keyupctl = `${buildDir}/src/bin/keyupctl.cjs`;
    const child = spawn('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(keyupctl)} rotate now`, '/dev/null'], {
      env: { ...scene.home.env, PATH: process.env.PATH ?? '', TZ: 'UTC', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let answered = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (!answered && output.includes('MFA code: ')) {
        answered = true;
        child.stdin.write(answer);
      }
    });
    const code = await withDeadline(new Promise<number | null>((resolve) => child.on('close', resolve)), 'keyupctl at the terminal to finish', 15_000).finally(() => child.kill('SIGKILL'));
    return { code, output };
  }

  it.skipIf(process.platform !== 'linux')('asks for the MFA code IAM demands and rotates with it; Ctrl-C or Ctrl-D is no answer (exit 1), not a hang', async () => {
    const scene = await createCtlScene(buildDir);
    const seen: unknown[] = [];
    const needsMfa = { kind: 'failed', profile: 'default', error: { code: 'needs-mfa', message: 'IAM demands MFA to change the keys of alice.', hint: 'Give the code.' }, notes: [] };
    await scene.startDaemon({
      rotate: async (params) => {
        seen.push(params);
        return { outcomes: [(params as { mfa_code?: string }).mfa_code === undefined ? needsMfa : rotatedOutcome('default')] };
      },
    });
    const answered = await rotateAtTerminal(scene, '123456\r');
    expect(answered.code).toBe(ExitCode.ok);
    expect(answered.output).toMatch(/default: IAM wants an MFA code to change this key\r?\n.*default: MFA code: /s);
    expect(answered.output).toMatch(/default: rotated AKIA…1234 → AKIA…5678\r?\n/);
    expect(seen).toEqual([{}, { profiles: ['default'], mfa_code: '123456' }]);
    for (const giveUp of ['\u0003', '\u0004']) {
      const refused = await rotateAtTerminal(scene, giveUp);
      expect(refused.code).toBe(ExitCode.failed);
      expect(refused.output).toContain('keyupctl: default: IAM demands MFA to change the keys of alice. Give the code.');
    }
  });
});

describe('keyupctl install and uninstall', () => {
  // Only what changes nothing: a dry run, and an uninstall where nothing is installed. A real
  // install would enable a unit in the machine's own user service manager.
  it('install --dry-run shows the unit and the commands and writes nothing; uninstall of nothing does nothing', async () => {
    const scene = await createCtlScene(buildDir);
    const dry = await scene.run(['install', '--dry-run']);
    expect(dry).toMatchObject({ code: ExitCode.ok, stderr: '' });
    const written = /^Would write (\S+) \(mode 0600, a new file\):$/m.exec(dry.stdout)?.[1];
    expect(written).toMatch(new RegExp(`^${scene.home.dir}/`));
    expect(dry.stdout).toMatch(/^Would run: (systemctl|launchctl) /m);
    expect(dry.stdout).toContain(`${buildDir}/src/bin/keyupd.js`);
    await expect(access(written!)).rejects.toMatchObject({ code: 'ENOENT' });
    const uninstall = await scene.run(['uninstall']);
    expect(uninstall).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(uninstall.stdout).toMatch(/ is not installed \(there is no .*\); nothing to do\.\n$/);
  });
});

describe('keyupctl colour', () => {
  it('prints no escape code to a pipe, nor with NO_COLOR or --no-color', async () => {
    const scene = await createCtlScene(buildDir);
    await scene.startDaemon({ status: async () => makeStatus(), keys: async () => KEYS_DOC, config: async () => CONFIG_DOC });
    for (const [args, env] of [
      [['status'], {}],
      [['keys'], {}],
      [['config'], {}],
      [['status'], { NO_COLOR: '' }],
      [['status', '--no-color'], {}],
    ] as [string[], Record<string, string>][]) {
      const run = await scene.run(args, { env });
      expect(run.code).toBe(ExitCode.ok);
      expect(run.stdout + run.stderr).not.toContain(ESC);
    }
  });

  // A real terminal, through script(1) from util-linux: colour there, none with NO_COLOR or --no-color.
  it.skipIf(process.platform !== 'linux')('colours a terminal, unless NO_COLOR (any value) or --no-color says not to', async () => {
    const scene = await createCtlScene(buildDir);
    await scene.startDaemon({ status: async () => makeStatus() });
    const keyupctl = `${buildDir}/src/bin/keyupctl.cjs`;
    const onTerminal = async (flags: string, env: Record<string, string> = {}) => {
      const { stdout } = await promisify(execFile)('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(keyupctl)} status ${flags}`, '/dev/null'], {
        env: { ...scene.home.env, PATH: process.env.PATH ?? '', TZ: 'UTC', TERM: 'xterm', ...env },
      });
      return stdout;
    };
    expect(await onTerminal('')).toContain(`${ESC}[32m✓ ok${ESC}[39m`);
    expect(await onTerminal('', { NO_COLOR: '1' })).not.toContain(ESC);
    expect(await onTerminal('', { NO_COLOR: '' })).not.toContain(ESC);
    expect(await onTerminal('--no-color')).not.toContain(ESC);
  });
});
