import { explicitDeny, implicitDeny } from './aws-errors.js';
import type { User } from './state.js';

/** `CreateAccessKey` → `iam:CreateAccessKey`; an already qualified name is kept. */
export function qualifyIamAction(action: string): string {
  return action.includes(':') ? action : `iam:${action}`;
}

/**
 * The `NotAction` of the `DenyAllExceptListedIfNoMFA` statement in AWS's example policy "Allows
 * MFA-authenticated IAM users to manage their own credentials" — the policy AWS's tutorial "Enable
 * your users to configure their own credentials and MFA settings" attaches as `Force_MFA`
 * (awsdocs/iam-user-guide, reference_policies_examples_aws_my-sec-creds-self-manage.md). Without
 * MFA everything else is denied; these are merely not denied (still subject to the allow rules).
 * `iam:ChangePassword` is not among them: AWS suggests adding it only as an option it does not
 * recommend.
 */
export const ALLOWED_WITHOUT_MFA: ReadonlySet<string> = new Set([
  'iam:CreateVirtualMFADevice',
  'iam:EnableMFADevice',
  'iam:GetUser',
  'iam:ListMFADevices',
  'iam:ListVirtualMFADevices',
  'iam:ResyncMFADevice',
  'sts:GetSessionToken',
]);

export interface IamRequest {
  /** The signer. */
  readonly user: User;
  /** Whether the request carries MFA (a session made with a code): `aws:MultiFactorAuthPresent`. */
  readonly mfa: boolean;
  /** `CreateAccessKey` or `iam:CreateAccessKey`. */
  readonly action: string;
  /** The IAM user the action is on. */
  readonly targetUserName: string;
}

/**
 * The emulator's permission model, evaluated as AWS evaluates policies: an explicit deny first
 * (the force-MFA policy, without MFA), then the allows — every user their own keys, an admin
 * anyone's — with `deniedActions` never allowed (an implicit deny, as a missing Allow is).
 * Throws AccessDenied worded as AWS words each kind, because keyup tells them apart.
 */
export function authorizeIam({ user, mfa, action, targetUserName }: IamRequest): void {
  const qualified = qualifyIamAction(action);
  const resource = `user ${targetUserName}`;
  if (user.forceMfa && !mfa && !ALLOWED_WITHOUT_MFA.has(qualified)) {
    throw explicitDeny(user.arn, qualified, resource, user.forceMfaPolicyArn);
  }
  if (user.deniedActions.has(qualified) || !(user.admin || user.name === targetUserName)) {
    throw implicitDeny(user.arn, qualified, resource);
  }
}
