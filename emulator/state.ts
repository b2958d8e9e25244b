import {
  createAccessKeyId,
  createSecretAccessKey,
  createSessionAccessKeyId,
  createSessionToken,
  createUserId,
} from './ids.js';
import type { AccessKeyStatus, ActivationDelays, MfaDeviceKind, ServiceName } from './types.js';

export interface User {
  readonly name: string;
  readonly id: string;
  readonly path: string;
  readonly arn: string;
  readonly admin: boolean;
  readonly deniedActions: ReadonlySet<string>;
  /** Under the force-MFA policy: an explicit deny for most actions without an MFA session. */
  readonly forceMfa: boolean;
  /** The policy that explicit deny names; `null` for an inline one (or when not forced). */
  readonly forceMfaPolicyArn: string | null;
  readonly createDate: Date;
}

export interface MfaDevice {
  readonly serialNumber: string;
  readonly userName: string;
  readonly kind: MfaDeviceKind;
  /** As IAM reports it: whole seconds. */
  readonly enableDate: Date;
  /** The codes GetSessionToken accepts from it now; none for a U2F key. */
  codes: string[];
  /** When each code was last accepted, by the emulator's clock in ms: AWS refuses a code used again. */
  readonly usedAt: Map<string, number>;
}

export interface LastUsed {
  date: Date;
  serviceName: ServiceName;
  region: string;
}

export interface AccessKey {
  readonly id: string;
  readonly secret: string;
  readonly userName: string;
  status: AccessKeyStatus;
  /** As IAM reports it: whole seconds. */
  readonly createDate: Date;
  /**
   * When the key came into being, to the millisecond, if it must wait out the activation
   * delay; `null` for keys seeded through the control API, which are usable at once.
   */
  readonly pendingSince: number | null;
  lastUsed: LastUsed | null;
}

export interface Session {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly token: string;
  readonly userName: string;
  readonly parentAccessKeyId: string;
  /** Made with an MFA code: IAM accepts such sessions, as AWS does, and aws:MultiFactorAuthPresent holds. */
  readonly mfa: boolean;
  /** The device whose code made it, where one did (the fake KeyApi may make MFA sessions without one). */
  readonly mfaSerialNumber: string | null;
  expiration: Date;
}

export interface AddUserInit {
  name: string;
  path: string;
  admin: boolean;
  deniedActions: readonly string[];
  forceMfa: boolean;
  forceMfaPolicyArn: string | null;
  createDate: Date;
}

export interface AddMfaDeviceInit {
  serialNumber: string;
  userName: string;
  kind: MfaDeviceKind;
  enableDate: Date;
  codes: readonly string[];
}

export interface AddAccessKeyInit {
  userName: string;
  createDate: Date;
  status: AccessKeyStatus;
  pendingSince: number | null;
  id?: string;
  secret?: string;
}

function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** Users, keys and sessions of one emulated account; no I/O, no clock of its own. */
export class EmulatorState {
  readonly users = new Map<string, User>();
  /** Insertion order is creation order, which ListAccessKeys keeps. */
  readonly accessKeys = new Map<string, AccessKey>();
  /** By serial number; insertion order is creation order, which ListMFADevices keeps. */
  readonly mfaDevices = new Map<string, MfaDevice>();
  readonly sessions = new Map<string, Session>();
  activationDelays: ActivationDelays;

  constructor(
    readonly accountId: string,
    private readonly initialDelays: ActivationDelays,
  ) {
    this.activationDelays = { ...initialDelays };
  }

  userArn(path: string, name: string): string {
    return `arn:aws:iam::${this.accountId}:user${path}${name}`;
  }

  addUser({ name, path, admin, deniedActions, forceMfa, forceMfaPolicyArn, createDate }: AddUserInit): User {
    const user: User = {
      name,
      id: createUserId(),
      path,
      arn: this.userArn(path, name),
      admin,
      deniedActions: new Set(deniedActions),
      forceMfa,
      forceMfaPolicyArn: forceMfa ? forceMfaPolicyArn : null,
      createDate: truncateToSeconds(createDate),
    };
    this.users.set(name, user);
    return user;
  }

  addAccessKey({ userName, createDate, status, pendingSince, id, secret }: AddAccessKeyInit): AccessKey {
    const key: AccessKey = {
      id: id ?? createAccessKeyId(),
      secret: secret ?? createSecretAccessKey(),
      userName,
      status,
      createDate: truncateToSeconds(createDate),
      pendingSince,
      lastUsed: null,
    };
    this.accessKeys.set(key.id, key);
    return key;
  }

  keysOf(userName: string): AccessKey[] {
    return [...this.accessKeys.values()].filter((key) => key.userName === userName);
  }

  addMfaDevice({ serialNumber, userName, kind, enableDate, codes }: AddMfaDeviceInit): MfaDevice {
    const device: MfaDevice = { serialNumber, userName, kind, enableDate: truncateToSeconds(enableDate), codes: [...codes], usedAt: new Map() };
    this.mfaDevices.set(serialNumber, device);
    return device;
  }

  mfaDevicesOf(userName: string): MfaDevice[] {
    return [...this.mfaDevices.values()].filter((device) => device.userName === userName);
  }

  /**
   * A session of the parent key's user. It holds the parent's id only to report it: like AWS's,
   * it is not revoked when that key is later deactivated or deleted (README, "MFA").
   */
  addSession(parent: AccessKey, expiration: Date, mfa: boolean, mfaSerialNumber: string | null = null): Session {
    const session: Session = {
      accessKeyId: createSessionAccessKeyId(),
      secret: createSecretAccessKey(),
      token: createSessionToken(),
      userName: parent.userName,
      parentAccessKeyId: parent.id,
      mfa,
      mfaSerialNumber,
      expiration,
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  /** Whether a key created through the API is still invisible to `service` at `nowMs`. */
  isPending(key: AccessKey, service: ServiceName, nowMs: number): boolean {
    return key.pendingSince !== null && nowMs - key.pendingSince < this.activationDelays[service];
  }

  reset(): void {
    this.users.clear();
    this.accessKeys.clear();
    this.mfaDevices.clear();
    this.sessions.clear();
    this.activationDelays = { ...this.initialDelays };
  }
}
