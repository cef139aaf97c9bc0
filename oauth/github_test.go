package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// actionsServer is a stand-in for GitHub Actions' token service: it checks
// the request token and answers with handler's body.
func actionsServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "bearer request-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func actionsEnv(url string) func(string) (string, bool) {
	return env(map[string]string{EnvActionsRequestURL: url, EnvActionsRequestToken: "request-secret"})
}

func TestGitHubActionsProvider(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	future := time.Now().Add(time.Hour).Unix()
	good := s.sign(t, map[string]any{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:octo/demo:ref:refs/heads/main", "aud": "sigstore", "exp": future})
	var gotQuery string
	srv, _ := actionsServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		writeJSON(w, http.StatusOK, map[string]string{"count": "1", "value": good})
	})
	// GitHub's URL already has a query; audience is added to it.
	for _, provider := range []string{"github-actions", ""} {
		tok, err := Get(context.Background(), Options{
			Provider: provider, ClientID: "sigstore", TokenFile: absentFile(t),
			LookupEnv: actionsEnv(srv.URL + "/token?api-version=2.0"),
		})
		if err != nil {
			t.Fatalf("%q: %v", provider, err)
		}
		if tok.Source != "github-actions" || tok.Raw != good || tok.Subject != "repo:octo/demo:ref:refs/heads/main" || tok.Issuer != "https://token.actions.githubusercontent.com" {
			t.Errorf("%q: %v", provider, tok)
		}
		if gotQuery != "api-version=2.0&audience=sigstore" {
			t.Errorf("query %q", gotQuery)
		}
	}
}

func TestGitHubActionsFailures(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	future := time.Now().Add(time.Hour).Unix()
	otherAud := s.sign(t, map[string]any{"iss": "https://gha.example", "sub": "x", "aud": []string{"other", "api"}, "exp": future})
	expired := s.sign(t, map[string]any{"iss": "https://gha.example", "sub": "x", "aud": "sigstore", "exp": time.Now().Add(-time.Minute).Unix()})
	answer := func(status int, body any) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, status, body) }
	}
	for _, tc := range []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request)
		url     func(srv string) string
		want    string
		hits    int32
	}{
		{"other audience", answer(200, map[string]string{"value": otherAud}), nil, `the GitHub Actions token is for audience other,api, not the "sigstore" that was asked for`, 1},
		{"expired", answer(200, map[string]string{"value": expired}), nil, "expired", 1},
		{"no value", answer(200, map[string]string{}), nil, "answered without a token", 1},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }, nil, "not JSON", 1},
		{"refused", answer(403, map[string]string{"message": "no id-token permission"}), nil, "answered 403 Forbidden: no id-token permission", 1},
		{"retried 5xx", answer(502, map[string]string{}), nil, "answered 502 Bad Gateway", 3},
		{"plain http elsewhere", nil, func(string) string { return "http://actions.example/token" }, "must be an https URL (or http on a loopback address)", 0},
		{"not a URL", nil, func(string) string { return "token-service" }, "must be an https URL", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := actionsServer(t, tc.handler)
			u := srv.URL + "/token"
			if tc.url != nil {
				u = tc.url(srv.URL)
			}
			tok, err := Get(context.Background(), Options{Provider: "github-actions", ClientID: "sigstore", Timeout: 2 * time.Second, LookupEnv: actionsEnv(u)})
			if err == nil || tok != nil {
				t.Fatalf("accepted: %v", tok)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "oauth: github-actions: ") {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "request-secret") || strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error leaks a secret: %v", err)
			}
			if got := hits.Load(); got != tc.hits {
				t.Errorf("%d requests, want %d", got, tc.hits)
			}
		})
	}
}

func TestGitHubActionsNeedsBothVariables(t *testing.T) {
	for _, m := range []map[string]string{
		{EnvActionsRequestURL: "https://x"},
		{EnvActionsRequestToken: "t"},
		{EnvActionsRequestURL: " ", EnvActionsRequestToken: "t"},
	} {
		_, err := Get(context.Background(), Options{Provider: "github-actions", LookupEnv: env(m)})
		if !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), "id-token: write") {
			t.Errorf("%v: err = %v", m, err)
		}
	}
}

// A token service that never answers is given up on after the timeout,
// once (httpx does not retry a server that never answers).
func TestGitHubActionsBoundedTime(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv, _ := actionsServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	start := time.Now()
	_, err := Get(context.Background(), Options{Provider: "github-actions", Timeout: 300 * time.Millisecond, LookupEnv: actionsEnv(srv.URL)})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}
