package gitsign_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
)

// memCache is a CredentialCache in memory that counts its calls and can
// be made to fail.
type memCache struct {
	mu       sync.Mutex
	m        map[cache.Key]*cache.Credential
	gets     int
	getErr   error
	putErr   error
	putCalls int
}

func (c *memCache) Get(k cache.Key) (*cache.Credential, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	if c.getErr != nil {
		return nil, c.getErr
	}
	if cred, ok := c.m[k]; ok {
		return cred, nil
	}
	return nil, cache.ErrNotFound
}

func (c *memCache) Put(k cache.Key, cred *cache.Credential) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putCalls++
	if c.putErr != nil {
		return c.putErr
	}
	if c.m == nil {
		c.m = map[cache.Key]*cache.Credential{}
	}
	c.m[k] = cred
	return nil
}

// Every cache.Agent is a CredentialCache.
var _ gitsign.CredentialCache = cache.Agent(nil)

var key = cache.Key{Fulcio: "https://fulcio.example.test", Issuer: "https://issuer.example.test", ClientID: "sigstore"}

// TestCredentialCacheMiss: a miss logs in once, returns the token, and
// stores the new credential under the key.
func TestCredentialCacheMiss(t *testing.T) {
	fake := newSigstore(t)
	o := fake.options(1, false)
	mc := &memCache{}
	o.Cache, o.CacheKey = mc, key
	s, err := gitsign.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cred, tok, err := s.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok == nil || tok.Email != "alice@example.test" || o.Tokens.(*tokenSource).calls != 1 || fake.count(evFulcio) != 1 {
		t.Errorf("token %v after %d token calls and %d Fulcio requests; want one each", tok, o.Tokens.(*tokenSource).calls, fake.count(evFulcio))
	}
	if mc.m[key] != cred || len(mc.m) != 1 {
		t.Errorf("cache holds %v, want the new credential under %v", mc.m, key)
	}
	if len(cred.Chain) != 3 || cred.Leaf().EmailAddresses[0] != "alice@example.test" || !cred.Chain[1].Equal(fake.fulcioInter) {
		t.Errorf("chain %v, want Fulcio's leaf, intermediate and root", cred.Chain)
	}
}

// TestCredentialCacheHit: a usable cached credential is returned as it
// is, with no token, and neither the token source nor Fulcio is asked.
// One whose key is not its certificate's is a miss.
func TestCredentialCacheHit(t *testing.T) {
	fake := newSigstore(t)
	_, cached := signer(t, fake.options(1, false))
	fake = newSigstore(t) // a fresh Fulcio that has seen nothing

	o := fake.options(1, false)
	mc := &memCache{m: map[cache.Key]*cache.Credential{key: cached}}
	o.Cache, o.CacheKey = mc, key
	s, err := gitsign.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cred, tok, err := s.Credential(context.Background())
	if err != nil || cred != cached || tok != nil {
		t.Fatalf("Credential = %v, %v, %v; want the cached one and no token", cred, tok, err)
	}
	if n := o.Tokens.(*tokenSource).calls; n != 0 || len(fake.Events()) != 0 || mc.putCalls != 0 {
		t.Errorf("%d token calls, requests %q, %d puts; want none", n, fake.Events(), mc.putCalls)
	}

	mc.m[key] = &cache.Credential{Key: newKey(t), Chain: cached.Chain}
	cred, tok, err = s.Credential(context.Background())
	if err != nil || cred == cached || tok == nil || mc.m[key] != cred {
		t.Errorf("a credential whose key is not its certificate's was used: %v, %v, %v", cred, tok, err)
	}
}

// TestCredentialCacheFails: a cache that fails is reported to Warn, and
// the login goes on without it.
func TestCredentialCacheFails(t *testing.T) {
	fake := newSigstore(t)
	o := fake.options(1, false)
	broken := errors.New("cache: agent went away")
	mc := &memCache{getErr: broken, putErr: broken}
	var warned []error
	o.Cache, o.CacheKey, o.Warn = mc, key, func(err error) { warned = append(warned, err) }
	s, err := gitsign.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cred, tok, err := s.Credential(context.Background())
	if err != nil || cred == nil || tok == nil {
		t.Fatalf("Credential = %v, %v, %v", cred, tok, err)
	}
	if len(warned) != 2 || !errors.Is(warned[0], broken) || !errors.Is(warned[1], broken) {
		t.Errorf("warned %v, want the Get and the Put failure", warned)
	}
}

