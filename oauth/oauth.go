// Package oauth obtains OIDC identity tokens for keyless signing: from the
// SIGSTORE_ID_TOKEN environment variable, from a token file, from GitHub
// Actions' token endpoint, from the Buildkite agent of a Buildkite job
// (buildkite-agent oidc request-token), from the GCE/GKE metadata server,
// from Google's IAM Credentials API for an impersonated service account,
// from the SPIFFE Workload API (a JWT-SVID from a SPIRE agent), by
// running the OAuth 2.0 authorization-code flow (PKCE S256, state and
// nonce) in the user's browser, or by the device authorization grant
// (RFC 8628) for machines without a browser.
//
// It is not a general OAuth client: it never refreshes identity tokens,
// never caches them and never writes them anywhere (google-impersonate
// uses Google's credentials, through golang.org/x/oauth2/google, only for
// the access token of one request). Ambient tokens (environment, file,
// GitHub Actions, Buildkite, Google, SPIFFE) are only decoded
// (ParseUnverified); their signature is checked by the certificate
// authority (Fulcio) that receives them. Tokens from the browser and device
// flows are fully verified (signature, issuer, audience, expiry, nonce).
//
// The package words nothing for a person: what the person must be told (the
// URL to open, the device code) reaches Options.Notify as a Notice, and
// what a launched browser prints goes to Options.Terminal, never to
// standard output, which carries the signature when gitsign runs under git.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/internal/syncbuf"
)

// Provider names accepted in Options.Provider (the reference's names).
const (
	ProviderAuto          = ""
	ProviderInteractive   = "interactive"
	ProviderDevice        = "device"
	ProviderFilesystem    = "filesystem"
	ProviderEnvVar        = "envvar"
	ProviderGitHubActions = "github-actions"
)

// EnvIDToken is the environment variable read by the envvar provider.
const EnvIDToken = "SIGSTORE_ID_TOKEN"

// DefaultTokenFile is the token path used by the filesystem provider when
// Options.TokenFile is empty (the path cosign and gitsign use).
const DefaultTokenFile = "/var/run/sigstore/cosign/oidc-token"

// Defaults applied to zero durations in Options.
const (
	DefaultLoginTimeout     = 120 * time.Second
	DefaultAutocloseTimeout = 6 * time.Second
)

// Options selects and configures a token source. The zero value (plus an
// Issuer and ClientID for the browser flow) is the safe default.
type Options struct {
	// Provider is one of the Provider* names; "" picks automatically (see
	// Get).
	Provider string
	// Issuer is the OIDC issuer URL used by the interactive flow.
	Issuer string
	// ClientID is the OAuth client ID; it is also the required ID token audience.
	ClientID string
	// ClientSecret is sent to the token endpoint when set.
	ClientSecret string
	// RedirectURL overrides the callback URL. When empty the callback is
	// http://localhost:<ephemeral>/auth/callback, served on both 127.0.0.1
	// and ::1 on that one port (IPv4 alone when the machine has no IPv6
	// loopback), so that no other local user can take the address the
	// browser resolves localhost to. When set, the flow listens on its
	// host:port and serves its path (port 0 picks a free port).
	RedirectURL string
	// ConnectorID adds connector_id=... to the authorization URL (Dex).
	ConnectorID string
	// TokenFile is the filesystem provider's path (DefaultTokenFile when
	// empty). In auto mode the file is used when it exists.
	TokenFile string
	// URLOpener is a command that opens the login URL, e.g.
	// `firefox --new-tab {{.URL}}`. It is split shell-style (single and
	// double quotes group; backslashes are literal, so Windows paths work),
	// each word is a text/template over {{.URL}}, and it runs without a
	// shell. Empty means github.com/pkg/browser. In auto mode a URL opener
	// also means "a browser can be opened here" (see Get).
	URLOpener string
	// Timeout bounds each attempt of a network request (zero: the default
	// of every gitsign network call, 30 seconds).
	Timeout time.Duration
	// LoginTimeout bounds the wait for the browser callback
	// (DefaultLoginTimeout when zero). The device flow is bounded by the
	// lifetime the issuer gives its device code instead.
	LoginTimeout time.Duration
	// DisableAutoclose keeps the browser's success page open; by default
	// it counts down AutocloseTimeout and then closes its tab.
	DisableAutoclose bool
	// AutocloseTimeout is the success page's countdown
	// (DefaultAutocloseTimeout when zero).
	AutocloseTimeout time.Duration
	// Notify is told what the person must be told during a login (see
	// Notice); nil tells nothing, which leaves a browser or device login
	// with no way to proceed.
	Notify func(Notice)
	// Terminal receives what the browser and a URLOpener command print.
	// It must never be os.Stdout. Nil discards it.
	Terminal io.Writer
	// Progress, when set, is told of each step that may take a while
	// (the wait for the browser login or for the device code to be
	// entered, the request to GitHub Actions) when it starts; the
	// function it returns is called with the step's outcome when it ends.
	Progress func(step string) (done func(err error))
	// LookupEnv reads the environment (os.LookupEnv when nil).
	LookupEnv func(string) (string, bool)
	// NoTerminal says that nobody reads Notify's notices here as they
	// come (no terminal nor log file: a CI job, with git capturing
	// standard error until gitsign ends). The
	// automatic choice then refuses the device flow, whose code nobody
	// would see, with a *NoLoginError instead of waiting for it.
	NoTerminal bool
}

