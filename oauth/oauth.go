// Package oauth obtains OIDC identity tokens for keyless signing: from the
// SIGSTORE_ID_TOKEN environment variable, from a token file, or by running
// the OAuth 2.0 authorization-code flow (PKCE S256, state and nonce) in the
// user's browser against an OIDC issuer.
//
// It is not a general OAuth client: it never refreshes tokens, never caches
// them and never writes them anywhere. Tokens from the environment or a file
// are only decoded (ParseUnverified); their signature is checked by the
// certificate authority (Fulcio) that receives them. Tokens from the browser
// flow are fully verified (signature, issuer, audience, expiry, nonce).
//
// Human-readable messages (the URL to open, browser chatter) go to
// Options.Terminal only, never to standard output, which carries the
// signature when gitsign runs under git.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Provider names accepted in Options.Provider.
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
	DefaultTimeout      = 30 * time.Second
	DefaultLoginTimeout = 120 * time.Second
)

// Options selects and configures a token source. The zero value (plus an
// Issuer and ClientID for the browser flow) is the safe default.
type Options struct {
	// Provider is one of the Provider* names; "" picks automatically (see Get).
	Provider string
	// Issuer is the OIDC issuer URL used by the interactive flow.
	Issuer string
	// ClientID is the OAuth client ID; it is also the required ID token audience.
	ClientID string
	// ClientSecret is sent to the token endpoint when set.
	ClientSecret string
	// RedirectURL overrides the callback URL. When empty the callback is
	// http://localhost:<ephemeral>/auth/callback, served on 127.0.0.1. When
	// set, the flow listens on its host:port and serves its path (port 0
	// picks a free port).
	RedirectURL string
	// ConnectorID adds connector_id=... to the authorization URL (Dex).
	ConnectorID string
	// TokenFile is the filesystem provider's path (DefaultTokenFile when
	// empty and Provider is "filesystem"). In auto mode it is used only
	// when set and the file exists.
	TokenFile string
	// URLOpener is a command that opens the login URL, e.g.
	// `firefox --new-tab {{.URL}}`. It is split shell-style (single and
	// double quotes group; backslashes are literal, so Windows paths work),
	// each word is a text/template over {{.URL}}, and it runs without a
	// shell. Empty means github.com/pkg/browser.
	URLOpener string
	// Timeout bounds each network request (DefaultTimeout when zero).
	Timeout time.Duration
	// LoginTimeout bounds the wait for the browser callback
	// (DefaultLoginTimeout when zero).
	LoginTimeout time.Duration
	// Terminal receives human messages. It must never be os.Stdout. Nil
	// discards them.
	Terminal io.Writer
	// LookupEnv reads the environment (os.LookupEnv when nil).
	LookupEnv func(string) (string, bool)
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

// ErrUnsupportedProvider is wrapped by errors for providers that are known
// but not implemented yet.
var ErrUnsupportedProvider = errors.New("token provider is not supported yet")

// ErrNoToken is wrapped when a static source (environment variable or file)
// holds no token.
var ErrNoToken = errors.New("no identity token")

// unsupportedError names the provider while matching ErrUnsupportedProvider.
type unsupportedError struct{ name string }

func (e *unsupportedError) Error() string {
	return "token provider " + e.name + " is not supported yet"
}

func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupportedProvider }

// source produces a token for one provider. New providers (device,
// github-actions) are added to the sources map.
type source func(ctx context.Context, o *Options) (*IDToken, error)

var sources = map[string]source{
	ProviderEnvVar:        envToken,
	ProviderFilesystem:    fileToken,
	ProviderInteractive:   interactiveToken,
	ProviderDevice:        unsupported(ProviderDevice),
	ProviderGitHubActions: unsupported(ProviderGitHubActions),
}

func unsupported(name string) source {
	return func(context.Context, *Options) (*IDToken, error) {
		return nil, &unsupportedError{name: name}
	}
}

// Get returns an ID token from the source chosen by o.Provider. With
// Provider "" it uses, in order: SIGSTORE_ID_TOKEN when set and non-empty,
// then o.TokenFile when set and the file exists, then the interactive flow.
// Once a source is chosen its failure is returned; there is no fallback
// (an expired SIGSTORE_ID_TOKEN must not silently open a browser).
func Get(ctx context.Context, o Options) (*IDToken, error) {
	o.setDefaults()
	name := o.Provider
	if name == ProviderAuto {
		name = o.autoProvider()
	}
	src, ok := sources[name]
	if !ok {
		return nil, fmt.Errorf("oauth: unknown token provider %q (want interactive, device, filesystem, envvar or github-actions)", o.Provider)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	tok, err := src(ctx, &o)
	if err != nil {
		return nil, fmt.Errorf("oauth: %s: %w", name, err)
	}
	tok.Source = name
	return tok, nil
}

func (o *Options) autoProvider() string {
	if v, ok := o.LookupEnv(EnvIDToken); ok && trimToken(v) != "" {
		return ProviderEnvVar
	}
	if o.TokenFile != "" {
		if _, err := os.Stat(o.TokenFile); err == nil {
			return ProviderFilesystem
		}
	}
	return ProviderInteractive
}

func (o *Options) setDefaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = DefaultLoginTimeout
	}
	if o.Terminal == nil {
		o.Terminal = io.Discard
	}
	// Browser and opener output is copied from other goroutines.
	o.Terminal = &lockedWriter{w: o.Terminal}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Provider == ProviderFilesystem && o.TokenFile == "" {
		o.TokenFile = DefaultTokenFile
	}
}

// lockedWriter serialises writes from the flow, the opener and the browser.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
