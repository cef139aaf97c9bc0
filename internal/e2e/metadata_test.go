//go:build e2e

package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// metadataServer is a stand-in for the GCE/GKE metadata server's identity
// endpoint, as gitsign's google-workload-identity provider asks it:
// GET /computeMetadata/v1/instance/service-accounts/default/identity
// ?audience=AUD&format=FORMAT with Metadata-Flavor: Google. It refuses a
// request without that header (403), answers 404 for other paths and 400
// without an audience, and otherwise returns, as plain text with
// Metadata-Flavor: Google, a token for the service account email from the
// stack's Google issuer. With noAccount set it answers 404 as a metadata
// server of an instance without a service account does.
type metadataServer struct {
	*httptest.Server
	issuer    string // the stack's Google issuer
	email     string
	noAccount atomic.Bool
	mu        sync.Mutex
	requests  []string // audience and format of each identity request
}

func newMetadataServer(t *testing.T, email string) *metadataServer {
	t.Helper()
	m := &metadataServer{issuer: stackEnv(t, "GITSIGN_LOCAL_GOOGLE_ISSUER"), email: email}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

const metadataIdentityPath = "/computeMetadata/v1/instance/service-accounts/default/identity"

func (m *metadataServer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Metadata-Flavor", "Google")
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	if r.Header.Get("Metadata-Flavor") != "Google" || r.Header.Get("X-Forwarded-For") != "" {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "Missing Metadata-Flavor:Google header.\n")
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != metadataIdentityPath || m.noAccount.Load() {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Not Found\n")
		return
	}
	q := r.URL.Query()
	m.mu.Lock()
	m.requests = append(m.requests, "audience="+q.Get("audience")+" format="+q.Get("format"))
	m.mu.Unlock()
	if q.Get("audience") == "" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "non-empty audience parameter required\n")
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "standard"
	}
	tok, err := mintToken(m.issuer, url.Values{"email": {m.email}, "audience": {q.Get("audience")}, "format": {format}})
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, err.Error()+"\n")
		return
	}
	io.WriteString(w, tok)
}

func (m *metadataServer) host() string { return strings.TrimPrefix(m.URL, "http://") }

func (m *metadataServer) seen() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

// TestProviderGoogleWorkloadIdentity: on a Google Cloud workload
// (GCE_METADATA_HOST naming the metadata server, gitsign.tokenProvider
// google-workload-identity) `git commit -S` signs as the service account:
// gitsign asks the metadata server for an identity token for audience
// sigstore in the full format, Fulcio names the account's email in the
// certificate, and gitsign verify accepts that account and refuses any
// other.
func TestProviderGoogleWorkloadIdentity(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_LOCAL_GOOGLE_ISSUER")
	const account = "release-signer@acme-ci.iam.gserviceaccount.com"
	md := newMetadataServer(t, account)
	r := loginRepo(t, "GCE_METADATA_HOST="+md.host())
	r.git("config", "gitsign.tokenProvider", "google-workload-identity")

	r.commit("built on Google Cloud")
	s, sum := signedCert(t, r, "HEAD")
	if got := md.seen(); len(got) != 1 || got[0] != "audience=sigstore format=full" {
		t.Errorf("metadata server requests %q, want one for audience sigstore in the full format", got)
	}
	checkAccountCert(t, r, s, sum, account, issuer)

	base := []string{"--certificate-identity", account, "--certificate-oidc-issuer", issuer}
	if code, out := verifyExit(t, r, base...); code != 0 {
		t.Fatalf("gitsign verify as the service account: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"service account", []string{"--certificate-identity", "builder@acme-ci.iam.gserviceaccount.com", "--certificate-oidc-issuer", issuer}},
		{"project", []string{"--certificate-identity", "release-signer@other-proj.iam.gserviceaccount.com", "--certificate-oidc-issuer", issuer}},
		{"issuer (the people's)", []string{"--certificate-identity", account, "--certificate-oidc-issuer", stackEnv(t, "GITSIGN_OIDC_ISSUER")}},
		{"issuer (Google's own)", []string{"--certificate-identity", account, "--certificate-oidc-issuer", "https://accounts.google.com"}},
	} {
		code, out := verifyExit(t, r, c.args...)
		if code != 1 || !strings.Contains(out, "not accepted by") {
			t.Errorf("gitsign verify with another %s: exit %d, want 1 with \"not accepted by\"\n%s", c.name, code, out)
		}
	}

	t.Run("no service account", func(t *testing.T) {
		// A metadata server without the account (or, on GKE, without
		// Workload Identity for the pod) answers 404.
		md := newMetadataServer(t, account)
		md.noAccount.Store(true)
		r := loginRepo(t, "GCE_METADATA_HOST="+md.host())
		r.git("config", "gitsign.tokenProvider", "google-workload-identity")
		failsOneLine(t, r, "/computeMetadata/v1/instance/service-accounts/default/identity?audience=sigstore&format=full answered 404 Not Found")
	})
	t.Run("no metadata server", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String()
		l.Close()
		r := loginRepo(t, "GCE_METADATA_HOST="+closed)
		r.git("config", "gitsign.tokenProvider", "google-workload-identity")
		failsOneLine(t, r, "no metadata server at http://"+closed+"/computeMetadata/v1/instance/service-accounts/default/identity")
	})
	t.Run("fulcio refuses the audience", func(t *testing.T) {
		md := newMetadataServer(t, account)
		r := loginRepo(t, "GCE_METADATA_HOST="+md.host(), "GITSIGN_OIDC_CLIENT_ID=other-client")
		r.git("config", "gitsign.tokenProvider", "google-workload-identity")
		failsOneLine(t, r, "fulcio refused the certificate request (400)")
		if got := md.seen(); len(got) == 0 || got[0] != "audience=other-client format=full" {
			t.Errorf("metadata server requests %q", got)
		}
	})
}

// checkAccountCert checks that the commit r signed (s, its certificate
// summarized in sum) names the Google service account account only, from
// issuer, and that the log says it signed.
func checkAccountCert(t *testing.T, r *repo, s *signed, sum certificate.Summary, account, issuer string) {
	t.Helper()
	if len(s.cert.EmailAddresses) != 1 || s.cert.EmailAddresses[0] != account || len(s.cert.URIs) != 0 {
		t.Errorf("certificate names emails %v and URIs %v, want %s only", s.cert.EmailAddresses, s.cert.URIs, account)
	}
	if sum.SubjectAlternativeName != account || sum.Extensions.Issuer != issuer {
		t.Errorf("certificate SAN %q, issuer %q; want %s, %s", sum.SubjectAlternativeName, sum.Extensions.Issuer, account, issuer)
	}
	if log := r.readLog(); !strings.Contains(log, "signed as "+account+" (issuer "+issuer+")") {
		t.Errorf("the log does not say the service account signed:\n%s", log)
	}
}
