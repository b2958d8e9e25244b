import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseIni } from '../../src/credentials/parse.js';
import { listProfiles, parseExpiry } from '../../src/credentials/profiles.js';
import type { Profile } from '../../src/credentials/profiles.js';

const ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function list(credentials: string, config?: string): Profile[] {
  return listProfiles(parseIni(credentials, 'credentials'), config === undefined ? undefined : parseIni(config, 'config'));
}

function find(profiles: Profile[], name: string): Profile | undefined {
  return profiles.find((p) => p.name === name);
}

describe('listProfiles', () => {
  it('classifies a key id with its secret and no token as long-term', () => {
    const [profile] = list(`[default]\naws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}\n`);
    expect(profile).toMatchObject({ name: 'default', source: 'credentials', kind: 'long-term', accessKeyId: ID });
    expect(profile?.kind === 'long-term' && profile.secretAccessKey).toBe(SECRET);
  });

  it('reads mfa_serial of a long-term profile from its AWS config section, else from the credentials file', () => {
    const credentials = `[work]\naws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}\nmfa_serial = arn:aws:iam::123456789012:mfa/old\n[home]\naws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}\n[cli]\naws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}\nmfa_serial = GAHT12345678\n`;
    const config = '[profile work]\nregion = eu-west-1\nmfa_serial = arn:aws:iam::123456789012:mfa/alice ; her phone\n[profile home]\nmfa_serial =\n';
    const profiles = list(credentials, config);
    expect(find(profiles, 'work')).toMatchObject({ kind: 'long-term', mfaSerial: 'arn:aws:iam::123456789012:mfa/alice ; her phone' });
    // An empty value names no device.
    expect(find(profiles, 'home')).not.toHaveProperty('mfaSerial');
    expect(find(profiles, 'cli')).toMatchObject({ mfaSerial: 'GAHT12345678' });
  });

  it('hides secrets from JSON, spreading and util.inspect, so they never reach a log', () => {
    const profiles = list(`[a]\naws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}\n[t]\naws_access_key_id = ASIAX\naws_secret_access_key = ${SECRET}\naws_session_token = TOKENVALUE\n`);
    for (const text of [JSON.stringify(profiles), inspect(profiles, { depth: 5 }), JSON.stringify(profiles.map((p) => ({ ...p })))]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('TOKENVALUE');
    }
  });

  it.each(['aws_session_token', 'aws_security_token', 'AWS_Session_Token'])('classifies %s as temporary', (tokenKey) => {
    const [profile] = list(`[t]\naws_access_key_id = ASIAX\naws_secret_access_key = s\n${tokenKey} = tok\n`);
    expect(profile).toMatchObject({ kind: 'temporary', accessKeyId: 'ASIAX' });
    expect(profile?.kind === 'temporary' && profile.sessionToken).toBe('tok');
  });

  it.each(['aws_expiration', 'x_security_token_expires', 'aws_session_expiration', 'expiration'])('reads the expiry from %s', (key) => {
    const [profile] = list(`[t]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = tok\n${key} = 2026-11-24T08:00:00Z\n`);
    expect(profile).toMatchObject({ kind: 'temporary', expirationKey: key, expiresAt: new Date('2026-11-24T08:00:00Z') });
  });

  it('leaves expiresAt out when there is no expiry or it cannot be read', () => {
    const [none, bad] = list('[a]\naws_access_key_id = A\naws_secret_access_key = s\naws_session_token = t\n[b]\naws_access_key_id = A\naws_secret_access_key = s\naws_session_token = t\nexpiration = soon\n');
    expect(none).not.toHaveProperty('expiresAt');
    expect(none).not.toHaveProperty('expirationKey');
    expect(bad).toMatchObject({ expirationKey: 'expiration' });
    expect(bad).not.toHaveProperty('expiresAt');
  });

  it.each([
    ['role_arn = arn:aws:iam::1:role/r\nsource_profile = base', 'assume-role'],
    ['role_arn = arn:aws:iam::1:role/r\nweb_identity_token_file = /t', 'web-identity'],
    ['sso_session = corp\nsso_account_id = 1', 'sso'],
    ['sso_start_url = https://x.awsapps.com/start', 'sso'],
    ['credential_process = /bin/creds', 'process'],
    ['login_session = arn:aws:iam::1:user/u', 'login'],
    [`aws_access_key_id = ${ID}`, 'incomplete'],
    ['region = eu-west-1', 'none'],
  ])('never classifies %j as long-term (%s)', (settings, via) => {
    expect(list(`[p]\n${settings}\n`)[0]).toMatchObject({ kind: 'other', via, source: 'credentials' });
  });

  it('follows botocore: a role beats static keys, static keys in the credentials file beat credential_process', () => {
    const keys = `aws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}`;
    const profiles = list(`[r]\n${keys}\nrole_arn = arn\n[c]\n${keys}\ncredential_process = /bin/x\n`);
    expect(find(profiles, 'r')).toMatchObject({ kind: 'other', via: 'assume-role' });
    expect(find(profiles, 'c')).toMatchObject({ kind: 'long-term' });
  });

  describe('with the AWS config file', () => {
    it('names [profile x] sections x, and [default] default', () => {
      const config = `[default]\nregion = a\n[profile dev.team]\nregion = b\n[profile "with space"]\nregion = c\n[sso-session corp]\nsso_region = d\n[services s]\n`;
      expect(list('[x]\na = 1\n', config).map((p) => p.name)).toEqual(['x', 'default', 'dev.team', 'with space']);
    });

    it('ignores headers botocore ignores: [profile a b], [profilex], [profile "open]', () => {
      expect(list('[x]\na=1\n', '[profile a b]\nr=1\n[profilex]\nr=1\n[profile "open]\nr=1\n').map((p) => p.name)).toEqual(['x']);
    });

    it('lets a later section of the same profile replace the earlier one whole', () => {
      const profiles = list('[x]\na=1\n', `[default]\naws_access_key_id = ${ID}\naws_secret_access_key = s\n[profile default]\nregion = r\n`);
      expect(find(profiles, 'default')).toMatchObject({ kind: 'other', via: 'none', source: 'config' });
    });

    it('makes a credentials profile "other" when its config profile assumes a role', () => {
      const profiles = list(`[dev]\naws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}\n`, '[profile dev]\nrole_arn = arn\nsource_profile = base\n');
      expect(find(profiles, 'dev')).toMatchObject({ kind: 'other', via: 'assume-role', source: 'config' });
    });

    it('reads static keys in the config file when the credentials file has none for that profile', () => {
      const profiles = list('[x]\na=1\n', `[profile cfg]\naws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}\n`);
      expect(find(profiles, 'cfg')).toMatchObject({ kind: 'long-term', source: 'config', accessKeyId: ID });
    });

    it('prefers the credentials file key, key by key', () => {
      const profiles = list(`[p]\naws_access_key_id = ${ID}\naws_secret_access_key = ${SECRET}\n`, '[profile p]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = x\nregion = r\n');
      expect(find(profiles, 'p')).toMatchObject({ kind: 'long-term', source: 'credentials', accessKeyId: ID });
    });

    it('keeps "profile x" as a literal name in the credentials file, as the CLI does', () => {
      expect(list('[profile x]\na = 1\n').map((p) => p.name)).toEqual(['profile x']);
    });
  });

  it('applies [DEFAULT] settings to every profile, as configparser does', () => {
    const profiles = list(`[DEFAULT]\naws_secret_access_key = ${SECRET}\n[a]\naws_access_key_id = ${ID}\n`);
    expect(profiles).toHaveLength(1);
    expect(profiles[0]).toMatchObject({ name: 'a', kind: 'long-term' });
  });
});

describe('parseExpiry', () => {
  it('reads ISO dates and epoch seconds or milliseconds', () => {
    expect(parseExpiry('2026-11-24T08:00:00+00:00')).toEqual(new Date('2026-11-24T08:00:00Z'));
    expect(parseExpiry('1795507200')).toEqual(new Date(1795507200_000));
    expect(parseExpiry('1795507200000')).toEqual(new Date(1795507200_000));
    expect(parseExpiry('tomorrow')).toBeUndefined();
  });
});
