import type { IniDocument, IniEntry } from './parse.js';
import { detach } from './lines.js';
import { splitShellWords } from './shell-words.js';

/** Which file holds the settings that decide how a profile gets its credentials. */
export type ProfileSource = 'credentials' | 'config';

/**
 * How a profile that holds no static key of its own gets credentials, named after botocore's
 * providers, in the order it tries them. keyup never rotates these.
 */
export type OtherCredentials =
  | 'assume-role'
  | 'web-identity'
  | 'sso'
  | 'login'
  | 'process'
  /** An access key id without its secret: the AWS CLI refuses such a profile. */
  | 'incomplete'
  /** Nothing at all, e.g. a config profile that only sets a region. */
  | 'none';

interface ProfileBase {
  /** The name `--profile` takes: `[name]` in the credentials file, `[profile name]` in the config file. */
  readonly name: string;
  readonly source: ProfileSource;
}

/**
 * A long-term IAM access key: the only kind keyup rotates. `secretAccessKey` is not enumerable,
 * so `JSON.stringify`, loggers and `util.inspect` leave it out.
 */
export interface LongTermProfile extends ProfileBase {
  readonly kind: 'long-term';
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /**
   * `mfa_serial` of the profile, from its AWS config section (else the credentials file's): the
   * MFA device whose code IAM wants before this key may change keys.
   */
  readonly mfaSerial?: string;
}

/**
 * Temporary credentials (`aws_session_token`, or the older `aws_security_token`): while STS still
 * accepts them, rotation is deferred. The secret and the token are not enumerable.
 */
export interface TemporaryProfile extends ProfileBase {
  readonly kind: 'temporary';
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** The key that holds the expiry, when the file has one of {@link EXPIRY_KEYS}. */
  readonly expirationKey?: string;
  /** The expiry, when that value is an ISO date or epoch seconds. */
  readonly expiresAt?: Date;
}

export interface OtherProfile extends ProfileBase {
  readonly kind: 'other';
  readonly via: OtherCredentials;
}

export type Profile = LongTermProfile | TemporaryProfile | OtherProfile;

/** Keys that tools writing temporary credentials (aws-mfa, saml2aws, …) use for the expiry. */
export const EXPIRY_KEYS = ['aws_expiration', 'x_security_token_expires', 'aws_session_expiration', 'expiration'] as const;

const ACCESS_KEY_ID = 'aws_access_key_id';
const SECRET_ACCESS_KEY = 'aws_secret_access_key';
/** botocore looks for the older name first. */
const TOKEN_KEYS = ['aws_security_token', 'aws_session_token'] as const;
const MFA_SERIAL = 'mfa_serial';
const SSO_KEYS = ['sso_session', 'sso_start_url', 'sso_region', 'sso_account_id', 'sso_role_name'] as const;

type Entries = ReadonlyMap<string, IniEntry>;

/**
 * Every key {@link listProfiles} reads but the secret: what decides a profile's kind, its key, its
 * session and its MFA device. A change elsewhere in a section (a region, a comment) changes none
 * of what keyup does.
 */
export const CLASSIFYING_KEYS: readonly string[] = [
  'role_arn',
  'web_identity_token_file',
  ...SSO_KEYS,
  MFA_SERIAL,
  ACCESS_KEY_ID,
  'login_session',
  'credential_process',
  ...TOKEN_KEYS,
  ...EXPIRY_KEYS,
];

/**
 * Lists every profile of the credentials and config files and says how the AWS CLI would get its
 * credentials, following botocore's provider chain: a role (`role_arn`), web identity, SSO, then
 * static keys in the credentials file, `login_session`, `credential_process`, and last static keys
 * in the config file. A profile in both files has the credentials file's settings win, key by key.
 * Credentials-file profiles come first, in file order.
 */
export function listProfiles(credentials: IniDocument, config?: IniDocument): Profile[] {
  const fromCredentials = new Map(credentials.sections.map((section) => [section.name, section.entries]));
  const fromConfig = config === undefined ? new Map<string, Entries>() : mapConfigProfiles(config);
  const names = new Set([...fromCredentials.keys(), ...fromConfig.keys()]);
  return [...names].map((name) => classifyProfile(detach(name), fromCredentials.get(name), fromConfig.get(name)));
}

/**
 * `[default]` and `[profile name]` sections of the config file, by profile name. As in botocore's
 * `build_profile_map`: the header is split like a shell line and must be two words; a later
 * section for the same profile replaces an earlier one whole.
 */
