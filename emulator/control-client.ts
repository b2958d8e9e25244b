import { CONTROL_PATH_PREFIX } from './control-http.js';
import type {
  AccessKeyInit,
  ActivationDelays,
  AsyncEmulatorControl,
  CallLogEntry,
  ControlMethod,
  EmulatorStateView,
  ExpireSessionInit,
  FaultInit,
  FaultView,
  MfaCodesInit,
  MfaDeviceInit,
  MfaDeviceView,
  RateLimits,
  RateLimitSettings,
  SeededAccessKey,
  UserInit,
  UserView,
} from './types.js';

/** A control call the emulator refused; `status` is the HTTP status it answered with. */
export class ControlRequestError extends Error {
  constructor(
    readonly method: ControlMethod,
    readonly status: number,
    message: string,
  ) {
    super(`keyup-emulator control ${method}: ${message}`);
    this.name = 'ControlRequestError';
  }
}

export interface ControlClientInit {
  /** The emulator's endpoint, as its command printed it. */
  endpoint: string;
  /** Per call; default 10 s. */
  timeoutMs?: number;
}

/** The emulator's control API over HTTP, for tests whose emulator runs in another process. */
export class ControlClient implements AsyncEmulatorControl {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor({ endpoint, timeoutMs = 10_000 }: ControlClientInit) {
    this.base = endpoint.replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
  }

  private async call<T>(method: ControlMethod, argument?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${CONTROL_PATH_PREFIX}${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: argument === undefined ? '' : JSON.stringify(argument),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let payload: { result?: T; error?: { message?: string } };
    try {
      payload = JSON.parse(text) as typeof payload;
    } catch {
      throw new ControlRequestError(method, response.status, `answered with something other than JSON: ${text.slice(0, 200)}`);
    }
    if (!response.ok || payload.error !== undefined) {
      throw new ControlRequestError(method, response.status, payload.error?.message ?? `HTTP ${response.status}`);
    }
    return payload.result as T;
  }

  createUser(init: UserInit): Promise<UserView> {
    return this.call('createUser', init);
  }

  createAccessKey(init: AccessKeyInit): Promise<SeededAccessKey> {
    return this.call('createAccessKey', init);
  }

  createMfaDevice(init: MfaDeviceInit): Promise<MfaDeviceView> {
    return this.call('createMfaDevice', init);
  }

  setMfaCodes(init: MfaCodesInit): Promise<MfaDeviceView> {
    return this.call('setMfaCodes', init);
  }

  getState(): Promise<EmulatorStateView> {
    return this.call('getState');
  }

  getCallLog(): Promise<CallLogEntry[]> {
    return this.call('getCallLog');
  }

  async clearCallLog(): Promise<void> {
    await this.call('clearCallLog');
  }

  setActivationDelay(delay: number | Partial<ActivationDelays>): Promise<ActivationDelays> {
    return this.call('setActivationDelay', delay);
  }

  injectFault(init: FaultInit): Promise<FaultView> {
    return this.call('injectFault', init);
  }

  listFaults(): Promise<FaultView[]> {
    return this.call('listFaults');
  }

  async clearFaults(): Promise<void> {
    await this.call('clearFaults');
  }

  async expireSessionToken(init: ExpireSessionInit): Promise<void> {
    await this.call('expireSessionToken', init);
  }

  setRateLimit(settings: RateLimitSettings): Promise<RateLimits> {
    return this.call('setRateLimit', settings);
  }

  async reset(): Promise<void> {
    await this.call('reset');
  }
}
