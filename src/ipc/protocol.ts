/**
 * The socket's protocol (SPEC "The socket"): newline-delimited JSON-RPC 2.0 over a Unix socket.
 * The one module the daemon and keyupctl share: names, shapes and guards, and nothing that loads
 * anything (keyupctl must start fast). Every field on the wire is snake_case, like status's JSON.
 */

/**
 * A request line longer than this is refused with an error (and the rest of it skipped). Answers
 * may be longer (a `status` of many profiles): keyupctl reads up to MAX_REPLY_BYTES (client.ts).
 */
export const MAX_LINE_BYTES = 64 * 1024;

export const METHODS = ['status', 'rotate', 'keys', 'config', 'reload', 'version'] as const;
export type Method = (typeof METHODS)[number];

/** The notification that carries `rotate`'s progress, before its result. */
export const PROGRESS_NOTIFICATION = 'rotate.progress';

/** JSON-RPC 2.0's own error codes, and keyup's (in the range left to applications). */
export const RpcErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** The request was understood and failed; `data` says how (code, hint). */
  failed: -32000,
  /** The request names a profile keyup does not manage, or is otherwise bad usage. */
  usage: -32001,
} as const;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type RequestId = string | number;

export interface RpcRequest {
  readonly jsonrpc: '2.0';
  readonly id?: RequestId | null;
  readonly method: string;
  readonly params?: unknown;
}

export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  /** keyup's failures: `{ code: ErrorCode, hint }`. */
  readonly data?: { readonly code: string; readonly hint: string | null } | JsonValue;
}

export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: RequestId | null; readonly result: unknown }
  | { readonly jsonrpc: '2.0'; readonly id: RequestId | null; readonly error: RpcErrorObject };

export interface RpcNotification {
  readonly jsonrpc: '2.0';
  readonly method: string;
  readonly params?: unknown;
}

/** `rotate`'s params (SPEC): which profiles (default every managed one), `--force`, an MFA code. */
export interface RotateParams {
  readonly profiles?: readonly string[];
  readonly force?: boolean;
  readonly mfa_code?: string;
}

export interface KeysParams {
  readonly profile?: string;
}

/** `status`'s result: SPEC's document. More fields may be added; these keep their names and meaning. */
export interface StatusDocument {
  readonly version: string;
  readonly pid: number;
  readonly started: string;
  readonly schedule: string;
  readonly next_check: string | null;
  readonly config_error: WireError | null;
  /** A check met no network (a machine that just woke) and is waiting for it, not failing. */
  readonly waiting_for_network: boolean;
  readonly profiles: readonly StatusProfile[];
}

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly hint: string | null;
}

export interface StatusProfile {
  readonly profile: string;
  readonly user: string | null;
  readonly account: string | null;
  readonly key_id: string | null;
  readonly key_created: string | null;
  readonly key_age_days: number | null;
  readonly max_age_days: number;
  readonly warn_age_days: number;
  readonly state: 'ok' | 'warn' | 'due' | 'deferred' | 'rotating' | 'busy' | 'needs-mfa' | 'error';
  readonly deferred_by: string | null;
  readonly deferred_until: string | null;
  readonly last_rotation: { readonly at: string; readonly old_key_id: string; readonly new_key_id: string | null; readonly ok: boolean } | null;
  readonly last_checked: string | null;
  readonly error: WireError | null;
}

/** `version`'s result. */
export interface VersionResult {
  readonly version: string;
  readonly pid: number;
}

/** `reload`'s result: whether the new configuration was taken, and if not, why. */
export interface ReloadResult {
  readonly reloaded: boolean;
  readonly config_error: WireError | null;
}

/** `rotate`'s result, after its progress: one outcome per profile (snake_case outcomes). */
export interface RotateResult {
  readonly outcomes: readonly Record<string, unknown>[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isRpcRequest(value: unknown): value is RpcRequest {
  return (
    isRecord(value) &&
    value.jsonrpc === '2.0' &&
    typeof value.method === 'string' &&
    (value.id === undefined || value.id === null || typeof value.id === 'string' || (typeof value.id === 'number' && Number.isFinite(value.id))) &&
    (value.params === undefined || isRecord(value.params) || Array.isArray(value.params))
  );
}

export function isRpcResponse(value: unknown): value is RpcResponse {
  return isRecord(value) && value.jsonrpc === '2.0' && 'id' in value && ('result' in value || (isRecord(value.error) && typeof value.error.code === 'number'));
}

export function isRpcNotification(value: unknown): value is RpcNotification {
  return isRecord(value) && value.jsonrpc === '2.0' && typeof value.method === 'string' && !('id' in value);
}

export function isMethod(name: string): name is Method {
  return (METHODS as readonly string[]).includes(name);
}

/** `rotate`'s params, checked; a description of what is wrong otherwise. */
export function parseRotateParams(params: unknown): { ok: true; value: RotateParams } | { ok: false; problem: string } {
  if (params === undefined) return { ok: true, value: {} };
  if (!isRecord(params)) return { ok: false, problem: 'rotate takes an object of params' };
  const { profiles, force, mfa_code: mfaCode, ...rest } = params;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return { ok: false, problem: `rotate does not take ${unknown.join(', ')}` };
  if (profiles !== undefined && !(Array.isArray(profiles) && profiles.every((name) => typeof name === 'string' && name !== ''))) {
    return { ok: false, problem: 'profiles must be a list of profile names' };
  }
  if (force !== undefined && typeof force !== 'boolean') return { ok: false, problem: 'force must be true or false' };
  if (mfaCode !== undefined && !(typeof mfaCode === 'string' && /^\d{6}$/.test(mfaCode))) return { ok: false, problem: 'mfa_code must be six digits' };
  return {
    ok: true,
    value: {
      ...(profiles === undefined ? {} : { profiles: profiles as string[] }),
      ...(force === undefined ? {} : { force }),
      ...(mfaCode === undefined ? {} : { mfa_code: mfaCode as string }),
    },
  };
}

export function parseKeysParams(params: unknown): { ok: true; value: KeysParams } | { ok: false; problem: string } {
  if (params === undefined) return { ok: true, value: {} };
  if (!isRecord(params)) return { ok: false, problem: 'keys takes an object of params' };
  const { profile, ...rest } = params;
  if (Object.keys(rest).length > 0) return { ok: false, problem: `keys does not take ${Object.keys(rest).join(', ')}` };
  if (profile !== undefined && !(typeof profile === 'string' && profile !== '')) return { ok: false, problem: 'profile must be a profile name' };
  return { ok: true, value: profile === undefined ? {} : { profile } };
}

/** `keyId` → `key_id`, deeply: the engine's camelCase objects as the wire's snake_case. */
export function toSnakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toSnakeCase);
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), toSnakeCase(inner)]));
}
