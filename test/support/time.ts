/**
 * Time constants and key ages for tests. Kept free of imports so that any test or harness can
 * take them without loading the AWS SDK, the emulator or the engine.
 */

export const DAY_MS = 86_400_000;

/** The ISO date `days` days before now: the CreateDate of a key that old. */
export const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();
