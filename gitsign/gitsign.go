// Package gitsign signs git commits and tags keylessly, with Sigstore.
//
// Signing has two parts. [Signer.Credential] gets a credential: a cached
// one, or else an OIDC identity token from a [TokenSource], a fresh
// ephemeral P-256 key, and a short-lived certificate for that key from
// Fulcio. [Signer.Sign] then makes the CMS signature git stores, has a
// timestamp authority vouch for it when one is configured, and records it
// in a Rekor transparency log (v1 or v2).
//
// In [Offline] mode (the default) the log entry, with its inclusion proof
// and signed entry timestamp or checkpoint, is embedded in the signature,
// so it verifies with no network. [Online] mode (the reference
// implementation's default) logs the id of the signed commit or tag
// instead, and embeds nothing.
//
// Everything is configured once, in [Options], and [New] refuses settings
// that cannot work together. Every request has a per-attempt timeout and a
// bounded number of retries.
//
// # What this package is not
//
// It does not read git configuration or the environment, it does not run
// a login flow itself (a [TokenSource] does; package oauth has them), it
// does not verify signatures (package verify does), and it prints nothing:
// it reports through [Options.Progress] and [Options.Warn] and returns
// typed errors ([*StageError], [*CommitterMismatchError], [*OptionError]
// and the Err* values), and the caller words them for people.
package gitsign

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/fulcio"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
	"github.com/gitsign-dev/gitsign/oauth"
)

// Mode says how a signature is recorded in the transparency log.
type Mode int

const (
	// Offline embeds the log entry (with its proof) in the signature,
	// so that it verifies without contacting the log. It is the default.
	Offline Mode = iota
	// Online logs the id of the signed object and embeds nothing; a
	// verifier looks the entry up in the log. It needs a Rekor v1 log
	// and a detached signature of a commit or tag.
	Online
)

