import { describe, expect, it } from 'vitest';
import { getPinnedEnvironment, getServiceFile, pickServiceManager } from '../../src/service/platform.js';
import { escapeXml, fillTemplate, quoteSystemdWord, renderSystemdUnit } from '../../src/service/render.js';
import { describeCommandFailure, formatCommand } from '../../src/service/run-command.js';

describe('quoteSystemdWord', () => {
  it('leaves a plain path alone', () => {
    expect(quoteSystemdWord('/usr/lib/node_modules/keyup/dist/src/bin/keyupd.js', 'argument')).toBe('/usr/lib/node_modules/keyup/dist/src/bin/keyupd.js');
  });

  it('doubles % everywhere (a specifier) and $ only in arguments (a variable)', () => {
    expect(quoteSystemdWord('/opt/50%d/$HOME/node', 'executable')).toBe('/opt/50%%d/$HOME/node');
    expect(quoteSystemdWord('/opt/50%d/$HOME/keyupd.js', 'argument')).toBe('/opt/50%%d/$$HOME/keyupd.js');
    expect(quoteSystemdWord('KEYUP_CONFIG=/c/$HOME', 'assignment')).toBe('KEYUP_CONFIG=/c/$HOME');
  });

  it('double-quotes a word with spaces or quotes, escaping backslashes and double quotes', () => {
    expect(quoteSystemdWord('/Users/Jane Doe/node', 'executable')).toBe('"/Users/Jane Doe/node"');
    expect(quoteSystemdWord(`/a "b" it's\\x`, 'argument')).toBe(`"/a \\"b\\" it's\\\\x"`);
  });

  it('refuses what systemd cannot run or hold, with a plain sentence', () => {
    expect(() => quoteSystemdWord('/opt/"odd"/node', 'executable')).toThrow(expect.objectContaining({ code: 'service-failed', exitCode: 1 }));
    // A line break would let a path add a directive of its own.
    expect(() => quoteSystemdWord('/tmp/x\nExecStartPre=/bin/evil', 'argument')).toThrow(/line break or another control character/);
  });
});

describe('fillTemplate', () => {
  it('fills words and whole-line blocks, keeping the block’s indentation, and drops a block with no lines', () => {
    const template = 'a={{x}}\n  # {{list}}\n<dict>\n    <!-- {{list}} -->\n</dict>\n';
    expect(fillTemplate(template, { x: '1' }, { list: ['k=1', 'k=2'] })).toBe('a=1\n  k=1\n  k=2\n<dict>\n    k=1\n    k=2\n</dict>\n');
    expect(fillTemplate(template, { x: '1' }, { list: [] })).toBe('a=1\n<dict>\n</dict>\n');
  });

  it('refuses a placeholder it has no value for, and a value with no placeholder (a bug in keyup, not a unit with holes)', () => {
    expect(() => fillTemplate('a={{x}} {{y}}', { x: '1' }, {})).toThrow('{{y}}');
    expect(() => fillTemplate('a={{x}}', { x: '1', y: '2' }, {})).toThrow('lacks the placeholders {{y}}');
  });

  it('renders Environment= lines that systemd reads back as the values', () => {
    const unit = renderSystemdUnit('ExecStart={{node}} {{keyupd}}\n# {{environment}}\n', { node: '/n', keyupd: '/k', environment: [['XDG_STATE_HOME', '/s'], ['KEYUP_CONFIG', '/a b/100%']] });
    expect(unit).toBe('ExecStart=/n /k\nEnvironment=XDG_STATE_HOME=/s\nEnvironment="KEYUP_CONFIG=/a b/100%%"\n');
  });
});

describe('escapeXml', () => {
  it('escapes what XML text cannot hold as is', () => {
    expect(escapeXml('/Users/a & b/<x>')).toBe('/Users/a &amp; b/&lt;x&gt;');
    expect(() => escapeXml('/a\u0007b')).toThrow(/control character/);
  });
});

describe('where the unit goes and what it pins', () => {
  it('picks systemd on Linux, launchd on macOS, and on anything else says there is none', () => {
    expect(pickServiceManager('linux')).toBe('systemd');
    expect(pickServiceManager('darwin')).toBe('launchd');
    expect(() => pickServiceManager('win32')).toThrow(expect.objectContaining({ code: 'no-service-manager', exitCode: 1 }));
  });

  it('puts the unit in $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user, and the agent in ~/Library/LaunchAgents', () => {
    expect(getServiceFile('systemd', {}, '/home/a')).toBe('/home/a/.config/systemd/user/keyupd.service');
    expect(getServiceFile('systemd', { XDG_CONFIG_HOME: '/cfg' }, '/home/a')).toBe('/cfg/systemd/user/keyupd.service');
    expect(getServiceFile('systemd', { XDG_CONFIG_HOME: '' }, '/home/a')).toBe('/home/a/.config/systemd/user/keyupd.service');
    expect(getServiceFile('launchd', { XDG_CONFIG_HOME: '/cfg' }, '/Users/a')).toBe('/Users/a/Library/LaunchAgents/dev.keyup.keyupd.plist');
  });

  it('pins the variables that choose keyup’s files, as absolute paths, and XDG_RUNTIME_DIR only for launchd', () => {
    const env = { KEYUP_CONFIG: '~/k.ini', XDG_STATE_HOME: '/state', XDG_RUNTIME_DIR: '/run/user/1', AWS_PROFILE: 'work', XDG_CONFIG_HOME: '' };
    expect(getPinnedEnvironment('systemd', env, '/home/a')).toEqual([
      ['KEYUP_CONFIG', '/home/a/k.ini'],
      ['XDG_STATE_HOME', '/state'],
    ]);
    expect(getPinnedEnvironment('launchd', env, '/home/a')).toContainEqual(['XDG_RUNTIME_DIR', '/run/user/1']);
  });
});

describe('commands in words', () => {
  it('quotes for a shell what a shell would split', () => {
    expect(formatCommand('launchctl', ['bootstrap', 'gui/501', "/Users/Jane O'Doe/x.plist"])).toBe(`launchctl bootstrap gui/501 '/Users/Jane O'\\''Doe/x.plist'`);
  });

  it('describes a failure by its first line and its status', () => {
    expect(describeCommandFailure({ exitCode: 5, stdout: '', stderr: 'Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n' })).toBe('Bootstrap failed: 5: Input/output error, exit status 5');
    expect(describeCommandFailure({ exitCode: null, stdout: '', stderr: '', failure: 'ENOENT' })).toBe('no such command');
    expect(describeCommandFailure({ exitCode: null, stdout: '', stderr: '', failure: 'ETIMEDOUT' })).toBe('no answer in time');
  });
});
