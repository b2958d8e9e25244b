import type { Caller } from './action-context.js';
import { expiredToken, invalidClientTokenId, signatureDoesNotMatch } from './aws-errors.js';
import { checkRequestTime, verifySignature, type ParsedAuthorization, type SignedRequest } from './sigv4.js';
import type { EmulatorState, User } from './state.js';
import type { ServiceName } from './types.js';

export interface AuthenticateInit {
  request: SignedRequest;
  auth: ParsedAuthorization;
  service: ServiceName;
  state: EmulatorState;
  now: Date;
}

function securityToken(request: SignedRequest): string | undefined {
  const value = request.headers['x-amz-security-token'];
  return Array.isArray(value) ? value.join(',') : value;
}

function ownerOf(state: EmulatorState, userName: string): User {
  const user = state.users.get(userName);
  // Keys and sessions only exist for users the state holds; a miss means a torn state.
  if (user === undefined) throw invalidClientTokenId();
  return user;
}

async function requireSignature(init: AuthenticateInit, secret: string): Promise<void> {
  if (!(await verifySignature(init.request, init.auth, secret))) throw signatureDoesNotMatch();
}

/**
 * Establishes who signed a request, in the order AWS reports problems: request time, then the
 * key (unknown, inactive, not yet visible, token mismatch or expiry), then the signature.
 */
export async function authenticate(init: AuthenticateInit): Promise<Caller> {
  const { auth, service, state, now } = init;
  checkRequestTime(auth, now);
  const accessKeyId = auth.scope.accessKeyId;
  const token = securityToken(init.request);
  const region = auth.scope.region;

  const key = state.accessKeys.get(accessKeyId);
  if (key !== undefined) {
    // A key IAM has not finished propagating is as unknown to the service as a deleted one.
    if (key.status !== 'Active' || state.isPending(key, service, now.getTime())) throw invalidClientTokenId();
    if (token !== undefined) throw invalidClientTokenId();
    const user = ownerOf(state, key.userName);
    await requireSignature(init, key.secret);
    return { user, accessKeyId, key, session: null, service, region };
  }

  const session = state.sessions.get(accessKeyId);
  if (session !== undefined) {
    if (token !== session.token) throw invalidClientTokenId();
    if (now.getTime() >= session.expiration.getTime()) throw expiredToken();
    const user = ownerOf(state, session.userName);
    await requireSignature(init, session.secret);
    // AWS refuses IAM calls made with GetSessionToken credentials that carry no MFA, and
    // says so as InvalidClientTokenId rather than AccessDenied.
    if (service === 'iam' && !session.mfa) throw invalidClientTokenId();
    return { user, accessKeyId, key: null, session, service, region };
  }

  throw invalidClientTokenId();
}
