package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// find returns the settings named name.
func find(ss []Setting, name string) []Setting {
	var out []Setting
	for _, s := range ss {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func one(t *testing.T, ss []Setting, name string) Setting {
	t.Helper()
	f := find(ss, name)
	if len(f) != 1 {
		t.Fatalf("%s listed %d times: %+v", name, len(f), f)
	}
	return f[0]
}

// TestDescribeEverySetting: each gitsign.* setting is listed once with a
// value renderer, and with nothing set, every value is the default that
// Parse gives.
func TestDescribeEverySetting(t *testing.T) {
	ss := DescribeFrom(nil, nil)
	for _, s := range settings {
		if !strings.HasPrefix(s.key, "gitsign.") {
			continue
		}
		if shownValues[s.key] == nil {
			t.Errorf("%s has no entry in shownValues", s.key)
			continue
		}
		d := one(t, ss, s.key)
		if want := shownValues[s.key](Default()); d.Origin != OriginDefault || d.From != "" || d.Value != want || d.Problem != "" {
			t.Errorf("%s = %+v; want the default %q", s.key, d, want)
		}
	}
	for _, m := range multis {
		if d := one(t, ss, m.key); d.Origin != OriginDefault || d.Value != "" {
			t.Errorf("%s = %+v", m.key, d)
		}
	}
	if len(find(ss, "user.email")) != 0 {
		t.Error("user.email is listed")
	}
}

// TestDescribeOrigins: the value and origin follow Parse's precedence.
func TestDescribeOrigins(t *testing.T) {
	ss := DescribeFrom(
		z("gitsign.fulcio=https://git.example", "GITSIGN.ISSUER=https://issuer.git", "gitsign.autoclose",
			"gitsign.rekorVersion=2", "gitsign.certificateIdentity=a@x", "gitsign.certificateIdentity=b@x"),
		[]string{"SIGSTORE_OIDC_ISSUER=https://issuer.env", "SIGSTORE_TIMEOUT=5", "GITSIGN_TIMEOUT=7s",
			"GITSIGN_REKOR_MODE=ONLINE", "SIGSTORE_ROOT_FILE=/roots.pem", "PATH=/bin"})
	for _, c := range []struct{ name, value, origin, from string }{
		{"gitsign.fulcio", "https://git.example", OriginGitConfig, "gitsign.fulcio"},
		{"gitsign.issuer", "https://issuer.env", OriginEnv, "SIGSTORE_OIDC_ISSUER"},
		{"gitsign.autoclose", "true", OriginGitConfig, "gitsign.autoclose"},
		{"gitsign.timeout", "7s", OriginEnv, "GITSIGN_TIMEOUT"},
		{"gitsign.rekorMode", "online", OriginEnv, "GITSIGN_REKOR_MODE"},
		{"gitsign.fulcioRoot", "/roots.pem", OriginEnv, "SIGSTORE_ROOT_FILE"},
		// Rekor v2 without a Rekor URL: the v2 default.
		{"gitsign.rekor", defaultRekorV2, OriginDefault, ""},
		{"gitsign.clientID", defaultClientID, OriginDefault, ""},
	} {
		d := one(t, ss, c.name)
		if d.Value != c.value || d.Origin != c.origin || d.From != c.from || d.Problem != "" {
			t.Errorf("%s = %+v; want %s from %s %s", c.name, d, c.value, c.origin, c.from)
		}
	}
	ids := find(ss, "gitsign.certificateIdentity")
	if len(ids) != 2 || ids[0].Value != "a@x" || ids[1].Value != "b@x" || ids[1].Origin != OriginGitConfig {
		t.Errorf("policy: %+v", ids)
	}
	if len(find(ss, "PATH")) != 0 {
		t.Error("an unrelated variable is listed")
	}
}

// TestDescribeProblems: an invalid value is listed with why; other
// settings are still described; unknown variables are flagged, not shown.
func TestDescribeProblems(t *testing.T) {
	ss := DescribeFrom(z("gitsign.rekor"), []string{"GITSIGN_REKOR_VERSION=3", "GITSIGN_FULCIO=https://typo", "GITSIGN_ENABLE_SIGSTORE_GO=1"})
	if d := one(t, ss, "gitsign.rekorVersion"); d.Value != "3" || d.From != "GITSIGN_REKOR_VERSION" || !strings.Contains(d.Problem, "must be 1 or 2") {
		t.Errorf("invalid value: %+v", d)
	}
	if d := one(t, ss, "gitsign.rekor"); d.Origin != OriginGitConfig || !strings.Contains(d.Problem, "missing value") {
		t.Errorf("bare key: %+v", d)
	}
	if d := one(t, ss, "GITSIGN_FULCIO"); d.Value != Hidden || d.Problem == "" {
		t.Errorf("unknown variable: %+v", d)
	}
	if d := one(t, ss, "GITSIGN_ENABLE_SIGSTORE_GO"); d.Value != "1" || !strings.Contains(d.Problem, "ignored") {
		t.Errorf("ignored variable: %+v", d)
	}
	if d := one(t, ss, "gitsign.fulcio"); d.Value != defaultFulcio {
		t.Errorf("fulcio: %+v", d)
	}
}

// TestDescribeNeverShowsSecrets: tokens and secrets never appear, however
// they are set; paths of key and secret files do.
func TestDescribeNeverShowsSecrets(t *testing.T) {
	const tok = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2ln"
	ss := DescribeFrom(z("gitsign.tokenProvider="+tok),
		[]string{
			"SIGSTORE_ID_TOKEN=" + tok,
			"SIGSTORE_OIDC_CLIENT_SECRET=" + tok,
			"GITSIGN_PRIVATE_KEY=" + tok,
			"SIGSTORE_SOMETHING=" + tok,
			"GITSIGN_OIDC_CLIENT_SECRET_FILE=/run/secret",
			"GITSIGN_TOKEN_FILE=/run/token",
			"SIGSTORE_REKOR_PUBLIC_KEY=/etc/rekor.pub",
		})
	b, _ := json.Marshal(ss)
	if strings.Contains(string(b), "c2VjcmV0") || strings.Contains(fmt.Sprint(ss), "c2VjcmV0") {
		t.Errorf("a token is shown: %s", b)
	}
	if d := one(t, ss, "SIGSTORE_ID_TOKEN"); d.Value != Hidden || d.Origin != OriginEnv {
		t.Errorf("SIGSTORE_ID_TOKEN: %+v", d)
	}
	if d := one(t, ss, "gitsign.tokenProvider"); d.Value != Hidden || d.Problem == "" {
		t.Errorf("an invalid token provider: %+v", d)
	}
	for name, want := range map[string]string{
		"gitsign.clientSecretFile":  "/run/secret",
		"gitsign.tokenFile":         "/run/token",
		"SIGSTORE_REKOR_PUBLIC_KEY": "/etc/rekor.pub",
	} {
		if d := one(t, ss, name); d.Value != want {
			t.Errorf("%s = %+v; want the path %s", name, d, want)
		}
	}
	if d := one(t, DescribeFrom(nil, []string{"GITSIGN_TOKEN_PROVIDER=envvar"}), "gitsign.tokenProvider"); d.Value != "envvar" {
		t.Errorf("a valid token provider: %+v", d)
	}
}
