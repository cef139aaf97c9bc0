package config

import (
	"slices"
	"strings"
)

// A Doc describes one setting for people: docs/configuration.md, the man
// pages and diagnostics are made from these. It is a read-only view:
// nothing reads a setting through it.
type Doc struct {
	// Key is the git config key, as documented (e.g. "gitsign.fulcio");
	// empty for a variable that only the environment sets.
	Key string `json:"key,omitempty"`
	// Env are the environment variables that set it, lowest precedence
	// first: a later one wins over an earlier one and over git config.
	Env []string `json:"env,omitempty"`
	// Multi means the key may be given many times and every value is
	// kept, in order; for any other key the last value wins.
	Multi bool `json:"multi,omitempty"`
	// Kind is what a value is, in a few words: "URL", "path", "boolean",
	// "offline or online".
	Kind string `json:"kind"`
	// Default is the value when nothing sets it, as it would be written;
	// empty when there is none or it is not one fixed value.
	Default string `json:"default,omitempty"`
	// DefaultNote says in words what Default cannot: a default worked
	// out when it is needed, or when Default does not apply.
	DefaultNote string `json:"defaultNote,omitempty"`
	// Text says what the setting does, in one to three sentences of plain
	// text (no markup).
	Text string `json:"text"`
}

// Name is the name a Doc goes by: its git config key, or its variable.
func (d Doc) Name() string {
	if d.Key != "" {
		return d.Key
	}
	return d.Env[0]
}

// Documented returns every setting gitsign reads, documented, in a fixed
// order: the single-valued git config keys (as [Describe] lists them,
// then user.name and user.email), the multi-valued ones, then the
// variables that no git config key sets. The slice is a copy.
func Documented() []Doc {
	var out []Doc
	add := func(key string, env []string, multi bool) {
		d := docs[docName(key, env)]
		d.Key, d.Env, d.Multi = key, slices.Clone(env), multi
		out = append(out, d)
	}
	for _, s := range settings {
		add(s.key, s.env, false)
	}
	for _, m := range multis {
		add(m.key, nil, true)
	}
	for _, v := range envOnly {
		add("", []string{v.name}, false)
	}
	return out
}

// docName is the key of docs for a setting: its git config key, else its
// only variable.
func docName(key string, env []string) string {
	if key != "" || len(env) == 0 {
		return key
	}
	return env[0]
}

// AgentSocket returns the socket gitsign-credential-cache listens on when
// its --socket flag is not given, from the variables of
// gitsign.credentialCache as lookupEnv (e.g. [os.LookupEnv]) gives them;
// "" when none is set, for the default path. The agent reads no git
// config: one agent serves every repository, and systemd starts it
// outside any.
func AgentSocket(lookupEnv func(string) (string, bool)) string {
	src, _ := settingByKey[lowerASCII("gitsign.credentialCache")].pick(nil, lookupEnv)
	return src.value
}

