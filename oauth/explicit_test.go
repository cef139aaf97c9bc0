package oauth

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExplicitIdentity: the identity of a token given in SIGSTORE_ID_TOKEN
// or a token file, by the provider Get would use, read without a login
// and even after the token expired; nothing for the other providers.
func TestExplicitIdentity(t *testing.T) {
	tk := mintTokens(t)
	s := newSigner(t)
	dex := s.sign(t, map[string]any{"iss": "https://oauth2.example/auth", "sub": "CgQxMjM0", "email": "dev@example.com",
		"federated_claims": map[string]string{"connector_id": "https://github.com/login/oauth", "user_id": "1234"}, "exp": time.Now().Add(time.Hour).Unix()})
	odd := s.sign(t, map[string]any{"iss": "https://odd.example", "sub": "odd", "federated_claims": "not an object", "exp": time.Now().Add(time.Hour).Unix()})
	file := writeToken(t, tk.file+"\n")
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name string
		o    Options
		want *Identity
	}{
		{"auto, environment", Options{TokenFile: file, LookupEnv: env(map[string]string{EnvIDToken: tk.env})},
			&Identity{Issuer: "https://env.example", Subject: "env-sub", Source: ProviderEnvVar}},
		{"auto, file", Options{TokenFile: file, LookupEnv: env(map[string]string{EnvIDToken: " \n"})},
			&Identity{Issuer: "https://file.example", Subject: "ci@example.com", Email: "ci@example.com", Source: ProviderFilesystem}},
		{"auto, neither", Options{TokenFile: missing, LookupEnv: env(nil)}, nil},
		{"envvar, expired", Options{Provider: ProviderEnvVar, LookupEnv: env(map[string]string{EnvIDToken: tk.expired})},
			&Identity{Issuer: "https://env.example", Subject: "env-sub", Source: ProviderEnvVar}},
		{"filesystem", Options{Provider: ProviderFilesystem, TokenFile: file, LookupEnv: env(map[string]string{EnvIDToken: tk.env})},
			&Identity{Issuer: "https://file.example", Subject: "ci@example.com", Email: "ci@example.com", Source: ProviderFilesystem}},
		{"federated", Options{Provider: ProviderEnvVar, LookupEnv: env(map[string]string{EnvIDToken: dex})},
			&Identity{Issuer: "https://oauth2.example/auth", Subject: "dev@example.com", Email: "dev@example.com", Connector: "https://github.com/login/oauth", Source: ProviderEnvVar}},
		{"malformed federated claims", Options{Provider: ProviderEnvVar, LookupEnv: env(map[string]string{EnvIDToken: odd})},
			&Identity{Issuer: "https://odd.example", Subject: "odd", Source: ProviderEnvVar}},
		{"interactive", Options{Provider: ProviderInteractive, TokenFile: file, LookupEnv: env(map[string]string{EnvIDToken: tk.env})}, nil},
		{"device", Options{Provider: ProviderDevice, LookupEnv: env(map[string]string{EnvIDToken: tk.env})}, nil},
		{"github-actions", Options{Provider: ProviderGitHubActions, LookupEnv: env(map[string]string{EnvIDToken: tk.env})}, nil},
	} {
		id, err := ExplicitIdentity(tc.o)
		if err != nil || (id == nil) != (tc.want == nil) || id != nil && *id != *tc.want {
			t.Errorf("%s: ExplicitIdentity = %+v, %v; want %+v", tc.name, id, err, tc.want)
		}
	}
	if _, err := ParseUnverified(odd); err != nil {
		t.Errorf("a token with malformed federated claims: %v", err)
	}
	id, _ := ExplicitIdentity(Options{Provider: ProviderEnvVar, LookupEnv: env(map[string]string{EnvIDToken: tk.env})})
	if got := id.String(); got != "env-sub (issuer https://env.example, from envvar)" {
		t.Errorf("String = %q", got)
	}
}

// TestExplicitIdentityFailures: an explicit token that cannot be read is
// a *SourceError worded as Get's, and never quotes the token; no token at
// all names nobody (a cached credential may sign, as in a rebase after
// the one login).
func TestExplicitIdentityFailures(t *testing.T) {
	for name, o := range map[string]Options{
		"envvar unset": {Provider: ProviderEnvVar, LookupEnv: env(nil)},
		"envvar empty": {Provider: ProviderEnvVar, LookupEnv: env(map[string]string{EnvIDToken: " \n"})},
		"file missing": {Provider: ProviderFilesystem, TokenFile: filepath.Join(t.TempDir(), "missing"), LookupEnv: env(nil)},
		"file empty":   {Provider: ProviderFilesystem, TokenFile: writeToken(t, "\n"), LookupEnv: env(nil)},
	} {
		if id, err := ExplicitIdentity(o); id != nil || err != nil {
			t.Errorf("%s: ExplicitIdentity = %v, %v; want nobody and no error", name, id, err)
		}
	}
	secret := "not.a-jwt-but-secret"
	for _, tc := range []struct {
		name   string
		o      Options
		target error
		want   string
	}{
		{"envvar garbage", Options{Provider: ProviderEnvVar, LookupEnv: env(map[string]string{EnvIDToken: secret})}, ErrNotJWT, "oauth: envvar: reading SIGSTORE_ID_TOKEN: identity token is not a JWT"},
		{"file garbage", Options{Provider: ProviderFilesystem, TokenFile: writeToken(t, secret), LookupEnv: env(nil)}, ErrNotJWT, "oauth: filesystem: token file "},
	} {
		id, err := ExplicitIdentity(tc.o)
		var se *SourceError
		if id != nil || !errors.As(err, &se) || tc.target != nil && !errors.Is(err, tc.target) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: ExplicitIdentity = %v, %v; want a SourceError starting %q", tc.name, id, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %q quotes the token or is not one line", tc.name, err)
		}
	}
}
