import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A stand-in systemd user manager, for tests that run the README's commands as written: `systemctl
 * --user` that records what it is asked and really starts and stops a `.service` unit from
 * `$XDG_CONFIG_HOME/systemd/user` (its ExecStart= as a detached process, with its Environment=
 * and RuntimeDirectory=), so that whatever the unit names is proved to start and to answer.
 * The manager's own environment is the caller's, as after `systemctl --user import-environment`.
 * Timers are only recorded as enabled. State (pids, logs) lives in `stateDir`.
 */
const SCRIPT = String.raw`'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const state = process.env.KEYUP_STAND_IN_STATE;
fs.appendFileSync(path.join(state, 'systemctl.log'), 'systemctl ' + args.join(' ') + '\n');
const home = process.env.HOME;
const unitDir = path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), 'systemd', 'user');

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}

/** The words of a unit line: double-quoted words with \ escapes, %% for %, $$ for $ in arguments. */
function words(text, inArguments) {
  const out = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let match;
  while ((match = re.exec(text)) !== null) {
    let word = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
    if (match[2] !== undefined && /["'\\]/.test(word)) fail('stand-in systemctl: cannot read ' + text);
    word = word.replaceAll('%%', '%');
    if (inArguments) word = word.replaceAll('$$', '$');
    out.push(word);
  }
  return out;
}

function readUnit(unit) {
  const file = path.join(unitDir, unit);
  if (!fs.existsSync(file)) fail('Failed to enable unit: Unit file ' + unit + ' does not exist.');
  const unitText = fs.readFileSync(file, 'utf8');
  const settings = { exec: undefined, environment: {}, runtimeDirectories: [] };
  for (const line of unitText.split('\n')) {
    const setting = /^(\w+)=(.*)$/.exec(line);
    if (setting === null) continue;
    const [, key, value] = setting;
    if (key === 'ExecStart') settings.exec = words(value, true);
    if (key === 'Environment') for (const assignment of words(value, false)) {
      const at = assignment.indexOf('=');
      settings.environment[assignment.slice(0, at)] = assignment.slice(at + 1);
    }
    if (key === 'RuntimeDirectory') settings.runtimeDirectories.push(...value.split(/\s+/));
  }
  if (unit.endsWith('.service') && settings.exec === undefined) fail('stand-in systemctl: ' + unit + ' has no ExecStart=');
  return settings;
}

const pidFile = (unit) => path.join(state, unit + '.pid');

/** Alive and not a zombie: nothing here reaps a detached service that ended. */
function isRunning(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync('/proc/' + pid + '/stat', 'utf8'));
  } catch {
    return true;
  }
}

function runningPid(unit) {
  const pid = Number(fs.existsSync(pidFile(unit)) ? fs.readFileSync(pidFile(unit), 'utf8') : NaN);
  return Number.isInteger(pid) && isRunning(pid) ? pid : undefined;
}

function start(unit) {
  if (!unit.endsWith('.service') || runningPid(unit) !== undefined) return;
  const settings = readUnit(unit);
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  for (const name of settings.runtimeDirectories) fs.mkdirSync(path.join(runtimeDir, name), { recursive: true, mode: 0o700 });
  const log = fs.openSync(path.join(state, unit + '.log'), 'a');
  const child = spawn(settings.exec[0], settings.exec.slice(1), { detached: true, cwd: home, stdio: ['ignore', log, log], env: { ...process.env, ...settings.environment } });
  fs.writeFileSync(pidFile(unit), String(child.pid));
  child.unref();
}

/** SIGTERM, then waits for the end as systemd does (TimeoutStopSec), SIGKILL past it. */
async function stop(unit) {
  const pid = runningPid(unit);
  fs.rmSync(pidFile(unit), { force: true });
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15000;
  while (isRunning(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main() {
  if (args[0] !== '--user') fail('stand-in systemctl: only --user');
  const [verb, ...rest] = args.slice(1);
  const now = rest.includes('--now');
  const units = rest.filter((arg) => !arg.startsWith('-'));
  switch (verb) {
    case 'show':
      process.stdout.write('Version=252\n');
      return;
    case 'daemon-reload':
      return;
    case 'enable':
      for (const unit of units) {
        readUnit(unit);
        fs.writeFileSync(path.join(state, unit + '.enabled'), '');
        if (now) start(unit);
      }
      return;
    case 'disable':
      for (const unit of units) {
        fs.rmSync(path.join(state, unit + '.enabled'), { force: true });
        if (now) await stop(unit);
      }
      return;
    case 'start':
      units.forEach(start);
      return;
    case 'stop':
      for (const unit of units) await stop(unit);
      return;
    case 'restart':
      for (const unit of units) {
        await stop(unit);
        start(unit);
      }
      return;
    default:
      fail('stand-in systemctl: unknown command ' + verb);
  }
}
main().catch((error) => fail(String(error)));
`;

export interface StandInUserManager {
  /** Every `systemctl …` line it was asked, in order. */
  readonly log: string;
  /** The pid file of a started unit. */
  pidFile(unit: string): string;
}

/** Writes `systemctl` into `binDir`; it keeps its state in `stateDir` (KEYUP_STAND_IN_STATE). */
export async function writeStandInUserManager(binDir: string, stateDir: string): Promise<StandInUserManager> {
  const script = join(stateDir, 'user-manager.cjs');
  await writeFile(script, SCRIPT);
  await writeFile(join(binDir, 'systemctl'), `#!/bin/sh\nKEYUP_STAND_IN_STATE='${stateDir}' exec '${process.execPath}' '${script}' "$@"\n`);
  await chmod(join(binDir, 'systemctl'), 0o755);
  return { log: join(stateDir, 'systemctl.log'), pidFile: (unit) => join(stateDir, `${unit}.pid`) };
}