// IDToken is a raw JWT plus the claims gitsign needs.
type IDToken struct {
	// Raw is the compact JWT. Never log or print it.
	Raw string
	// Issuer is the iss claim.
	Issuer string
	// Subject is the identity Fulcio certifies: the email claim when
	// present, otherwise sub.
	Subject string
	// Email is the email claim, if any.
	Email string
	// Audience is the aud claim.
	Audience []string
	// Expiry is the exp claim.
	Expiry time.Time
	// Source names the provider that produced the token.
	Source string
}

// String describes the token without revealing it.
func (t IDToken) String() string {
	return fmt.Sprintf("identity token for %s from %s (%s, expires %s)", t.Subject, t.Issuer, t.Source, t.Expiry.UTC().Format(time.RFC3339))
}

// GoString keeps %#v from printing the raw token.
func (t IDToken) GoString() string { return t.String() }

// ErrNoToken is wrapped when a static source (environment variable or file)
// holds no token.
var ErrNoToken = errors.New("no identity token")

// SourceError is the failure of the token source Provider (a Provider*
// name): every error of Get after a source was chosen is one.
type SourceError struct {
	Provider string
	Err      error
}

func (e *SourceError) Error() string { return "oauth: " + e.Provider + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// NoLoginError: the automatic choice found no token to use (no
// SIGSTORE_ID_TOKEN, no token file, not a GitHub Actions job with an
// id-token permission) and nobody to log in: no browser can be shown
// (Why) and there is no terminal to show a device code on.
type NoLoginError struct{ Why string }

func (e *NoLoginError) Error() string {
	return "no identity token: " + EnvIDToken + " is not set and there is no terminal to log in on (and no browser; " + e.Why + ")"
}

// source produces a token for one provider.
type source func(ctx context.Context, o *Options) (*IDToken, error)

var sources = map[string]source{
	ProviderEnvVar:                 envToken,
	ProviderFilesystem:             fileToken,
	ProviderGitHubActions:          githubActionsToken,
	ProviderInteractive:            interactiveToken,
	ProviderDevice:                 deviceToken,
	ProviderBuildkite:              buildkiteToken,
	ProviderGoogleWorkloadIdentity: googleWorkloadIdentityToken,
	ProviderGoogleImpersonate:      googleImpersonateToken,
	ProviderSPIFFE:                 spiffeToken,
}

// Get returns an ID token from the source chosen by o.Provider.
//
// With Provider "" it takes the first of these that applies:
//
//  1. envvar: SIGSTORE_ID_TOKEN is set and not blank;
//  2. filesystem: o.TokenFile (or DefaultTokenFile) exists;
//  3. github-actions: ACTIONS_ID_TOKEN_REQUEST_URL and
//     ACTIONS_ID_TOKEN_REQUEST_TOKEN are both set (a GitHub Actions job
//     with `permissions: id-token: write`);
//  4. device, when no browser can be shown here (see [Headless]) and no
//     URL opener is configured; the terminal says why. If the issuer has
//     no device endpoint, the browser flow runs instead;
//  5. interactive.
//
// Once a source is chosen its failure is returned; there is no fallback
// to another identity (an expired SIGSTORE_ID_TOKEN must not silently
// open a browser, and a failed GitHub Actions request must not sign as
// whoever logs in next).
func Get(ctx context.Context, o Options) (*IDToken, error) {
	o.setDefaults()
	name := o.Provider
	auto := name == ProviderAuto
	if auto {
		if why := o.noLogin(); why != "" {
			return nil, &NoLoginError{Why: why}
		}
		name = o.autoProvider()
	}
	src, ok := sources[name]
	if !ok {
		return nil, fmt.Errorf("oauth: unknown token provider %s (want interactive, device, filesystem, envvar, github-actions, buildkite-agent, google-workload-identity, google-impersonate or spiffe)", printable.Quote(o.Provider))
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("oauth: %w", context.Cause(ctx))
	}
	tok, err := src(ctx, &o)
	if auto && name == ProviderDevice && errors.Is(err, ErrNoDeviceFlow) {
		o.notify(BrowserInstead{})
		name = ProviderInteractive
		tok, err = interactiveToken(ctx, &o)
	}
	if err != nil {
		return nil, &SourceError{Provider: name, Err: err}
	}
	tok.Source = name
	return tok, nil
}

func (o *Options) autoProvider() string {
	if name := o.explicitProvider(); name != "" {
		return name
	}
	if githubActionsAvailable(o.LookupEnv) {
		return ProviderGitHubActions
	}
	if o.URLOpener == "" {
		if why := Headless(o.LookupEnv, runtime.GOOS); why != "" {
			o.notify(DeviceChosen{Why: why})
			return ProviderDevice
		}
	}
	return ProviderInteractive
}

// noLogin says why no login can happen here when the automatic choice
// would take the device flow with no terminal to show its code on, or
// returns "".
func (o *Options) noLogin() string {
	if !o.NoTerminal || o.URLOpener != "" || o.explicitProvider() != "" || githubActionsAvailable(o.LookupEnv) {
		return ""
	}
	return Headless(o.LookupEnv, runtime.GOOS)
}

// Headless says why a browser login on this machine would not reach the
// person, or returns "" when it can. goos is runtime.GOOS. The rules:
//
//   - an SSH session (SSH_CONNECTION, SSH_CLIENT or SSH_TTY set): a browser
//     would start on the remote machine, or not at all, and the person's
//     own browser cannot reach the callback listener here;
//   - on Linux and the BSDs, neither DISPLAY nor WAYLAND_DISPLAY set (a
//     console, container or CI job without a graphical session).
//
// macOS and Windows always have a browser to open.
func Headless(lookupEnv func(string) (string, bool), goos string) string {
	set := func(k string) bool { v, _ := lookupEnv(k); return strings.TrimSpace(v) != "" }
	for _, k := range []string{"SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"} {
		if set(k) {
			return "this is an SSH session: " + k + " is set"
		}
	}
	switch goos {
	case "darwin", "windows", "ios", "android", "js", "wasip1", "plan9":
		return ""
	}
	if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
		return "there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set"
	}
	return ""
}

func (o *Options) setDefaults() {
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = DefaultLoginTimeout
	}
	if o.Terminal == nil {
		o.Terminal = io.Discard
	}
	// Browser and opener output is copied from other goroutines.
	o.Terminal = syncbuf.NewWriter(o.Terminal)
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Provider == ProviderFilesystem && o.TokenFile == "" {
		o.TokenFile = DefaultTokenFile
	}
	if o.AutocloseTimeout <= 0 {
		o.AutocloseTimeout = DefaultAutocloseTimeout
	}
	if o.Progress == nil {
		o.Progress = func(string) func(error) { return func(error) {} }
	}
}

// autoclose is the success page's countdown, 0 when it stays open.
func (o *Options) autoclose() time.Duration {
	if o.DisableAutoclose {
		return 0
	}
	return o.AutocloseTimeout
}
