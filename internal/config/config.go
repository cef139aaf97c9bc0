// Package config builds gitsign's settings from git config and the
// environment, and validates them once, before anything else runs.
//
// Settings come from four layers; a later layer wins over an earlier one:
//
//  1. built-in defaults ([Default]);
//  2. git config: the gitsign.* keys plus user.name and user.email, as
//     listed by `git config -z --list` in the current directory;
//  3. SIGSTORE_* environment variables;
//  4. GITSIGN_* environment variables.
//
// The key names, variable names and their order are those of
// sigstore/gitsign, so existing setups keep working. The parsing is
// stricter than the reference's: booleans use git's syntax, a bare git
// config key is a boolean true, multi-line values survive, and a value that
// cannot be used is an [*Error] naming the key or variable, never a value
// silently ignored or replaced by a default. Only the value that takes
// effect is checked: a bad value overridden by a later entry or layer is
// never used and is not an error.
//
// gitsign.enableSigstoreGo and GITSIGN_ENABLE_SIGSTORE_GO are accepted and
// ignored: there is only one signing and verification path.
//
// A few variables have no git config key (the key pins, TUF_ROOT); they
// are read here too, so that every setting is read in one place.
// [Documented] describes every setting for people (docs/configuration.md
// and the man pages are generated from it); [AgentSocket] is the one
// setting gitsign-credential-cache reads.
//
// [Describe] lists every setting, its value and where the value comes
// from, for `gitsign version`; it never shows a token or a secret.
//
// This package does not read the files that settings name (client secret,
// token file, trust roots) and never touches the network. Library packages
// should take the plain values they need rather than import it.
package config

