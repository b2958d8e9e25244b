import {
  createAccessKeyId,
  createSecretAccessKey,
  createSessionAccessKeyId,
  createSessionToken,
  createUserId,
} from './ids.js';
import type { AccessKeyStatus, ActivationDelays, ServiceName } from './types.js';

export interface User {
  readonly name: string;
  readonly id: string;
  readonly path: string;
  readonly arn: string;
  readonly admin: boolean;
  readonly deniedActions: ReadonlySet<string>;
  readonly createDate: Date;
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
  /** Made with an MFA code: IAM accepts such sessions, as AWS does. */
  readonly mfa: boolean;
  expiration: Date;
}

export interface AddUserInit {
  name: string;
  path: string;
  admin: boolean;
  deniedActions: readonly string[];
  createDate: Date;
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

  addUser({ name, path, admin, deniedActions, createDate }: AddUserInit): User {
    const user: User = {
      name,
      id: createUserId(),
      path,
      arn: this.userArn(path, name),
      admin,
      deniedActions: new Set(deniedActions),
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

  addSession(parent: AccessKey, expiration: Date, mfa: boolean): Session {
    const session: Session = {
      accessKeyId: createSessionAccessKeyId(),
      secret: createSecretAccessKey(),
      token: createSessionToken(),
      userName: parent.userName,
      parentAccessKeyId: parent.id,
      mfa,
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
    this.sessions.clear();
    this.activationDelays = { ...this.initialDelays };
  }
}
