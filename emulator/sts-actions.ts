import type { ActionHandler } from './action-context.js';
import { accessDenied } from './aws-errors.js';
import { acceptMfaCode } from './mfa.js';
import { ParamReader } from './params.js';
import { element, textElement } from './xml.js';

/** GetSessionToken's bounds for an IAM user's credentials, in seconds. */
export const SESSION_DURATION = { min: 900, max: 129_600, default: 43_200 } as const;

const getCallerIdentity: ActionHandler = ({ caller, state }) =>
  // Session credentials from GetSessionToken still name the IAM user, not a role session.
  textElement('UserId', caller.user.id) + textElement('Account', state.accountId) + textElement('Arn', caller.user.arn);

const getSessionToken: ActionHandler = ({ params, caller, state, now }) => {
  const reader = new ParamReader(params);
  const duration =
    reader.integer('DurationSeconds', { min: SESSION_DURATION.min, max: SESSION_DURATION.max }) ??
    SESSION_DURATION.default;
  // The patterns of STS's model (botocore's sts/2011-06-15), as a ValidationError prints them (boto/botocore#1567).
  const serialNumber = reader.string('SerialNumber', { min: 9, max: 256, pattern: /[\w+=/:,.@-]*/ });
  const tokenCode = reader.string('TokenCode', { min: 6, max: 6, pattern: /[\d]*/ });
  reader.check();
  if (caller.key === null) throw accessDenied('Cannot call GetSessionToken with session credentials');
  // The code is checked against the caller's devices (mfa.ts); a refused one makes no session.
  // Only one of the two given is taken as neither, as before devices existed: AWS's answer to
  // that is not on record.
  const device =
    serialNumber !== undefined && tokenCode !== undefined
      ? acceptMfaCode(state, caller.user, serialNumber, tokenCode, now.getTime())
      : null;
  const session = state.addSession(caller.key, new Date(now.getTime() + duration * 1000), device !== null, device?.serialNumber ?? null);
  return element(
    'Credentials',
    textElement('AccessKeyId', session.accessKeyId),
    textElement('SecretAccessKey', session.secret),
    textElement('SessionToken', session.token),
    textElement('Expiration', session.expiration),
  );
};

// A Map, not an object: an Action such as `toString` must not find a handler.
export const STS_ACTIONS: ReadonlyMap<string, ActionHandler> = new Map([
  ['GetCallerIdentity', getCallerIdentity],
  ['GetSessionToken', getSessionToken],
]);
