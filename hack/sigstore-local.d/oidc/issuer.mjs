// Local OpenID Provider for hack/sigstore-local. TEST STACK ONLY.
//
// A real OP (oidc-provider) with its built-in development login pages:
// any login and password are accepted; login "alice" becomes
// alice@example.test (email_verified: true). The email claims are put into
// the ID token itself, which is where Fulcio reads them.
//
// Environment:
//   OIDC_PORT       listen port on 127.0.0.1 (default 5556)
//   OIDC_ISSUER     issuer URL (default http://127.0.0.1:$OIDC_PORT)
//   OIDC_REDIRECTS  extra comma-separated redirect URIs for every client
//
// Logins starting with "shortlived" get ID tokens that expire after 2 s, so
// tests can produce a genuinely expired token.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 5556);
const issuer = process.env.OIDC_ISSUER || `http://127.0.0.1:${port}`;

const SHORT_TTL = 2;
const DEFAULT_TTL = 600;

// Loopback redirect URIs: for native clients the port is ignored (RFC 8252
// section 7.3), so one entry per host and path covers every port.
const redirectUris = [];
for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
  for (const path of ['/auth/callback', '/callback', '/']) {
    redirectUris.push(`http://${host}${path}`);
  }
}
for (const extra of (process.env.OIDC_REDIRECTS || '').split(',')) {
  if (extra.trim() && !redirectUris.includes(extra.trim())) redirectUris.push(extra.trim());
}

const publicClient = (clientId) => ({
  client_id: clientId,
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code'],
  redirect_uris: redirectUris,
});

function emailFor(id) {
  return id.includes('@') ? id : `${id}@example.test`;
}

// A fresh signing key on every start.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: randomBytes(8).toString('hex') };
const { privateKey: rsaKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaJwk = { ...rsaKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: randomBytes(8).toString('hex') };

const configuration = {
  clients: [publicClient('sigstore'), publicClient('other-client')],
  // RS256 first: it is the ID token default for clients.
  jwks: { keys: [rsaJwk, jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'offline_access'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: emailFor(id), email_verified: true };
      },
    };
  },
  ttl: {
    AccessToken: DEFAULT_TTL,
    AuthorizationCode: 60,
    DeviceCode: DEFAULT_TTL,
    Grant: 3600,
    IdToken(ctx, token) {
      const sub = String(token?.available?.sub ?? ctx?.oidc?.account?.accountId ?? '');
      return sub.startsWith('shortlived') ? SHORT_TTL : DEFAULT_TTL;
    },
    Interaction: DEFAULT_TTL,
    RefreshToken: 3600,
    Session: 3600,
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;

provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('grant.success', (ctx) => {
  console.log(`grant.success client=${ctx.oidc.client?.clientId} account=${ctx.oidc.account?.accountId}`);
});
provider.on('grant.error', (ctx, err) => console.log(`grant.error ${err.message} ${err.error_description || ''}`));

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc issuer ${issuer} listening on 127.0.0.1:${port}`);
});
