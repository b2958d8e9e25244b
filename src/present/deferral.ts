import type { Deferral } from '../engine/outcome.js';

/** Why a rotation waits, in one sentence. */
export function describeDeferral(deferral: Deferral): string {
  if (deferral.reason === 'sts-unreachable') {
    return `Deferred: STS could not be asked whether the session in profile ${deferral.profile} is still active; keyup asks again at the next check (if this persists, check the network or HTTPS_PROXY).`;
  }
  const until = deferral.until === null ? 'until its session ends' : `until ${deferral.until}`;
  return `Deferred ${until}: profile ${deferral.profile} holds temporary credentials that AWS still accepts.`;
}
