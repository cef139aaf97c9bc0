package gitsign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/oauth"
)

// Credential returns a credential to sign with: the ephemeral key and the
// certificate chain Fulcio issued for it, leaf first.
//
// It first asks the Cache, when there is one. A hit is returned with a nil
// token, and neither the TokenSource nor Fulcio is asked. On a miss it gets
// an identity token from the TokenSource, makes a fresh P-256 key, asks
// Fulcio for a certificate binding the key to the token's identity, and
// gives the result to the Cache. A cache that fails is reported to
// Options.Warn, never a failed Credential.
//
// A failed token source or Fulcio request is a *StageError; nothing is
// cached then.
func (s *Signer) Credential(ctx context.Context) (*cache.Credential, *oauth.IDToken, error) {
	if s.o.Cache != nil {
		c, err := s.o.Cache.Get(s.o.CacheKey)
		switch {
		case err == nil && usable(c):
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
