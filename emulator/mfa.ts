import { mfaCodeInvalid, mfaDeviceUnknown } from './aws-errors.js';
import type { EmulatorState, MfaDevice, User } from './state.js';

/**
 * How long a code, once accepted, is refused: a TOTP code's 30-second time step. AWS refuses a
 * code used twice (99designs/aws-vault#1110: two GetSessionToken calls in one window, the second
 * fails); it does not say for how long, and a code cannot outlive its step.
 */
export const CODE_REUSE_WINDOW_MS = 30_000;

/**
 * Checks an MFA code as GetSessionToken does and marks it used. A serial that is no device of
 * this user, or that names a U2F key (which the API cannot use), cannot be validated; a code the
 * device does not show now, or showed and was used within the window, is invalid. A refused code
 * changes nothing.
 */
export function acceptMfaCode(state: EmulatorState, user: User, serialNumber: string, tokenCode: string, nowMs: number): MfaDevice {
  const device = state.mfaDevices.get(serialNumber);
  if (device === undefined || device.userName !== user.name || device.kind === 'u2f') throw mfaDeviceUnknown();
  const usedAt = device.usedAt.get(tokenCode);
  if (!device.codes.includes(tokenCode) || (usedAt !== undefined && nowMs - usedAt < CODE_REUSE_WINDOW_MS)) throw mfaCodeInvalid();
  device.usedAt.set(tokenCode, nowMs);
  return device;
}
