import type { CallLog } from './call-log.js';
import type { FaultPlan } from './faults.js';
import { ACCESS_KEYS_PER_USER } from './iam-actions.js';
import { createHardwareMfaSerial, createMfaCode, createU2fSuffix } from './ids.js';
import { ACCESS_KEY_ID, USER_NAME } from './params.js';
import { qualifyIamAction } from './policy.js';
import type { RateLimiter } from './rate-limit.js';
import type { AccessKey, EmulatorState, MfaDevice, Session, User } from './state.js';
import type {
  AccessKeyInit,
  AccessKeyStatus,
  AccessKeyView,
  ActivationDelays,
  EmulatorControl,
  FaultInit,
  FaultKind,
  MfaCodesInit,
  MfaDeviceInit,
  MfaDeviceKind,
  MfaDeviceView,
  RateLimit,
  RateLimits,
  RateLimitSettings,
  SessionView,
  UserInit,
  UserView,
} from './types.js';
import { formatTimestamp } from './xml.js';

/** A control call that cannot be done as asked (bad input, unknown user, …). */
export class ControlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlError';
  }
}

const FAULT_KINDS: readonly FaultKind[] = [
  'throttle',
  'internal-failure',
  'service-unavailable',
  'latency',
  'hang',
  'hang-after-commit',
  'drop-response',
];
const IAM_PATH = /^\/(?:[\x21-\x7e]*\/)?$/;
const MFA_DEVICE_KINDS: readonly MfaDeviceKind[] = ['virtual', 'hardware', 'u2f'];
/** IAM's quota of MFA devices per user. */
export const MFA_DEVICES_PER_USER = 8;
/** As IAM's API reference constrains an MFA serial number. */
const MFA_SERIAL = /[\w+=/:,.@-]{9,256}/;
/** A virtual device's or a U2F key's name within its ARN. */
const MFA_DEVICE_NAME = /[\w+=,.@-]{1,128}/;
const POLICY_ARN = /arn:aws[\w-]*:iam::\d{12}:policy\/[\x21-\x7e]{1,512}/;

// The HTTP control API hands over parsed JSON, so every input is checked at run time.
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new ControlError(`${what} must be an object.`);
  return value;
}

function requireString(value: unknown, name: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value === '') throw new ControlError(`${name} must be a non-empty string.`);
  if (pattern && !new RegExp(`^(?:${pattern.source})$`).test(value)) {
    throw new ControlError(`${name} '${value}' does not match ${pattern.source}.`);
  }
  return value;
}

/** The six-digit codes a device accepts, checked at run time; a U2F key accepts none. */
function readMfaCodes(value: unknown, kind: MfaDeviceKind): string[] {
  if (!Array.isArray(value) || value.some((code) => typeof code !== 'string' || !/^\d{6}$/.test(code))) {
    throw new ControlError('codes must be a list of MFA codes of six digits each.');
  }
  if (kind === 'u2f' && value.length > 0) {
    throw new ControlError('A U2F security key makes no one-time codes: GetSessionToken cannot use it.');
  }
  return [...(value as string[])];
}

function optionalDate(value: unknown, name: string, fallback: Date): Date {
  if (value === undefined) return fallback;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) throw new ControlError(`${name} must be an ISO-8601 date.`);
  return date;
}

function requireDelay(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ControlError(`${name} must be a number of milliseconds, 0 or more.`);
  }
  return value;
}

function readRateLimit(value: unknown, service: string): RateLimit | null {
  if (value === null) return null;
  if (!isRecord(value)) throw new ControlError(`${service} must be {rate, burst?} or null.`);
  const unknown = Object.keys(value).find((name) => name !== 'rate' && name !== 'burst');
  if (unknown !== undefined) throw new ControlError(`${service}.${unknown} is no rate limit setting; use rate and burst.`);
  const rate = value['rate'];
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    throw new ControlError(`${service}.rate must be a number above 0 (requests per second).`);
  }
  const burst = value['burst'] ?? Math.ceil(rate);
  if (typeof burst !== 'number' || !Number.isSafeInteger(burst) || burst < 1) {
    throw new ControlError(`${service}.burst must be a whole number, 1 or more.`);
  }
  return { rate, burst };
}

/** Checks rate limit settings (from JSON, so at run time) and fills in the default burst. */
export function readRateLimitSettings(settings: RateLimitSettings): Partial<RateLimits> {
  const fields = requireRecord(settings, 'The rate limit');
  const limits: Partial<RateLimits> = {};
  for (const [service, value] of Object.entries(fields)) {
    if (service !== 'iam' && service !== 'sts') {
      throw new ControlError(`Rate limits are set per service, iam or sts, not '${service}'.`);
    }
    if (value !== undefined) limits[service] = readRateLimit(value, service);
  }
  return limits;
}

/**
 * Gives a user an MFA device as the control API's `createMfaDevice` describes (types.ts), with
 * every input checked at run time; the fake KeyApi seeds its devices through it too.
 */
