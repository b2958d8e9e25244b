import type { AccessKey, EmulatorState, Session, User } from './state.js';
import type { ServiceName } from './types.js';

/** Who signed a request, as authentication established it. */
export interface Caller {
  readonly user: User;
  readonly accessKeyId: string;
  /** The long-term key that signed, or `null` for session credentials. */
  readonly key: AccessKey | null;
  readonly session: Session | null;
  readonly service: ServiceName;
  readonly region: string;
}

export interface ActionContext {
  readonly params: ReadonlyMap<string, string>;
  readonly caller: Caller;
  readonly state: EmulatorState;
  readonly now: Date;
}

/** Runs one action: commits its effect and returns the inside of `<XxxResult>` (or `null`). */
export type ActionHandler = (context: ActionContext) => string | null;
