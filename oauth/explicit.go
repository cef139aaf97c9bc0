package oauth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Identity is who an identity token names, read from its claims without
// verifying them. It is fit for choosing among credentials the caller
// already holds (a cached credential whose certificate names the same
// identity), never for deciding who someone is: Fulcio does that when it
// verifies the token. It holds nothing secret.
type Identity struct {
	// Issuer is the iss claim.
	Issuer string
	// Subject is the email claim when present, otherwise sub, as in
	// IDToken.
	Subject string
	// Email is the email claim, if any.
	Email string
	// Connector is the federated_claims.connector_id claim of a token
	// from a federating issuer (Dex, as https://oauth2.sigstore.dev/auth
	// is), if any. Fulcio can be configured to name it in the
	// certificate as the issuer instead of Issuer; the public instance
	// is, and its connector ids are the upstream issuers' URLs.
	Connector string
	// Source names the provider that holds the token: envvar or
	// filesystem.
	Source string
}

// String names the identity and its issuer.
func (id Identity) String() string {
	return fmt.Sprintf("%s (issuer %s, from %s)", displayString(id.Subject), displayString(id.Issuer), id.Source)
}

// ExplicitIdentity returns the identity of the token that o gives
// explicitly: SIGSTORE_ID_TOKEN (envvar) or the token file (filesystem),
// when o.Provider names one of them or, with Provider "", Get would
// choose one. It returns nil, nil when Get's token would come from
// elsewhere (a browser or device login, GitHub Actions' token service):
// then nobody is known before a login.
//
// It reads the token as Get would, but without verifying it and whether
// or not it has expired (that is Get's error to report), and it runs no
// login and makes no request. With no token at all (the variable unset
// or empty, no token file) it returns nil, nil: a cached credential may
// sign then, as with a login source. A token that is unreadable or
// names nobody is a *SourceError, worded as Get's would be.
func ExplicitIdentity(o Options) (*Identity, error) {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	name := o.Provider
	if name == ProviderAuto {
		name = o.explicitProvider()
	}
	var raw, where string
	var err error
	switch name {
	case ProviderEnvVar:
		raw, where, err = readEnvToken(&o)
	case ProviderFilesystem:
		if o.TokenFile == "" {
			o.TokenFile = DefaultTokenFile
		}
		raw, where, err = readTokenFile(&o)
	default:
		return nil, nil
	}
	if errors.Is(err, ErrNoToken) || errors.Is(err, fs.ErrNotExist) {
		// No token is given (the provider is set, the token is not):
		// nobody is named, and a cached credential may sign; a login
		// would fail with Get's error.
		return nil, nil
	}
	if err != nil {
		return nil, &SourceError{Provider: name, Err: err}
	}
	tok, c, err := parseToken(raw, nil)
	if err != nil {
		return nil, &SourceError{Provider: name, Err: fmt.Errorf("%s: %w", where, err)}
	}
	return &Identity{Issuer: tok.Issuer, Subject: tok.Subject, Email: tok.Email, Connector: c.connector(), Source: name}, nil
}

// explicitProvider is the provider Get's automatic choice takes when a
// token is given explicitly (the first two steps), or "" when none is.
func (o *Options) explicitProvider() string {
	if v, ok := o.LookupEnv(EnvIDToken); ok && trimToken(v) != "" {
		return ProviderEnvVar
	}
	if o.TokenFile == "" {
		o.TokenFile = DefaultTokenFile
	}
	if _, err := os.Stat(o.TokenFile); err == nil {
		return ProviderFilesystem
	}
	return ""
}