export function addMfaDevice(state: EmulatorState, init: MfaDeviceInit, now: Date): MfaDevice {
  const fields = requireRecord(init, 'The MFA device');
  const userName = requireString(fields['userName'], 'userName');
  if (!state.users.has(userName)) throw new ControlError(`The user ${userName} does not exist.`);
  const kind = fields['kind'] as MfaDeviceKind;
  if (!MFA_DEVICE_KINDS.includes(kind)) throw new ControlError(`kind must be one of ${MFA_DEVICE_KINDS.join(', ')}.`);
  if (state.mfaDevicesOf(userName).length >= MFA_DEVICES_PER_USER) {
    throw new ControlError(`The user ${userName} already has ${MFA_DEVICES_PER_USER} MFA devices, IAM's limit.`);
  }
  const name = fields['name'] === undefined ? undefined : requireString(fields['name'], 'name', MFA_DEVICE_NAME);
  const serialNumber =
    fields['serialNumber'] !== undefined
      ? requireString(fields['serialNumber'], 'serialNumber', MFA_SERIAL)
      : kind === 'virtual'
        ? `arn:aws:iam::${state.accountId}:mfa/${name ?? userName}`
        : kind === 'u2f'
          ? `arn:aws:iam::${state.accountId}:u2f/user/${userName}/${name ?? 'securitykey'}-${createU2fSuffix()}`
          : createHardwareMfaSerial();
  if (state.mfaDevices.has(serialNumber)) throw new ControlError(`The MFA serial number ${serialNumber} is already in use.`);
  const codes = readMfaCodes(fields['codes'] ?? (kind === 'u2f' ? [] : [createMfaCode()]), kind);
  return state.addMfaDevice({ serialNumber, userName, kind, enableDate: optionalDate(fields['enableDate'], 'enableDate', now), codes });
}

/** Sets the codes a device accepts now and forgets which were used, as `setMfaCodes` describes. */
export function replaceMfaCodes(state: EmulatorState, init: MfaCodesInit): MfaDevice {
  const fields = requireRecord(init, 'The MFA codes');
  const serialNumber = requireString(fields['serialNumber'], 'serialNumber');
  const device = state.mfaDevices.get(serialNumber);
  if (device === undefined) throw new ControlError(`No MFA device has the serial number ${serialNumber}.`);
  device.codes = readMfaCodes(fields['codes'], device.kind);
  device.usedAt.clear();
  return device;
}

function userView(user: User): UserView {
  return {
    userName: user.name,
    userId: user.id,
    path: user.path,
    arn: user.arn,
    admin: user.admin,
    deniedActions: [...user.deniedActions],
    forceMfa: user.forceMfa,
    forceMfaPolicyArn: user.forceMfaPolicyArn,
    createDate: formatTimestamp(user.createDate),
  };
}

function mfaDeviceView(device: MfaDevice): MfaDeviceView {
  return {
    userName: device.userName,
    serialNumber: device.serialNumber,
    kind: device.kind,
    enableDate: formatTimestamp(device.enableDate),
    codes: [...device.codes],
  };
}

function accessKeyView(key: AccessKey): AccessKeyView {
  return {
    accessKeyId: key.id,
    secretAccessKey: key.secret,
    userName: key.userName,
    status: key.status,
    createDate: formatTimestamp(key.createDate),
    lastUsed:
      key.lastUsed === null
        ? null
        : { date: formatTimestamp(key.lastUsed.date), serviceName: key.lastUsed.serviceName, region: key.lastUsed.region },
  };
}

function sessionView(session: Session, now: Date): SessionView {
  return {
    accessKeyId: session.accessKeyId,
    userName: session.userName,
    parentAccessKeyId: session.parentAccessKeyId,
    mfaSerialNumber: session.mfaSerialNumber,
    expiration: formatTimestamp(session.expiration),
    expired: now.getTime() >= session.expiration.getTime(),
  };
}

export interface ControlInit {
  state: EmulatorState;
  log: CallLog;
  faults: FaultPlan;
  rateLimiter: RateLimiter;
  clock: () => Date;
}