// TestCredentialFailures: a token source or Fulcio that fails is a
// *StageError for its stage; nothing is returned and nothing cached.
func TestCredentialFailures(t *testing.T) {
	tokenErr := errors.New("getting an identity token: the browser login timed out")
	for _, tc := range []struct {
		name   string
		edit   func(*sigstore, *gitsign.Options)
		stage  gitsign.Stage
		want   string
		fulcio int
	}{
		{"token source", func(f *sigstore, o *gitsign.Options) { o.Tokens.(*tokenSource).err = tokenErr }, gitsign.StageToken, tokenErr.Error(), 0},
		{"no token source", func(f *sigstore, o *gitsign.Options) { o.Tokens = nil }, gitsign.StageToken, "no token source", 0},
		{"fulcio refuses", func(f *sigstore, o *gitsign.Options) { f.failNext(evFulcio, http.StatusUnauthorized) }, gitsign.StageCertificate,
			"fulcio refused the certificate request (401): injected failure", 1},
		{"fulcio fails", func(f *sigstore, o *gitsign.Options) { f.failNext(evFulcio, 500, 500, 500) }, gitsign.StageCertificate, "500 Internal Server Error", 3},
		{"fulcio certifies someone else", func(f *sigstore, o *gitsign.Options) { f.certEmail = "mallory@example.test" }, gitsign.StageCertificate,
			"fulcio issued a certificate for [mallory@example.test], not for the token's alice@example.test", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newSigstore(t)
			o := fake.options(1, false)
			mc := &memCache{}
			o.Cache, o.CacheKey = mc, key
			tc.edit(fake, &o)
			s, err := gitsign.New(o)
			if err != nil {
				t.Fatal(err)
			}
			cred, tok, err := s.Credential(context.Background())
			var se *gitsign.StageError
			if cred != nil || tok != nil || !errors.As(err, &se) || se.Stage != tc.stage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Credential = %v, %v, %v; want a %v StageError saying %q", cred, tok, err, tc.stage, tc.want)
			}
			if tc.stage == gitsign.StageToken && !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("the token source's error was reworded: %q", err)
			}
			if n := fake.count(evFulcio); n != tc.fulcio || mc.putCalls != 0 {
				t.Errorf("%d Fulcio requests and %d puts; want %d and none", n, mc.putCalls, tc.fulcio)
			}
		})
	}
}

// TestNewRefuses: settings that cannot work together are refused by New,
// with errors that name no git config key or environment variable.
func TestNewRefuses(t *testing.T) {
	var oe *gitsign.OptionError
	for _, tc := range []struct {
		name string
		o    gitsign.Options
		is   func(error) bool
	}{
		{"rekor v2 without a timestamp authority", gitsign.Options{RekorVersion: 2},
			func(err error) bool { return errors.Is(err, gitsign.ErrNeedsTimestampAuthority) }},
		{"online with rekor v2", gitsign.Options{RekorVersion: 2, TimestampAuthority: "http://tsa.example.test", Mode: gitsign.Online},
			func(err error) bool { return errors.Is(err, gitsign.ErrOnlineNeedsRekorV1) }},
		{"rekor v3", gitsign.Options{RekorVersion: 3},
			func(err error) bool { return errors.As(err, &oe) && oe.Field == "RekorVersion" }},
		{"unknown mode", gitsign.Options{Mode: 7},
			func(err error) bool { return errors.As(err, &oe) && oe.Field == "Mode" }},
		{"cache without a key", gitsign.Options{Cache: &memCache{}},
			func(err error) bool { return errors.As(err, &oe) && oe.Field == "CacheKey" }},
	} {
		s, err := gitsign.New(tc.o)
		if s != nil || !tc.is(err) {
			t.Errorf("%s: New = %v, %v", tc.name, s, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "GITSIGN_") || strings.Contains(msg, "gitsign.") {
			t.Errorf("%s: the library names a setting: %q", tc.name, msg)
		}
	}
	for _, o := range []gitsign.Options{{}, {RekorVersion: 2, TimestampAuthority: "http://tsa.example.test"}, {Mode: gitsign.Online}} {
		if _, err := gitsign.New(o); err != nil {
			t.Errorf("New(%+v) = %v", o, err)
		}
	}
}

// TestTransportAndTimeout: every request goes through Options.Transport,
// and an attempt that gets no answer ends at Options.Timeout, with no
// retry.
func TestTransportAndTimeout(t *testing.T) {
	fake := newSigstore(t)
	o := fake.options(1, false)
	var seen atomic.Int32
	o.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	s, cred := signer(t, o)
	if _, err := s.Sign(context.Background(), cred, commit, true); err != nil {
		t.Fatal(err)
	}
	if n := seen.Load(); n != 2 {
		t.Errorf("the transport saw %d requests, want 2 (Fulcio, Rekor)", n)
	}

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var conns sync.WaitGroup
	conns.Go(func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	})
	o = fake.options(1, false)
	o.Rekor, o.Timeout = "http://"+silent.Addr().String(), 200*time.Millisecond
	s, err = gitsign.New(o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sig, err := s.Sign(context.Background(), cred, commit, true)
	if sig != nil || err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Errorf("Sign = %v, %v; want no answer within 200ms", sig, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a silent log held signing for %s", d)
	}
	silent.Close()
	conns.Wait()
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
