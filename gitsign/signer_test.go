package gitsign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// testIdentity is a self-signed ephemeral identity: enough to make the CMS
// signature that goes to the timestamp authority and the log.
func testIdentity(t *testing.T) *Identity {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute),
		EmailAddresses: []string{"a@example.test"},
		KeyUsage:       x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Identity{Key: key, Chain: []*x509.Certificate{cert}}
}

// TestSignerProgress: each request to the timestamp authority and the
// transparency log is announced, and its end reported with its outcome.
func TestSignerProgress(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer refuse.Close()
	payload := []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n")
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"timestamp authority", func(c *config.Config) { c.TimestampURL = refuse.URL }, "getting a timestamp from the timestamp authority"},
		{"transparency log", func(c *config.Config) {}, "recording the signature in the transparency log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Rekor = refuse.URL
			tc.edit(cfg)
			var steps []string
			s := &Signer{Config: cfg, HTTP: httpx.New(5 * time.Second), Progress: func(step string) func(error) {
				steps = append(steps, "start "+step)
				return func(err error) { steps = append(steps, fmt.Sprintf("end %s: failed=%v", step, err != nil)) }
			}}
			if _, err := s.Sign(context.Background(), testIdentity(t), payload, true); err == nil {
				t.Fatal("signing against a server that refuses succeeded")
			}
			want := []string{"start " + tc.want, "end " + tc.want + ": failed=true"}
			if strings.Join(steps, "|") != strings.Join(want, "|") {
				t.Errorf("progress %q, want %q", steps, want)
			}
		})
	}
}

// TestCheckRequestErrors: configurations that cannot sign are typed
// errors, and name no setting (the command line says which to change).
func TestCheckRequestErrors(t *testing.T) {
	v2 := config.Default()
	v2.RekorVersion = 2
	online := config.Default()
	online.RekorVersion, online.RekorMode, online.TimestampURL = 2, config.ModeOnline, "http://tsa.example.test"
	for _, tc := range []struct {
		cfg  *config.Config
		want error
	}{{v2, ErrNeedsTimestampAuthority}, {online, ErrOnlineNeedsRekorV1}} {
		err := CheckRequest(tc.cfg, []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n"), true)
		if !errors.Is(err, tc.want) {
			t.Errorf("CheckRequest = %v, want %v", err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "GITSIGN_") || strings.Contains(err.Error(), "gitsign.")) {
			t.Errorf("the library names a setting: %q", err.Error())
		}
	}
	cfg := config.Default()
	cfg.MatchCommitter, cfg.CommitterName, cfg.CommitterEmail = true, "B", "b@example.test"
	var cm *CommitterMismatchError
	if err := matchCommitter(cfg, testIdentity(t).Leaf()); !errors.As(err, &cm) || strings.Contains(err.Error(), "gitsign.") {
		t.Errorf("matchCommitter = %v", err)
	}
}
