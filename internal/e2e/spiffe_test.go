//go:build e2e

package e2e

import (
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/testspiffe"
)

// TestProviderSpiffe: gitsign.tokenProvider=spiffe asks the SPIFFE
// Workload API (a stand-in SPIRE agent on a unix socket, internal/
// testspiffe) for a JWT-SVID for audience sigstore, minted by the stack's
// SPIFFE issuer, which Fulcio trusts as a spiffe issuer of the trust
// domain example.test: the commit is signed through the real Fulcio and
// Rekor as the SPIFFE ID, and verifies as it and nothing else. The
// agent's refusal and a missing agent fail signing with one line.
func TestProviderSpiffe(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_LOCAL_SPIFFE_ISSUER")
	id := testspiffe.SPIFFEID
	if !strings.HasPrefix(id, "spiffe://"+stackEnv(t, "GITSIGN_LOCAL_SPIFFE_TRUST_DOMAIN")+"/") {
		t.Fatalf("the stand-in's SPIFFE ID %s is not in the stack's trust domain", id)
	}
	agent := testspiffe.StartServer(t, func(audience string) (string, error) {
		return mintToken(issuer, url.Values{"spiffe_id": {id}, "audience": {audience}})
	})
	r := loginRepo(t, "SPIFFE_ENDPOINT_SOCKET="+agent.SocketPath)
	r.git("config", "gitsign.tokenProvider", "spiffe")
	r.commit("signed by a SPIFFE workload")

	reqs := agent.Requests()
	if len(reqs) != 1 || !reflect.DeepEqual(reqs[0].Audience, []string{"sigstore"}) || !reflect.DeepEqual(reqs[0].Header, []string{"true"}) {
		t.Errorf("the agent was asked %+v, want once, for audience sigstore, with the security header", reqs)
	}
	s, sum := signedCert(t, r, "HEAD")
	if sum.SubjectAlternativeName != id || sum.Extensions.Issuer != issuer || len(s.cert.EmailAddresses) != 0 {
		t.Errorf("certificate SAN %q, issuer %q, emails %v; want %s, %s, none", sum.SubjectAlternativeName, sum.Extensions.Issuer, s.cert.EmailAddresses, id, issuer)
	}
	if code, out := verifyExit(t, r, "--certificate-identity", id, "--certificate-oidc-issuer", issuer); code != 0 {
		t.Errorf("gitsign verify as the SPIFFE ID: exit %d\n%s", code, out)
	}
	if code, out := verifyExit(t, r, "--certificate-identity", "spiffe://example.test/ci/other", "--certificate-oidc-issuer", issuer); code != 1 {
		t.Errorf("gitsign verify as another SPIFFE ID: exit %d, want 1\n%s", code, out)
	}
	if strings.Contains(r.readLog(), "eyJ") {
		t.Errorf("the log holds a token:\n%s", r.readLog())
	}

	t.Run("no identity for this workload", func(t *testing.T) {
		refusing := testspiffe.Start(t, func(string) (string, error) { return "", testspiffe.ErrNoIdentity })
		r := loginRepo(t, "SPIFFE_ENDPOINT_SOCKET="+refusing, "GITSIGN_TOKEN_PROVIDER=spiffe")
		failsOneLine(t, r, "no identity issued")
	})
	t.Run("no agent", func(t *testing.T) {
		r := loginRepo(t, "SPIFFE_ENDPOINT_SOCKET="+filepath.Join(t.TempDir(), "api.sock"), "GITSIGN_TOKEN_PROVIDER=spiffe")
		failsOneLine(t, r, "is the SPIRE agent running?")
	})
	t.Run("another trust domain", func(t *testing.T) {
		foreign := testspiffe.Start(t, func(audience string) (string, error) {
			return mintToken(issuer, url.Values{"spiffe_id": {"spiffe://other.test/ci/signer"}, "audience": {audience}})
		})
		r := loginRepo(t, "SPIFFE_ENDPOINT_SOCKET="+foreign, "GITSIGN_TOKEN_PROVIDER=spiffe")
		failsOneLine(t, r, "fulcio refused the certificate request (400)")
	})
}