import (
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// Defaults. The Rekor v2 URL is used only when RekorVersion is 2 and no
// Rekor URL was configured at all.
const (
	defaultFulcio           = "https://fulcio.sigstore.dev"
	defaultRekor            = "https://rekor.sigstore.dev"
	defaultRekorV2          = "https://log2025-1.rekor.sigstore.dev"
	defaultClientID         = "sigstore"
	defaultIssuer           = "https://oauth2.sigstore.dev/auth"
	defaultAutocloseTimeout = 6
	maxTimeout              = 10 * time.Minute
)

// Config holds every gitsign setting. Each field lists the git config key
// and environment variables that set it; "*_X" means SIGSTORE_X, overridden
// by GITSIGN_X.
type Config struct {
	// Fulcio is the Fulcio URL: gitsign.fulcio, *_FULCIO_URL.
	Fulcio string
	// FulcioRoot is a PEM file of Fulcio roots and intermediates:
	// gitsign.fulcioRoot, SIGSTORE_ROOT_FILE, *_FULCIO_ROOT.
	FulcioRoot string
	// Rekor is the Rekor URL: gitsign.rekor, *_REKOR_URL. The default
	// depends on RekorVersion.
	Rekor string
	// RekorMode is gitsign.rekorMode, GITSIGN_REKOR_MODE; default offline
	// (the reference defaults to online). Case-insensitive on input.
	RekorMode gitsign.Mode
	// RekorVersion is the Rekor API version, 1 or 2: gitsign.rekorVersion,
	// *_REKOR_VERSION.
	RekorVersion int
	// ClientID is the OIDC client ID: gitsign.clientID, *_OIDC_CLIENT_ID.
	ClientID string
	// ClientSecretFile names a file holding the OIDC client secret:
	// gitsign.clientSecretFile, *_OIDC_CLIENT_SECRET_FILE.
	ClientSecretFile string
	// RedirectURL is the OIDC redirect URL: gitsign.redirectURL,
	// *_OIDC_REDIRECT_URL.
	RedirectURL string
	// Issuer is the OIDC issuer: gitsign.issuer, *_OIDC_ISSUER.
	Issuer string
	// LogPath is a file that diagnostics are appended to: gitsign.logPath,
	// GITSIGN_LOG.
	LogPath string
	// URLOpener is the command that opens the login URL:
	// gitsign.urlOpener, GITSIGN_URL_OPENER.
	URLOpener string
	// ConnectorID is the Dex connector_id: gitsign.connectorID,
	// *_CONNECTOR_ID.
	ConnectorID string
	// TokenProvider selects where the ID token comes from:
	// gitsign.tokenProvider, *_TOKEN_PROVIDER. Empty means automatic.
	TokenProvider string
	// TokenFile names an ID token file for the filesystem provider:
	// gitsign.tokenFile, GITSIGN_TOKEN_FILE.
	TokenFile string
	// TimestampURL is an RFC 3161 timestamp authority:
	// gitsign.timestampServerURL, *_TIMESTAMP_SERVER_URL.
	TimestampURL string
	// TimestampCertChain is a PEM file with the TSA chain:
	// gitsign.timestampCertChain, *_TIMESTAMP_CERT_CHAIN.
	TimestampCertChain string
	// TrustedRoot names a trusted_root.json: gitsign.trustedRoot,
	// *_TRUSTED_ROOT.
	TrustedRoot string
	// MatchCommitter requires the certificate identity to match
	// CommitterEmail: gitsign.matchCommitter, GITSIGN_MATCH_COMMITTER.
	MatchCommitter bool
	// InsecureIgnoreSCT verifies signatures whose certificate has no SCT
	// that verifies (a private Fulcio without a CT log), with a warning:
	// gitsign.insecureIgnoreSCT, GITSIGN_INSECURE_IGNORE_SCT.
	InsecureIgnoreSCT bool
	// Autoclose closes the browser tab after login: gitsign.autoclose,
	// *_AUTOCLOSE.
	Autoclose bool
	// AutocloseTimeout is the autoclose delay in seconds, > 0:
	// gitsign.autocloseTimeout, *_AUTOCLOSE_TIMEOUT.
	AutocloseTimeout int
	// Timeout bounds each network attempt, in (0, 10m]: gitsign.timeout,
	// *_TIMEOUT. Input is a Go duration ("5s") or whole seconds ("30").
	Timeout time.Duration
	// CredentialCache is the credential cache socket path:
	// gitsign.credentialCache, GITSIGN_CREDENTIAL_CACHE.
	CredentialCache string
	// Cache says where credentials are cached between signatures:
	// gitsign.cache, GITSIGN_CACHE; default auto (cache.ModeAuto: the
	// agent when CredentialCache is set or its default socket exists).
	// Case-insensitive on input.
	Cache cache.Mode

	// AllowedSignersFile names the allowed-signers file that is the
	// verification policy: a path (relative to the repository's top
	// level) or REV:PATH, a file in a git revision. Only git config sets
	// it: gitsign.allowedSignersFile; empty means none.
	AllowedSignersFile string

	// CommitterName and CommitterEmail are user.name and user.email.
	CommitterName, CommitterEmail string

	// Verification policy. Each is a multi-valued git config key
	// (gitsign.certificateIdentity, gitsign.certificateIdentityRegexp,
	// gitsign.certificateOIDCIssuer, gitsign.certificateOIDCIssuerRegexp)
	// holding every value in the order git lists them; nil when unset.
	CertificateIdentity, CertificateIdentityRegexp     []string
	CertificateOIDCIssuer, CertificateOIDCIssuerRegexp []string

	// gitsign pre-receive, on the server: ReceiveExempt and
	// ReceiveProtect are the ref patterns of the multi-valued keys
	// gitsign.receive.exempt (refs left alone) and gitsign.receive.protect
	// (refs that may not be deleted or force-moved; nil when unset, so
	// that the hook's defaults apply); ReceiveLog is gitsign.receive.log,
	// the audit log file, empty for none. Only git config sets them.
	ReceiveExempt, ReceiveProtect []string
	ReceiveLog                    string

	// Set only by the environment (envSettings): RekorPublicKeyFile is
	// SIGSTORE_REKOR_PUBLIC_KEY, a PEM file with the Rekor key to verify
	// log entries with; CTLogPublicKeyFile is
	// SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, a PEM file with the CT log key to
	// verify certificate timestamps with (each in place of the trusted
	// root's); TUFRoot is TUF_ROOT, the directory of the TUF cache (empty
	// means ~/.sigstore/tuf).
	RekorPublicKeyFile, CTLogPublicKeyFile, TUFRoot string
}

// Default returns the configuration used when nothing is set.
func Default() *Config {
	return &Config{
		Fulcio:           defaultFulcio,
		Rekor:            defaultRekor,
		RekorMode:        gitsign.Offline,
		RekorVersion:     1,
		ClientID:         defaultClientID,
		Issuer:           defaultIssuer,
		Autoclose:        true,
		AutocloseTimeout: defaultAutocloseTimeout,
		Timeout:          httpx.DefaultTimeout,
		Cache:            cache.ModeAuto,
	}
}