// String returns "offline" or "online".
func (m Mode) String() string {
	switch m {
	case Offline:
		return "offline"
	case Online:
		return "online"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// A TokenSource gives the OIDC identity token that Fulcio certifies.
// Package oauth implements every usual source (environment, file, GitHub
// Actions, browser and device logins) behind oauth.Get.
type TokenSource interface {
	Token(ctx context.Context) (*oauth.IDToken, error)
}

// An ExplicitTokenSource is a TokenSource whose token may be given
// explicitly rather than got by a login: package oauth's envvar and
// filesystem sources (SIGSTORE_ID_TOKEN, a token file). An explicit token
// decides whose credential [Signer.Credential] returns: a cached
// credential is used for it only if its certificate names the token's
// identity.
type ExplicitTokenSource interface {
	TokenSource
	// ExplicitIdentity returns who the explicit token names, read
	// without verifying it and without a login (as
	// oauth.ExplicitIdentity does); nil when there is no explicit token
	// and Token would log in; an error when there is one that cannot be
	// read, which Token will report.
	ExplicitIdentity() (*oauth.Identity, error)
}

// A CredentialCache keeps credentials between signatures. Get returns an
// error matching cache.ErrNotFound when it holds nothing for the key; any
// other error means the cache could not be used. Every cache.Agent is one:
// the agent client, the OS keyring, an in-memory store, and the
// cache.Session that wraps the one a person configured.
type CredentialCache interface {
	Get(cache.Key) (*cache.Credential, error)
	Put(cache.Key, *cache.Credential) error
}

// Committer is who a signature must be made as, when the certificate is
// required to name the committer: Email must be one of the certificate's
// email addresses, or Name one of its URIs (for workload identities).
// An empty field matches nothing.
type Committer struct {
	Name, Email string
}

// Progress is told when a step that may take a while starts (a request
// to Fulcio, the timestamp authority or the log); the function it returns
// is called with the step's outcome when the step ends.
type Progress func(step string) (done func(err error))

// Options configure a Signer. The zero value of each optional field is
// the safe default.
type Options struct {
	// Fulcio is the base URL of the Fulcio certificate authority.
	Fulcio string
	// Rekor is the base URL of the transparency log; RekorVersion its API
	// version, 1 (the default when zero) or 2.
	Rekor        string
	RekorVersion int
	// TimestampAuthority is the URL of an RFC 3161 timestamp authority
	// that vouches for the signature's time; empty means none. Rekor v2
	// gives no signed time, so it needs one.
	TimestampAuthority string
	// Mode is Offline (the default) or Online.
	Mode Mode

	// Transport carries every request; nil means a fresh transport whose
	// dialing, TLS handshake and wait for headers are bounded. Timeout
	// and retries apply either way.
	Transport http.RoundTripper
	// Timeout bounds each attempt of each request, from dialing to the
	// last byte of the answer (30 seconds when zero).
	Timeout time.Duration
	// Retries is how often a request is tried again after a transport
	// error or a 5xx or 429 answer, with a doubling pause; zero means
	// twice, a negative value never. An attempt that timed out is not
	// retried.
	Retries int

	// Tokens gives the identity token for a new credential. Only
	// Credential needs it.
	Tokens TokenSource
	// Cache, when set, is asked for a credential before a login and
	// given the new credential after one, under CacheKey, which must
	// name the Fulcio instance and OIDC client the credential is for.
	// When Tokens is an ExplicitTokenSource with an explicit token, a
	// cached credential is used only if it names that token's identity
	// (see Signer.Credential).
	Cache    CredentialCache
	CacheKey cache.Key

	// Committer, when set, is the identity the certificate must name:
	// Sign fails with a *CommitterMismatchError otherwise.
	Committer *Committer

	// Progress is told of each request to Fulcio, the timestamp
	// authority and the log; nil announces nothing.
	Progress Progress
	// Warn is told why the cache could not be used (its error); signing
	// goes on without it. Nil ignores it.
	Warn func(error)
	// Now is the clock of the signing time (time.Now when nil).
	Now func() time.Time
}

// Signer signs with one configuration. Check and Sign are safe for
// concurrent use; Credential is as safe as the Cache and TokenSource.
type Signer struct {
	o      Options
	fulcio *fulcio.Client
	tsa    *tsa.Client // nil without a timestamp authority
	log    *rekor.Client
}

// New checks o and returns a Signer for it. Settings that cannot work
// together are refused here, before anyone is asked to log in:
// ErrNeedsTimestampAuthority, ErrOnlineNeedsRekorV1, or an *OptionError
// for a value New does not know.
func New(o Options) (*Signer, error) {
	if o.RekorVersion == 0 {
		o.RekorVersion = 1
	}
	switch {
	case o.RekorVersion != 1 && o.RekorVersion != 2:
		return nil, &OptionError{Field: "RekorVersion", Value: o.RekorVersion, Reason: "must be 1 or 2"}
	case o.Mode != Offline && o.Mode != Online:
		return nil, &OptionError{Field: "Mode", Value: o.Mode, Reason: "must be Offline or Online"}
	case o.Cache != nil && o.CacheKey == (cache.Key{}):
		return nil, &OptionError{Field: "CacheKey", Value: o.CacheKey, Reason: "must be set with a Cache"}
	case o.RekorVersion == 2 && o.TimestampAuthority == "":
		return nil, ErrNeedsTimestampAuthority
	case o.RekorVersion == 2 && o.Mode == Online:
		return nil, ErrOnlineNeedsRekorV1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	hc := httpx.New(o.Timeout)
	hc.Transport = o.Transport
	switch {
	case o.Retries < 0:
		hc.Retries = 0
	case o.Retries > 0:
		hc.Retries = o.Retries
	}
	s := &Signer{
		o:      o,
		fulcio: &fulcio.Client{URL: o.Fulcio, HTTP: hc.For(httpx.Fulcio)},
		log:    &rekor.Client{URL: o.Rekor, Version: o.RekorVersion, HTTP: hc.For(httpx.Rekor)},
	}
	if o.TimestampAuthority != "" {
		s.tsa = &tsa.Client{URL: o.TimestampAuthority, HTTP: hc.For(httpx.TSA)}
	}
	return s, nil
}

// step announces a step; a nil Progress announces nothing.
func (s *Signer) step(what string) func(error) {
	if s.o.Progress == nil {
		return func(error) {}
	}
	return s.o.Progress(what)
}

// warn passes a cache failure to Options.Warn.
func (s *Signer) warn(err error) {
	if s.o.Warn != nil {
		s.o.Warn(err)
	}
}

// checkCommitter checks that cert names the committer, when Options ask.
func (s *Signer) checkCommitter(cert *x509.Certificate) error {
	c := s.o.Committer
	if c == nil {
		return nil
	}
	for _, e := range cert.EmailAddresses {
		if c.Email != "" && e == c.Email {
			return nil
		}
	}
	for _, u := range cert.URIs {
		if c.Name != "" && u.String() == c.Name {
			return nil
		}
	}
	uris := make([]string, len(cert.URIs))
	for i, u := range cert.URIs {
		uris[i] = u.String()
	}
	return &CommitterMismatchError{Emails: cert.EmailAddresses, URIs: uris, Name: c.Name, Email: c.Email}
}
