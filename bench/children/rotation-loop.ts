/**
 * What both sides of "CPU per rotation" share: the command line, a user seeded in the emulator,
 * and the loop that measures each rotation's `process.cpuUsage()` after a warm-up.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { ControlClient } from '../../emulator/control-client.js';
import { DAY_MS, type SeededKey } from '../fixtures.js';

export interface LoopInit {
  readonly endpoint: string;
  /** The IAM user to make for this child: each child needs its own. */
  readonly userName: string;
  readonly rotations: number;
  readonly warmup: number;
}

/** The samples a child prints as one JSON line. */
export interface LoopResult {
  readonly cpuMs: number[];
  /** The kernel's part of cpuMs: file-system and network calls. */
  readonly systemMs: number[];
  readonly wallMs: number[];
  /** What went wrong in a rotation, if anything did; such a rotation is not a sample. */
  readonly failures: string[];
}

/** `--endpoint URL --user NAME --rotations N --warmup N`. */
export function readLoopInit(argv: readonly string[]): LoopInit {
  const { values } = parseArgs({ args: [...argv], options: { endpoint: { type: 'string' }, user: { type: 'string' }, rotations: { type: 'string' }, warmup: { type: 'string' } } });
  if (values.endpoint === undefined || values.user === undefined) throw new Error('--endpoint and --user are required');
  return { endpoint: values.endpoint, userName: values.user, rotations: Number(values.rotations ?? 20), warmup: Number(values.warmup ?? 3) };
}

/** A user with one 100-day-old key, made over the emulator's control API. */
export async function seedUser({ endpoint, userName }: LoopInit): Promise<SeededKey> {
  const control = new ControlClient({ endpoint });
  await control.createUser({ userName });
  const key = await control.createAccessKey({ userName, createDate: new Date(Date.now() - 100 * DAY_MS).toISOString() });
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

/**
 * Runs `rotate` warmup + rotations times, one after the other, and keeps the CPU time (user +
 * system) and wall time of each after the warm-up: module loading and JIT compilation are a
 * cold start's cost, not a rotation's.
 */
export async function measureRotations({ rotations, warmup }: LoopInit, rotate: () => Promise<string | undefined>): Promise<LoopResult> {
  const result: LoopResult = { cpuMs: [], systemMs: [], wallMs: [], failures: [] };
  for (let index = 0; index < warmup + rotations; index++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const failure = await rotate();
    const wallMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (failure !== undefined) result.failures.push(failure);
    else if (index >= warmup) {
      result.cpuMs.push((used.user + used.system) / 1000);
      result.systemMs.push(used.system / 1000);
      result.wallMs.push(wallMs);
    }
  }
  return result;
}
