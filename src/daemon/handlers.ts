import { toConfigJson, type KeyupConfig } from '../config/index.js';
import type { Outcome } from '../engine/outcome.js';
import type { EngineEvent } from '../engine/events.js';
import type { ErrorInfo } from '../engine/outcome.js';
import type { ProfileKeys } from '../engine/keys.js';
import { InvalidParamsError, type SocketHandlers } from '../ipc/server.js';
import { parseKeysParams, parseRotateParams, PROGRESS_NOTIFICATION, toSnakeCase, type ReloadResult, type RotateResult, type StatusDocument, type VersionResult } from '../ipc/protocol.js';
import { toWireError } from './status.js';

/** What the socket's methods need of the daemon: no more, so that they are tested with a fake. */
export interface HandlerDeps {
  status(): StatusDocument;
  /** `mfaCode` lives in memory for the request only: never logged, stored or sent back. */
  rotateNow(request: { profiles?: readonly string[]; force?: boolean; mfaCode?: string; onEvent?: (event: EngineEvent) => void }): Promise<Outcome[]>;
  keys(profile: string | undefined): Promise<ProfileKeys[]>;
  reload(): Promise<{ reloaded: boolean; configError: ErrorInfo | null }>;
  readonly currentConfig: KeyupConfig;
  readonly version: string;
  readonly pid: number;
}

/** SPEC's socket methods over the daemon. Params are checked here; a bad one is -32602. */
export function createHandlers(deps: HandlerDeps): SocketHandlers {
  return {
    status: async () => deps.status(),
    version: async (): Promise<VersionResult> => ({ version: deps.version, pid: deps.pid }),
    // The configuration running, and (as in status) a changed one that was refused: without it,
    // `keyupctl config` would show the running one as if the file on disk said so.
    config: async () => ({ ...toConfigJson(deps.currentConfig), config_error: deps.status().config_error }),
    reload: async (): Promise<ReloadResult> => {
      const result = await deps.reload();
      return { reloaded: result.reloaded, config_error: toWireError(result.configError) };
    },
    keys: async (params) => {
      const parsed = parseKeysParams(params);
      if (!parsed.ok) throw new InvalidParamsError(`keys: ${parsed.problem}.`);
      return toSnakeCase(await deps.keys(parsed.value.profile));
    },
    rotate: async (params, ctx): Promise<RotateResult> => {
      const parsed = parseRotateParams(params);
      if (!parsed.ok) throw new InvalidParamsError(`rotate: ${parsed.problem}.`);
      const { profiles, force, mfa_code: mfaCode } = parsed.value;
      const outcomes = await deps.rotateNow({
        ...(profiles === undefined ? {} : { profiles }),
        ...(force === undefined ? {} : { force }),
        ...(mfaCode === undefined ? {} : { mfaCode }),
        // The client may go away; the rotation goes on, and its events go nowhere.
        onEvent: (event) => {
          if (!ctx.signal.aborted) ctx.notify(PROGRESS_NOTIFICATION, toSnakeCase(event));
        },
      });
      return { outcomes: toSnakeCase(outcomes) as RotateResult['outcomes'] };
    },
  };
}
