package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const metadataIdentityPath = "/computeMetadata/v1/instance/service-accounts/default/identity"

// metadataServer is a stand-in for the GCE/GKE metadata server's
// identity endpoint, speaking its protocol: a request without
// Metadata-Flavor: Google is refused with 403, a path it does not serve
// (another service account, or none) is 404, an empty audience is 400,
// and the token comes as plain text with Metadata-Flavor: Google on the
// answer. token returns the token for an audience and format.
func metadataServer(t *testing.T, token func(aud, format string) string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Metadata-Flavor", "Google")
		if r.Header.Get("Metadata-Flavor") != "Google" || r.Header.Get("X-Forwarded-For") != "" {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "Missing Metadata-Flavor:Google header.\n")
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != metadataIdentityPath {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<!DOCTYPE html>\n<html lang=en><title>Error 404 (Not Found)!!1</title></html>\n")
			return
		}
		aud := r.URL.Query().Get("audience")
		if aud == "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "non-empty audience parameter required\n")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		fmt.Fprint(w, token(aud, r.URL.Query().Get("format")))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func metadataEnv(host string) func(string) (string, bool) {
	return env(map[string]string{EnvGCEMetadataHost: host})
}

func googleClaims(aud string, exp time.Time) map[string]any {
	return map[string]any{"iss": "https://accounts.google.com", "sub": "107517467455664443765", "azp": "107517467455664443765",
		"email": "signer@demo.iam.gserviceaccount.com", "email_verified": true, "aud": aud, "exp": exp.Unix(), "iat": time.Now().Unix()}
}

func TestGoogleWorkloadIdentityProvider(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	var gotFormat string
	srv, hits := metadataServer(t, func(aud, format string) string {
		gotFormat = format
		return s.sign(t, googleClaims(aud, time.Now().Add(time.Hour)))
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	tok, err := Get(context.Background(), Options{Provider: "google-workload-identity", LookupEnv: metadataEnv(host)})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Source != "google-workload-identity" || tok.Subject != "signer@demo.iam.gserviceaccount.com" || tok.Issuer != "https://accounts.google.com" ||
		len(tok.Audience) != 1 || tok.Audience[0] != "sigstore" || gotFormat != "full" || hits.Load() != 1 {
		t.Errorf("%v, aud %q, format %q, %d requests", tok, tok.Audience, gotFormat, hits.Load())
	}
	// The client ID is the audience asked for.
	tok, err = Get(context.Background(), Options{Provider: "google-workload-identity", ClientID: "fulcio&x", LookupEnv: metadataEnv(host)})
	if err != nil || tok.Audience[0] != "fulcio&x" {
		t.Fatalf("%v, %v", tok, err)
	}
}

// TestMetadataStandIn: the stand-in refuses what the real server refuses,
// so the provider's success above shows that it sends the header.
func TestMetadataStandIn(t *testing.T) {
	t.Parallel()
	srv, _ := metadataServer(t, func(string, string) string { return "x" })
	for _, tc := range []struct {
		path, flavor string
		want         int
	}{
		{metadataIdentityPath + "?audience=sigstore", "", http.StatusForbidden},
		{metadataIdentityPath + "?audience=sigstore", "Google", http.StatusOK},
		{metadataIdentityPath, "Google", http.StatusBadRequest},
		{"/computeMetadata/v1/instance/service-accounts/other@x/identity?audience=sigstore", "Google", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		if tc.flavor != "" {
			req.Header.Set("Metadata-Flavor", tc.flavor)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s (flavor %q): %d, want %d", tc.path, tc.flavor, resp.StatusCode, tc.want)
		}
	}
}

func TestGoogleWorkloadIdentityFailures(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	future := time.Now().Add(time.Hour)
	answer := func(status int, flavor, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if flavor != "" {
				w.Header().Set("Metadata-Flavor", flavor)
			}
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		host    string // instead of the server's
		want    string
		hits    int32
	}{
		{"no service account", answer(404, "Google", "<!DOCTYPE html>\n<html>Error 404 (Not Found)!!1</html>"), "",
			"answered 404 Not Found: <!DOCTYPE html> (the instance or pod has no service account, or, on GKE, Workload Identity is not set up for it)", 1},
		{"refused", answer(403, "Google", "Missing Metadata-Flavor:Google header.\n"), "",
			"answered 403 Forbidden: Missing Metadata-Flavor:Google header. (the request was refused: a metadata server refuses requests without Metadata-Flavor: Google)", 1},
		{"server error, retried once", answer(503, "Google", "backend unavailable\x1b[2J"), "",
			`answered 503 Service Unavailable: backend unavailable\x1b[2J`, 2},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}, "", "oauth: google-workload-identity: no metadata server at http://{host}" + metadataIdentityPath + "?audience=sigstore&format=full: no answer in time (GCE_METADATA_HOST names it)", 1},
		{"nothing listens", nil, "127.0.0.1:1",
			"oauth: google-workload-identity: no metadata server at http://127.0.0.1:1" + metadataIdentityPath + "?audience=sigstore&format=full: connection refused (GCE_METADATA_HOST names it)", 0},
		{"name does not resolve", nil, "metadata.invalid",
			"no metadata server at http://metadata.invalid" + metadataIdentityPath + "?audience=sigstore&format=full: the name metadata.invalid does not resolve", 0},
		{"bad host", nil, "http://x/", `GCE_METADATA_HOST must be a host name or address with an optional port, got http://x/`, 0},
		{"not a metadata server", answer(200, "", s.sign(t, googleClaims("sigstore", future))), "",
			"is not a Google metadata server (no Metadata-Flavor: Google in its answer)", 1},
		{"not a JWT", answer(200, "Google", "<html>hello</html>"), "", "the metadata server's token: identity token is not a JWT", 1},
		{"empty", answer(200, "Google", "\n"), "", "no identity token: the metadata server at http://{host}", 1},
		{"too long", answer(200, "Google", strings.Repeat("a", maxTokenLen+1)), "", "answered more than 65536 bytes, which is no token", 1},
		{"expired", answer(200, "Google", s.sign(t, googleClaims("sigstore", time.Now().Add(-time.Minute)))), "",
			"the metadata server's token: identity token from https://accounts.google.com expired at", 1},
		{"other audience", answer(200, "Google", s.sign(t, googleClaims("garbage", future))), "",
			`the metadata server's token is for audience garbage, not the "sigstore" that was asked for`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			host := tc.host
			if tc.handler != nil {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); tc.handler(w, r) }))
				t.Cleanup(srv.Close)
				host = strings.TrimPrefix(srv.URL, "http://")
			}
			start := time.Now()
			tok, err := Get(context.Background(), Options{Provider: "google-workload-identity", Timeout: 300 * time.Millisecond, LookupEnv: metadataEnv(host)})
			if err == nil {
				t.Fatalf("got %v", tok)
			}
			want := strings.ReplaceAll(tc.want, "{host}", host)
			var se *SourceError
			if !errors.As(err, &se) || se.Provider != "google-workload-identity" || !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\nwant %q", err, want)
			}
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("error is not one plain line: %q", err)
			}
			if hits.Load() != tc.hits {
				t.Errorf("%d requests, want %d", hits.Load(), tc.hits)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}
