package gitsign_test

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"testing"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/testcert"
	"github.com/gitsign-dev/gitsign/oauth"
)

// fakeIssuer is the issuer of the fake Fulcio's tokens and certificates.
const fakeIssuer = "https://issuer.example.test"

// explicitSource is a token source whose token is given explicitly (as
// SIGSTORE_ID_TOKEN is): it names id, or fails to say with err.
type explicitSource struct {
	*tokenSource
	id  *oauth.Identity
	err error
}

func (e *explicitSource) ExplicitIdentity() (*oauth.Identity, error) { return e.id, e.err }

// explicitFor is an explicit token for identity, which the fake Fulcio
// certifies.
func explicitFor(fake *sigstore, identity string) *explicitSource {
	return &explicitSource{tokenSource: fake.tokenFor(identity),
		id: &oauth.Identity{Issuer: fakeIssuer, Subject: identity, Email: identity, Source: oauth.ProviderEnvVar}}
}

var _ gitsign.ExplicitTokenSource = (*explicitSource)(nil)

// TestExplicitTokenDecides: with alice's credential cached, an explicit
// token for bob logs in as bob, signs as bob, and caches bob's credential,
// which his next signature uses (one certificate for a rebase); a token
// for alice then gets hers again.
func TestExplicitTokenDecides(t *testing.T) {
	fake := newSigstore(t)
	_, alice := signer(t, fake.options(1, false))
	mc := &memCache{m: map[cache.Key]*cache.Credential{key: alice}}

	o := fake.options(1, false)
	bob := explicitFor(fake, "bob@example.test")
	o.Tokens, o.Cache, o.CacheKey = bob, mc, key
	s, err := gitsign.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cred, tok, err := s.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cred == alice || tok == nil || !slices.Equal(cred.Leaf().EmailAddresses, []string{"bob@example.test"}) || bob.calls != 1 {
		t.Fatalf("Credential = %v, token %v after %d token calls; want a login as bob", cred, tok, bob.calls)
	}
	sig, err := s.Sign(context.Background(), cred, commit, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sig.Cert.EmailAddresses, []string{"bob@example.test"}) {
		t.Errorf("signed as %v; want bob", sig.Cert.EmailAddresses)
	}
	if mc.m[key] != cred {
		t.Errorf("the cache holds %v; want bob's new credential", mc.m[key])
	}

	again, tok, err := s.Credential(context.Background())
	if err != nil || again != cred || tok != nil || bob.calls != 1 {
		t.Errorf("bob's second Credential = %v, %v, %v after %d token calls; want his cached one", again, tok, err, bob.calls)
	}

	o.Tokens = explicitFor(fake, "alice@example.test")
	s, err = gitsign.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cred, tok, err = s.Credential(context.Background())
	if err != nil || tok == nil || !slices.Equal(cred.Leaf().EmailAddresses, []string{"alice@example.test"}) {
		t.Errorf("alice after bob: Credential = %v, %v, %v; want a login as alice", cred, tok, err)
	}
}

// TestExplicitTokenMatching: a cached credential is used for an explicit
// token only when its certificate names the token's identity and issuer
// as far as the token can tell; otherwise the token logs in. A source
// that cannot say who its explicit token names does not use the cache at
// all; one with no explicit token (a login) uses it as before.
func TestExplicitTokenMatching(t *testing.T) {
	const alice, spiffe = "alice@example.test", "spiffe://example.test/ci/builder"
	for _, tc := range []struct {
		name           string
		emails, uris   []string
		certIssuer     string
		id             *oauth.Identity
		idErr          error
		hit, cacheAsks bool
	}{
		{"same email and issuer", []string{alice}, nil, fakeIssuer,
			&oauth.Identity{Issuer: fakeIssuer, Subject: alice, Email: alice}, nil, true, true},
		{"another email", []string{"bob@example.test"}, nil, fakeIssuer,
			&oauth.Identity{Issuer: fakeIssuer, Subject: alice, Email: alice}, nil, false, true},
		{"same email, another issuer", []string{alice}, nil, "https://other.example.test",
			&oauth.Identity{Issuer: fakeIssuer, Subject: alice, Email: alice}, nil, false, true},
		{"same email, the federated connector's issuer", []string{alice}, nil, "https://github.com/login/oauth",
			&oauth.Identity{Issuer: "https://oauth2.example.test/auth", Subject: alice, Email: alice, Connector: "https://github.com/login/oauth"}, nil, true, true},
		{"same email, no issuer in the certificate", []string{alice}, nil, "",
			&oauth.Identity{Issuer: fakeIssuer, Subject: alice, Email: alice}, nil, false, true},
		{"email as subject only", []string{alice}, nil, fakeIssuer,
			&oauth.Identity{Issuer: fakeIssuer, Subject: alice}, nil, false, true},
		{"URI subject", nil, []string{spiffe}, fakeIssuer,
			&oauth.Identity{Issuer: fakeIssuer, Subject: spiffe}, nil, true, true},
		{"workload subject Fulcio rewrites", nil, []string{"https://github.com/octo/demo/.github/workflows/ci.yml@refs/heads/main"}, fakeIssuer,
			&oauth.Identity{Issuer: fakeIssuer, Subject: "repo:octo/demo:ref:refs/heads/main"}, nil, false, true},
		{"explicit token unreadable", []string{alice}, nil, fakeIssuer, nil, errors.New("oauth: envvar: reading SIGSTORE_ID_TOKEN: identity token is not a JWT"), false, false},
		{"no explicit token", []string{"bob@example.test"}, nil, fakeIssuer, nil, nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newSigstore(t)
			cert, k := testcert.New(t, testcert.Options{Emails: tc.emails, URIs: tc.uris, Issuer: tc.certIssuer})
			cached := &cache.Credential{Key: k, Chain: []*x509.Certificate{cert}}
			mc := &memCache{m: map[cache.Key]*cache.Credential{key: cached}}
			o := fake.options(1, false)
			src := &explicitSource{tokenSource: fake.tokenFor("carol@example.test"), id: tc.id, err: tc.idErr}
			o.Tokens, o.Cache, o.CacheKey = src, mc, key
			s, err := gitsign.New(o)
			if err != nil {
				t.Fatal(err)
			}
			cred, tok, err := s.Credential(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if hit := cred == cached; hit != tc.hit || (tok == nil) != tc.hit || src.calls != map[bool]int{true: 0, false: 1}[tc.hit] {
				t.Errorf("cache hit = %v (token %v, %d token calls); want %v", hit, tok, src.calls, tc.hit)
			}
			if asked := mc.gets > 0; asked != tc.cacheAsks {
				t.Errorf("the cache was asked: %v; want %v", asked, tc.cacheAsks)
			}
			if !tc.hit && mc.m[key] != cred {
				t.Errorf("the new credential was not cached")
			}
		})
	}
}
