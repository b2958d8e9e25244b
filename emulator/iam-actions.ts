import type { ActionContext, ActionHandler, Caller } from './action-context.js';
import {
  accessDenied,
  accessKeyLimitExceeded,
  noSuchAccessKey,
  noSuchUser,
} from './aws-errors.js';
import { ACCESS_KEY_ID, ParamReader, USER_NAME } from './params.js';
import type { AccessKey, EmulatorState, User } from './state.js';
import { element, memberList, textElement } from './xml.js';

/** IAM's quota of access keys per user. */
export const ACCESS_KEYS_PER_USER = 2;

/** `CreateAccessKey` → `iam:CreateAccessKey`; an already qualified name is kept. */
export function qualifyIamAction(action: string): string {
  return action.includes(':') ? action : `iam:${action}`;
}

/**
 * The emulator's permission model: every user may manage their own keys, an admin anyone's,
 * and a user's denied actions are refused outright — with AWS's AccessDenied wording.
 */
function authorize(caller: Caller, action: string, targetUserName: string): void {
  const qualified = qualifyIamAction(action);
  const allowed =
    !caller.user.deniedActions.has(qualified) && (caller.user.admin || caller.user.name === targetUserName);
  if (!allowed) {
    throw accessDenied(
      `User: ${caller.user.arn} is not authorized to perform: ${qualified} on resource: user ${targetUserName} ` +
        `because no identity-based policy allows the ${qualified} action`,
    );
  }
}

/** Authorizes `action` on the named user (default: the caller) and returns that user. */
function resolveTarget(context: ActionContext, action: string, userName: string | undefined): User {
  const targetName = userName ?? context.caller.user.name;
  authorize(context.caller, action, targetName);
  const user = context.state.users.get(targetName);
  if (user === undefined) throw noSuchUser(targetName);
  return user;
}

function findKeyOf(state: EmulatorState, user: User, accessKeyId: string): AccessKey {
  const key = state.accessKeys.get(accessKeyId);
  if (key === undefined || key.userName !== user.name) throw noSuchAccessKey(accessKeyId);
  return key;
}

function renderUser(user: User): string {
  return element(
    'User',
    textElement('Path', user.path),
    textElement('UserName', user.name),
    textElement('UserId', user.id),
    textElement('Arn', user.arn),
    textElement('CreateDate', user.createDate),
  );
}

const getUser: ActionHandler = (context) => {
  const reader = new ParamReader(context.params);
  const userName = reader.string('UserName', { max: 128, pattern: USER_NAME });
  reader.check();
  return renderUser(resolveTarget(context, 'GetUser', userName));
};

const listAccessKeys: ActionHandler = (context) => {
  const reader = new ParamReader(context.params);
  const userName = reader.string('UserName', { max: 128, pattern: USER_NAME });
  const marker = reader.string('Marker', { max: 320 });
  const maxItems = reader.integer('MaxItems', { min: 1, max: 1000 }) ?? 100;
  reader.check();
  const user = resolveTarget(context, 'ListAccessKeys', userName);
  const keys = context.state.keysOf(user.name);
  // The marker is the id of the first key of the next page; opaque to clients, as in AWS.
  let start = 0;
  if (marker !== undefined) {
    start = keys.findIndex((key) => key.id === marker);
    if (start === -1) start = keys.length;
  }
  const page = keys.slice(start, start + maxItems);
  const next = keys[start + maxItems];
  return (
    memberList(
      'AccessKeyMetadata',
      page.map((key) =>
        [
          textElement('UserName', key.userName),
          textElement('AccessKeyId', key.id),
          textElement('Status', key.status),
          textElement('CreateDate', key.createDate),
        ].join(''),
      ),
    ) +
    textElement('IsTruncated', next !== undefined) +
    (next !== undefined ? textElement('Marker', next.id) : '')
  );
};

const createAccessKey: ActionHandler = (context) => {
  const reader = new ParamReader(context.params);
  const userName = reader.string('UserName', { max: 128, pattern: USER_NAME });
  reader.check();
  const user = resolveTarget(context, 'CreateAccessKey', userName);
  if (context.state.keysOf(user.name).length >= ACCESS_KEYS_PER_USER) throw accessKeyLimitExceeded();
  const key = context.state.addAccessKey({
    userName: user.name,
    createDate: context.now,
    status: 'Active',
    pendingSince: context.now.getTime(),
  });
  return element(
    'AccessKey',
    textElement('UserName', key.userName),
    textElement('AccessKeyId', key.id),
    textElement('Status', key.status),
    textElement('SecretAccessKey', key.secret),
    textElement('CreateDate', key.createDate),
  );
};

const updateAccessKey: ActionHandler = (context) => {
  const reader = new ParamReader(context.params);
  const userName = reader.string('UserName', { max: 128, pattern: USER_NAME });
  const accessKeyId = reader.string('AccessKeyId', { required: true, min: 16, max: 128, pattern: ACCESS_KEY_ID });
  const status = reader.enumeration('Status', ['Active', 'Inactive'] as const, { required: true });
  reader.check();
  const user = resolveTarget(context, 'UpdateAccessKey', userName);
  findKeyOf(context.state, user, accessKeyId as string).status = status as 'Active' | 'Inactive';
  return null;
};

const deleteAccessKey: ActionHandler = (context) => {
  const reader = new ParamReader(context.params);
  const userName = reader.string('UserName', { max: 128, pattern: USER_NAME });
  const accessKeyId = reader.string('AccessKeyId', { required: true, min: 16, max: 128, pattern: ACCESS_KEY_ID });
  reader.check();
  const user = resolveTarget(context, 'DeleteAccessKey', userName);
  context.state.accessKeys.delete(findKeyOf(context.state, user, accessKeyId as string).id);
  return null;
};

const getAccessKeyLastUsed: ActionHandler = (context) => {
  const reader = new ParamReader(context.params);
  const accessKeyId = reader.string('AccessKeyId', { required: true, min: 16, max: 128, pattern: ACCESS_KEY_ID });
  reader.check();
  const key = context.state.accessKeys.get(accessKeyId as string);
  if (key === undefined) throw noSuchAccessKey(accessKeyId as string);
  authorize(context.caller, 'GetAccessKeyLastUsed', key.userName);
  const lastUsed = key.lastUsed;
  // A key never used reports "N/A" for service and region and no date, as AWS does.
  return (
    textElement('UserName', key.userName) +
    element(
      'AccessKeyLastUsed',
      textElement('LastUsedDate', lastUsed?.date),
      textElement('ServiceName', lastUsed?.serviceName ?? 'N/A'),
      textElement('Region', lastUsed?.region ?? 'N/A'),
    )
  );
};

// A Map, not an object: an Action such as `toString` must not find a handler.
export const IAM_ACTIONS: ReadonlyMap<string, ActionHandler> = new Map([
  ['GetUser', getUser],
  ['ListAccessKeys', listAccessKeys],
  ['CreateAccessKey', createAccessKey],
  ['UpdateAccessKey', updateAccessKey],
  ['DeleteAccessKey', deleteAccessKey],
  ['GetAccessKeyLastUsed', getAccessKeyLastUsed],
]);