function mapConfigProfiles(config: IniDocument): Map<string, Entries> {
  const profiles = new Map<string, Entries>();
  for (const { name, entries } of config.sections) {
    if (name === 'default') profiles.set(name, entries);
    else if (name.startsWith('profile')) {
      const words = splitShellWords(name);
      if (words?.length === 2 && words[1] !== undefined) profiles.set(words[1], entries);
    }
  }
  return profiles;
}

/**
 * The profile name of a config-file section: `[profile ci]` is `ci`, `[default]` is `default`;
 * anything else (`[sso-session x]`, `[services y]`) keeps its section name.
 */
export function toConfigProfileName(section: string): string {
  if (section === 'default' || !section.startsWith('profile')) return section;
  const words = splitShellWords(section);
  return words?.length === 2 && words[1] !== undefined ? words[1] : section;
}

function classifyProfile(name: string, credentials: Entries | undefined, config: Entries | undefined): Profile {
  const sourceOf = (key: string): ProfileSource => (credentials?.has(key) === true ? 'credentials' : 'config');
  const other = (via: OtherCredentials, key: string): OtherProfile => ({ name, source: sourceOf(key), kind: 'other', via });
  const has = (key: string): boolean => credentials?.has(key) === true || config?.has(key) === true;

  if (has('role_arn')) return has('web_identity_token_file') ? other('web-identity', 'role_arn') : other('assume-role', 'role_arn');
  const sso = SSO_KEYS.find(has);
  if (sso !== undefined) return other('sso', sso);
  const mfaSerial = (config?.get(MFA_SERIAL) ?? credentials?.get(MFA_SERIAL))?.value.trim();
  const mfa = mfaSerial === undefined || mfaSerial === '' ? undefined : detach(mfaSerial);
  if (credentials?.has(ACCESS_KEY_ID) === true) return readStaticKey(name, 'credentials', credentials, mfa);
  if (has('login_session')) return other('login', 'login_session');
  if (has('credential_process')) return other('process', 'credential_process');
  if (config?.has(ACCESS_KEY_ID) === true) return readStaticKey(name, 'config', config, mfa);
  return { name, source: credentials === undefined ? 'config' : 'credentials', kind: 'other', via: 'none' };
}

function readStaticKey(name: string, source: ProfileSource, entries: Entries, mfaSerial: string | undefined): Profile {
  // Copies, not slices: a profile kept for months (the daemon's view) must not keep the whole
  // file text, old secrets included, alive through a substring of it.
  const accessKeyId = detach(entries.get(ACCESS_KEY_ID)?.value ?? '');
  const secret = entries.get(SECRET_ACCESS_KEY);
  if (secret === undefined) return { name, source, kind: 'other', via: 'incomplete' };
  const token = TOKEN_KEYS.map((key) => entries.get(key)).find((entry) => entry !== undefined);
  if (token === undefined) {
    return hideSecrets({ name, source, kind: 'long-term' as const, accessKeyId, ...(mfaSerial === undefined ? {} : { mfaSerial }) }, { secretAccessKey: detach(secret.value) });
  }
  const expiry = EXPIRY_KEYS.map((key) => entries.get(key)).find((entry) => entry !== undefined);
  const expiresAt = expiry === undefined ? undefined : parseExpiry(expiry.value);
  return hideSecrets(
    {
      name,
      source,
      kind: 'temporary' as const,
      accessKeyId,
      ...(expiry === undefined ? {} : { expirationKey: expiry.key }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    },
    { secretAccessKey: detach(secret.value), sessionToken: detach(token.value) },
  );
}

/** Adds `hidden` as read-only properties that serialisers and loggers do not see. */
function hideSecrets<T extends object, S extends Record<string, string>>(visible: T, hidden: S): T & Readonly<S> {
  const target = { ...visible };
  for (const [key, value] of Object.entries(hidden)) Object.defineProperty(target, key, { value, enumerable: false });
  return target as T & Readonly<S>;
}

/** Reads an ISO 8601 date or epoch seconds (milliseconds when that large), the forms tools write. */
export function parseExpiry(value: string): Date | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const number = Number(trimmed);
    return new Date(number >= 1e12 ? number : number * 1000);
  }
  const time = Date.parse(trimmed);
  return Number.isNaN(time) ? undefined : new Date(time);
}