// docs document each setting, by git config key or, for a variable no key
// sets, by the variable. Defaults that Default gives are checked against
// it by the tests.
var docs = map[string]Doc{
	"gitsign.fulcio": {Kind: "URL", Default: defaultFulcio,
		Text: "The Fulcio certificate authority that issues the short-lived signing certificate."},
	"gitsign.fulcioRoot": {Kind: "path",
		Text: "A PEM file of Fulcio root and intermediate certificates to verify with, in place of the trusted root's. SIGSTORE_ROOT_FILE is the reference implementation's older name for it."},
	keyRekor: {Kind: "URL", Default: defaultRekor, DefaultNote: "with gitsign.rekorVersion 2: " + defaultRekorV2,
		Text: "The Rekor transparency log that signatures are recorded in, and where online-mode signatures are looked up."},
	"gitsign.rekorMode": {Kind: "offline or online", Default: "offline",
		Text: "offline records a signature in Rekor and embeds the entry, with its inclusion proof, in the signature, so that it verifies without the network. online (the reference implementation's default) records the commit or tag id and embeds nothing: verifiers must look the entry up in Rekor."},
	"gitsign.rekorVersion": {Kind: "1 or 2", Default: "1",
		Text: "The Rekor API version. Version 2 logs give no signed time, so they need a timestamp authority (gitsign.timestampServerURL)."},
	"gitsign.clientID": {Kind: "string", Default: defaultClientID,
		Text: "The OIDC client ID to log in with."},
	"gitsign.clientSecretFile": {Kind: "path",
		Text: "A file holding the OIDC client secret, for an issuer whose client needs one. The secret is never shown."},
	"gitsign.redirectURL": {Kind: "URL", DefaultNote: "http://localhost:<random port>/auth/callback",
		Text: "The redirect URL of the browser login, for an issuer that accepts only the one registered for its client: gitsign listens on its host and port (0 picks a free one) and serves its path."},
	"gitsign.issuer": {Kind: "URL", Default: defaultIssuer,
		Text: "The OIDC issuer to log in with."},
	"gitsign.logPath": {Kind: "path",
		Text: "A file that gitsign appends its errors and warnings to. A symbolic link, anything but a regular file, a file owned by another user, or one writable by group or others is refused with a warning."},
	"gitsign.urlOpener": {Kind: "command", DefaultNote: "the system browser",
		Text: "The command that opens the login URL in a browser."},
	"gitsign.connectorID": {Kind: "string",
		Text: "The connector (upstream identity provider) a Dex issuer such as oauth2.sigstore.dev should use, so that its choice of provider is skipped."},
	"gitsign.tokenProvider": {Kind: "provider name",
		DefaultNote: "automatic: SIGSTORE_ID_TOKEN, the token file, GitHub Actions, then the browser or a device code",
		Text:        "Where the OIDC ID token comes from: " + strings.Join(tokenProviders, ", ") + "; empty chooses automatically."},
	"gitsign.tokenFile": {Kind: "path", DefaultNote: "/var/run/sigstore/cosign/oidc-token",
		Text: "A file holding an OIDC ID token, for the filesystem provider (the automatic choice tries it too)."},
	"gitsign.timestampServerURL": {Kind: "URL",
		Text: "An RFC 3161 timestamp authority: when set, every signature gets a timestamp from it. Rekor v2 needs one."},
	"gitsign.timestampCertChain": {Kind: "path",
		Text: "A PEM file with the timestamp authority's certificate chain, to verify its timestamps with when the trusted root does not list it."},
	"gitsign.trustedRoot": {Kind: "path",
		DefaultNote: "the TUF cache (gitsign initialize), else the public-good root built into gitsign",
		Text:        "A Sigstore trusted_root.json that signatures are verified with."},
	"gitsign.matchCommitter": {Kind: "boolean", Default: "false",
		Text: "Refuse to sign unless the certificate's identity is the committer's email address (user.email)."},
	"gitsign.insecureIgnoreSCT": {Kind: "boolean", Default: "false",
		Text: "Verify signatures and attestations whose certificate has no SCT that verifies: for a private Sigstore whose Fulcio logs to no certificate transparency log (the trusted root then lists none). Each signature accepted so gets a warning. What is lost: CT is how a certificate Fulcio issued wrongly, or that someone got with a stolen token, is seen by the identity's owner; without it only the Rekor entry records it. The same as verify's --insecure-ignore-sct."},
	"gitsign.autoclose": {Kind: "boolean", Default: "true",
		Text: "Close the browser tab of a successful login after gitsign.autocloseTimeout seconds."},
	"gitsign.autocloseTimeout": {Kind: "whole seconds", Default: "6",
		Text: "How long the login success page stays open before it closes itself."},
	"gitsign.timeout": {Kind: "duration", Default: "30s",
		Text: "The time limit of each network attempt: a duration such as 30s or 1m, or whole seconds, at most 10m. Connection errors and 5xx answers are retried at most twice."},
	"gitsign.credentialCache": {Kind: "path",
		DefaultNote: "gitsign/cache.sock in the user's cache directory (~/.cache/gitsign/cache.sock on Linux)",
		Text:        "The socket of the credential cache agent. The agent itself reads --socket or GITSIGN_CREDENTIAL_CACHE, not git config."},
	"gitsign.cache": {Kind: "auto, agent, keyring or off", Default: "auto",
		Text: "Where credentials are kept between signatures. auto: the agent, if GITSIGN_CREDENTIAL_CACHE is set or the agent's default socket exists, else nothing; agent: always the agent (with a warning when it is not running); keyring: the OS keyring; off: nothing."},
	"gitsign.allowedSignersFile": {Kind: "path or REV:PATH",
		DefaultNote: "none; for gitsign pre-receive, HEAD:.gitsigners",
		Text:        "The allowed-signers file that says who may sign (gitsign-allowed-signers(5)): a path from the top of the work tree, or REV:PATH, a file in a git revision. It cannot be combined with the gitsign.certificate* keys."},
	"gitsign.receive.log": {Kind: "path",
		Text: "For gitsign pre-receive: a file to which one JSON line per push is appended. If it cannot be written, the push is refused."},
	"user.name": {Kind: "string",
		Text: "git's committer name: with gitsign.matchCommitter, a workload's certificate may name it as a URI in place of user.email."},
	"user.email": {Kind: "email address",
		Text: "git's committer email address: with gitsign.matchCommitter, the certificate must name it."},

	"gitsign.certificateIdentity": {Kind: "identity",
		Text: "Verification accepts signatures whose certificate identity (its SAN: an email address or a URI) is this value. A signature must match one identity rule and one issuer rule."},
	"gitsign.certificateIdentityRegexp": {Kind: "regular expression",
		Text: "Verification accepts identities this regular expression matches (the whole value). Only one of the identity and issuer keys may have several values."},
	"gitsign.certificateOIDCIssuer": {Kind: "URL",
		Text: "Verification accepts certificates from this OIDC issuer."},
	"gitsign.certificateOIDCIssuerRegexp": {Kind: "regular expression",
		Text: "Verification accepts issuers this regular expression matches (the whole value)."},
	"gitsign.receive.exempt": {Kind: "ref pattern",
		Text: "For gitsign pre-receive: refs left alone (* matches any characters, / included)."},
	"gitsign.receive.protect": {Kind: "ref pattern",
		DefaultNote: "the branch HEAD names, and refs/tags/*",
		Text:        "For gitsign pre-receive: refs that may not be deleted, nor moved other than forward (tags: not moved at all). An empty value protects none."},

	"SIGSTORE_ID_TOKEN": {Kind: "token",
		Text: "An OIDC ID token to log in with (the envvar provider; the automatic choice tries it first). It is never printed, logged or stored."},
	"SIGSTORE_REKOR_PUBLIC_KEY": {Kind: "path",
		Text: "A PEM file with the Rekor public key to verify log entries with, in place of the trusted root's Rekor keys."},
	"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE": {Kind: "path",
		Text: "A PEM file with the certificate transparency log's public key to verify certificate timestamps (SCTs) with, in place of the trusted root's CT logs."},
	"TUF_ROOT": {Kind: "path", DefaultNote: "~/.sigstore/tuf",
		Text: "The directory where gitsign initialize caches the trusted root it fetches through TUF, and where verification looks for it."},
	"GITSIGN_IAM_CREDENTIALS_URL": {Kind: "URL", DefaultNote: "https://iamcredentials.googleapis.com",
		Text: "The Google IAM Credentials API that the google-impersonate token provider asks for the service account's identity token, for a private endpoint: an https URL, or http on a loopback address. The access token of the Application Default Credentials is sent there."},
	"GITSIGN_ENABLE_SIGSTORE_GO": {Kind: "boolean",
		Text: "Accepted and ignored, for the reference implementation's setups: gitsign has one signing and verification path."},
}

// SetBy names, for a message, what sets the single-valued setting key:
// "git config KEY or VAR", VAR the variable that wins (e.g. "git config
// gitsign.fulcio or GITSIGN_FULCIO_URL"), or "git config KEY" when no
// variable sets it.
func SetBy(key string) string {
	s, ok := settingByKey[lowerASCII(key)]
	if !ok {
		panic("config.SetBy: no setting " + key)
	}
	if len(s.env) == 0 {
		return "git config " + s.key
	}
	return "git config " + s.key + " or " + s.env[len(s.env)-1]
}
