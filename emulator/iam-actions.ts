import type { ActionContext, ActionHandler, Caller } from './action-context.js';
import { accessKeyLimitExceeded, noSuchAccessKey, noSuchUser } from './aws-errors.js';
import { ACCESS_KEY_ID, ParamReader, USER_NAME } from './params.js';
import { authorizeIam } from './policy.js';
import type { AccessKey, EmulatorState, User } from './state.js';
import { element, memberList, textElement } from './xml.js';

/** IAM's quota of access keys per user. */
export const ACCESS_KEYS_PER_USER = 2;

/** The permission model (policy.ts); a request carries MFA only when signed by a session made with a code. */
function authorize(caller: Caller, action: string, targetUserName: string): void {
  authorizeIam({ user: caller.user, mfa: caller.session?.mfa === true, action, targetUserName });
}

/** A page of `items` from the one whose id is `marker`, in awsQuery's shape: members, IsTruncated, Marker. */
function page<T>(items: readonly T[], idOf: (item: T) => string, marker: string | undefined, maxItems: number) {
  // The marker is the id of the first item of the next page; opaque to clients, as in AWS.
  let start = 0;
  if (marker !== undefined) {
    start = items.findIndex((item) => idOf(item) === marker);
    if (start === -1) start = items.length;
  }
  const next = items[start + maxItems];
  return {
    items: items.slice(start, start + maxItems),
    tail: textElement('IsTruncated', next !== undefined) + (next !== undefined ? textElement('Marker', idOf(next)) : ''),
  };
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
  const { items, tail } = page(context.state.keysOf(user.name), (key) => key.id, marker, maxItems);
  return (
    memberList(
      'AccessKeyMetadata',
      items.map((key) =>
        [
          textElement('UserName', key.userName),
          textElement('AccessKeyId', key.id),
          textElement('Status', key.status),
          textElement('CreateDate', key.createDate),
        ].join(''),
      ),
    ) + tail
  );
};

/** Every kind of device, U2F keys included, in the order they were enabled, as AWS lists them. */
const listMfaDevices: ActionHandler = (context) => {
  const reader = new ParamReader(context.params);
  const userName = reader.string('UserName', { max: 128, pattern: USER_NAME });
  const marker = reader.string('Marker', { max: 320 });
  const maxItems = reader.integer('MaxItems', { min: 1, max: 1000 }) ?? 100;
  reader.check();
  const user = resolveTarget(context, 'ListMFADevices', userName);
  const { items, tail } = page(context.state.mfaDevicesOf(user.name), (device) => device.serialNumber, marker, maxItems);
  return (
    memberList(
      'MFADevices',
      items.map((device) =>
        [
          textElement('UserName', device.userName),
          textElement('SerialNumber', device.serialNumber),
          textElement('EnableDate', device.enableDate),
        ].join(''),
      ),
    ) + tail
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
  ['ListMFADevices', listMfaDevices],
]);
