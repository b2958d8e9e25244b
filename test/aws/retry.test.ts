import { describe, expect, it } from 'vitest';
import { retry } from '../../src/aws/retry.js';

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });

describe('retry', () => {
  it('backs off with full jitter under a doubling ceiling, then succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 4) throw throttled();
        return 'done';
      },
      { baseDelayMs: 100, maxDelayMs: 250, random: () => 0.999, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('done');
    expect(waits).toEqual([99, 199, 249]);
  });

  it('gives up after the bounded number of attempts with the last error', async () => {
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        throw throttled();
      },
      { attempts: 3, sleep: async () => {} },
    );
    await expect(failing).rejects.toThrow('Rate exceeded');
    expect(calls).toBe(3);
  });

  it('does not retry an error that waiting cannot fix', async () => {
    let calls = 0;
    const denied = Object.assign(new Error('no'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await expect(
      retry(
        async () => {
          calls++;
          throw denied;
        },
        { sleep: async () => {} },
      ),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
  });
});
