package gitsign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/certinfo"
	"github.com/gitsign-dev/gitsign/oauth"
)

// Credential returns a credential to sign with: the ephemeral key and the
// certificate chain Fulcio issued for it, leaf first.
//
// It first asks the Cache, when there is one. A hit is returned with a nil
// token, and neither Fulcio nor the TokenSource's login is asked. On a
// miss it gets an identity token from the TokenSource, makes a fresh P-256
// key, asks Fulcio for a certificate binding the key to the token's
// identity, and gives the result to the Cache, in place of what the key
// held. A cache that fails is reported to Options.Warn, never a failed
// Credential.
//
// An explicit token (see [ExplicitTokenSource]) decides the identity: a
// cached credential is used for it only if its certificate names the
// token's identity and issuer, as far as the token's claims can tell
// (see certifies). Otherwise the token logs in, and its credential
// replaces the cached one, so that the next signature with the same token
// uses it. A source that cannot say who its explicit token
// names does not use the cache at all. The token is not verified here
// (Fulcio verifies it); it only chooses between the cached credential and
// a login, so a token that claims to be alice gets at most what signing
// with no token at all would get: the cached credential.
//
// A failed token source or Fulcio request is a *StageError; nothing is
// cached then.
func (s *Signer) Credential(ctx context.Context) (*cache.Credential, *oauth.IDToken, error) {
	explicit, want := s.explicitIdentity()
	if s.o.Cache != nil && (!explicit || want != nil) {
		c, err := s.o.Cache.Get(s.o.CacheKey)
		switch {
		case err == nil && usable(c) && (want == nil || certifies(c.Chain[0], want)):
			return c, nil, nil
		case err != nil && !errors.Is(err, cache.ErrNotFound):
			s.warn(err)
		}
	}
	c, tok, err := s.login(ctx)
	if err != nil {
		return nil, nil, err
	}
	if s.o.Cache != nil {
		if err := s.o.Cache.Put(s.o.CacheKey, c); err != nil {
			s.warn(err)
		}
	}
	return c, tok, nil
}

// explicitIdentity asks an ExplicitTokenSource who its explicit token
// names. explicit reports that there is such a token; want is who it
// names, nil when it cannot be read (Token will say why).
func (s *Signer) explicitIdentity() (explicit bool, want *oauth.Identity) {
	es, ok := s.o.Tokens.(ExplicitTokenSource)
	if !ok {
		return false, nil
	}
	id, err := es.ExplicitIdentity()
	if err != nil {
		return true, nil
	}
	return id != nil, id
}

// certifies reports whether cert, a cached credential's leaf, certifies
// the identity an explicit token names, as far as the token's claims tell
// without asking Fulcio. The SAN: a token with an email must have it
// among the certificate's email addresses (what login requires of a new
// certificate); a token without one must have its subject among the URIs
// (Fulcio's SAN for SPIFFE and URI subjects). The issuer: the
// certificate's OIDC issuer extension must be the token's issuer or,
// behind a federating issuer such as Dex, its connector (the upstream
// issuer Fulcio may name instead). Whatever cannot be told is a mismatch,
// and the token logs in: so workload tokens whose SAN Fulcio builds from
// other claims (GitHub Actions, Kubernetes) never reuse a credential.
func certifies(cert *x509.Certificate, id *oauth.Identity) bool {
	var named bool
	if id.Email != "" {
		named = slices.Contains(cert.EmailAddresses, id.Email)
	} else {
		named = slices.ContainsFunc(cert.URIs, func(u *url.URL) bool { return u.String() == id.Subject })
	}
	if !named {
		return false
	}
	signer, err := certinfo.Of(cert)
	if err != nil || signer.Issuer == "" {
		return false
	}
	return signer.Issuer == id.Issuer || id.Connector != "" && signer.Issuer == id.Connector
}

// usable reports whether a cached credential can sign: an ECDSA P-256
// key whose public half is the leaf certificate's.
func usable(c *cache.Credential) bool {
	if c == nil || c.Key == nil || len(c.Chain) == 0 || c.Chain[0] == nil {
		return false
	}
	pub, ok := c.Key.Public().(*ecdsa.PublicKey)
	return ok && pub.Curve == elliptic.P256() && pub.Equal(c.Chain[0].PublicKey)
}

// login gets a token and a Fulcio certificate for a new key.
func (s *Signer) login(ctx context.Context) (*cache.Credential, *oauth.IDToken, error) {
	if s.o.Tokens == nil {
		return nil, nil, &StageError{Stage: StageToken, Err: errors.New("no token source to log in with")}
	}
	tok, err := s.o.Tokens.Token(ctx)
	if err == nil && tok == nil {
		err = errors.New("the token source gave no token")
	}
	if err != nil {
		return nil, nil, &StageError{Stage: StageToken, Err: err}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key: %w", err)
	}
	done := s.step("getting a certificate from Fulcio")
	chain, err := s.fulcio.SigningCert(ctx, tok.Raw, tok.Subject, key)
	done(err)
	if err != nil {
		return nil, nil, &StageError{Stage: StageCertificate, Err: err}
	}
	if tok.Email != "" && !slices.Contains(chain[0].EmailAddresses, tok.Email) {
		return nil, nil, &StageError{Stage: StageCertificate,
			Err: fmt.Errorf("fulcio issued a certificate for %v, not for the token's %s", chain[0].EmailAddresses, tok.Email)}
	}
	return &cache.Credential{Key: key, Chain: chain}, tok, nil
}