/** The control API over the emulator's state; every method validates its input. */
export function createControl({ state, log, faults, rateLimiter, clock }: ControlInit): EmulatorControl {
  return {
    createUser(init: UserInit): UserView {
      const fields = requireRecord(init, 'The user');
      const userName = requireString(fields['userName'], 'userName', USER_NAME);
      if (state.users.has(userName)) throw new ControlError(`The user ${userName} already exists.`);
      const path = fields['path'] === undefined ? '/' : requireString(fields['path'], 'path');
      if (!IAM_PATH.test(path)) throw new ControlError(`path '${path}' must start and end with '/'.`);
      const denied = fields['deniedActions'] ?? [];
      if (!Array.isArray(denied)) throw new ControlError('deniedActions must be a list of IAM actions.');
      const policyArn = fields['forceMfaPolicyArn'];
      if (policyArn !== undefined && policyArn !== null) requireString(policyArn, 'forceMfaPolicyArn', POLICY_ARN);
      const user = state.addUser({
        name: userName,
        path,
        admin: fields['admin'] === true,
        deniedActions: denied.map((action) => qualifyIamAction(requireString(action, 'deniedActions[]'))),
        forceMfa: fields['forceMfa'] === true,
        forceMfaPolicyArn: policyArn === undefined ? `arn:aws:iam::${state.accountId}:policy/Force_MFA` : (policyArn as string | null),
        createDate: optionalDate(fields['createDate'], 'createDate', clock()),
      });
      return userView(user);
    },

    createAccessKey(init: AccessKeyInit) {
      const fields = requireRecord(init, 'The access key');
      const userName = requireString(fields['userName'], 'userName');
      if (!state.users.has(userName)) throw new ControlError(`The user ${userName} does not exist.`);
      if (state.keysOf(userName).length >= ACCESS_KEYS_PER_USER) {
        throw new ControlError(`The user ${userName} already has ${ACCESS_KEYS_PER_USER} access keys, IAM's limit.`);
      }
      const status = (fields['status'] ?? 'Active') as AccessKeyStatus;
      if (status !== 'Active' && status !== 'Inactive') throw new ControlError('status must be Active or Inactive.');
      const id = fields['accessKeyId'] === undefined ? undefined : requireString(fields['accessKeyId'], 'accessKeyId', ACCESS_KEY_ID);
      if (id !== undefined && (id.length < 16 || state.accessKeys.has(id) || state.sessions.has(id))) {
        throw new ControlError(`accessKeyId ${id} is shorter than 16 characters or already in use.`);
      }
      const secret = fields['secretAccessKey'] === undefined ? undefined : requireString(fields['secretAccessKey'], 'secretAccessKey');
      const key = state.addAccessKey({
        userName,
        status,
        createDate: optionalDate(fields['createDate'], 'createDate', clock()),
        pendingSince: null,
        id,
        secret,
      });
      const { accessKeyId, secretAccessKey, createDate } = accessKeyView(key);
      return { accessKeyId, secretAccessKey, userName, status, createDate };
    },

    createMfaDevice: (init: MfaDeviceInit) => mfaDeviceView(addMfaDevice(state, init, clock())),

    setMfaCodes: (init: MfaCodesInit) => mfaDeviceView(replaceMfaCodes(state, init)),

    getState() {
      const now = clock();
      return {
        accountId: state.accountId,
        activationDelayMs: { ...state.activationDelays },
        rateLimit: rateLimiter.get(),
        users: [...state.users.values()].map(userView),
        accessKeys: [...state.accessKeys.values()].map(accessKeyView),
        mfaDevices: [...state.mfaDevices.values()].map(mfaDeviceView),
        sessions: [...state.sessions.values()].map((session) => sessionView(session, now)),
      };
    },

    getCallLog: () => log.list(),

    clearCallLog: () => log.clear(),

    setActivationDelay(delay: number | Partial<ActivationDelays>): ActivationDelays {
      if (typeof delay === 'number') {
        const ms = requireDelay(delay, 'The activation delay');
        state.activationDelays = { iam: ms, sts: ms };
      } else {
        const fields = requireRecord(delay, 'The activation delay');
        state.activationDelays = {
          iam: fields['iam'] === undefined ? state.activationDelays.iam : requireDelay(fields['iam'], 'iam'),
          sts: fields['sts'] === undefined ? state.activationDelays.sts : requireDelay(fields['sts'], 'sts'),
        };
      }
      return { ...state.activationDelays };
    },

    injectFault(init: FaultInit) {
      const fields = requireRecord(init, 'The fault');
      const kind = fields['kind'] as FaultKind;
      if (!FAULT_KINDS.includes(kind)) throw new ControlError(`kind must be one of ${FAULT_KINDS.join(', ')}.`);
      const service = fields['service'];
      if (service !== undefined && service !== 'iam' && service !== 'sts') throw new ControlError('service must be iam or sts.');
      const action = fields['action'] === undefined ? undefined : requireString(fields['action'], 'action');
      const count = fields['count'] ?? 1;
      if (count !== 'always' && !(typeof count === 'number' && Number.isInteger(count) && count > 0)) {
        throw new ControlError("count must be a whole number above 0, or 'always'.");
      }
      const latencyMs = fields['latencyMs'] === undefined ? 0 : requireDelay(fields['latencyMs'], 'latencyMs');
      if (kind === 'latency' && latencyMs === 0) throw new ControlError('A latency fault needs latencyMs.');
      return faults.inject({ kind, action, service, count, latencyMs });
    },

    listFaults: () => faults.list(),

    clearFaults: () => faults.clear(),

    expireSessionToken(init) {
      const fields = requireRecord(init, 'The session');
      const accessKeyId = requireString(fields['accessKeyId'], 'accessKeyId');
      const session = state.sessions.get(accessKeyId);
      if (session === undefined) throw new ControlError(`No session has the access key id ${accessKeyId}.`);
      session.expiration = new Date(clock().getTime() - 1000);
    },

    setRateLimit: (settings: RateLimitSettings) => rateLimiter.set(readRateLimitSettings(settings)),

    reset() {
      state.reset();
      log.clear();
      faults.clear();
      rateLimiter.reset();
    },
  };
}
