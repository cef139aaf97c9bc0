package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
)

// z encodes entries as `git config -z --list` prints them. Each argument
// is "key=value" (split at the first "=") or a bare "key".
func z(entries ...string) []byte {
	var b []byte
	for _, e := range entries {
		if k, v, ok := strings.Cut(e, "="); ok {
			b = append(b, k+"\n"+v...)
		} else {
			b = append(b, e...)
		}
		b = append(b, 0)
	}
	return b
}

// env returns a lookup over "NAME=value" pairs.
func env(pairs ...string) func(string) (string, bool) {
	m := make(map[string]string)
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func mustParse(t *testing.T, gitZ []byte, lookup func(string) (string, bool)) *Config {
	t.Helper()
	c, err := Parse(gitZ, lookup)
	if err != nil {
		t.Fatalf("Parse(%q) error: %v", gitZ, err)
	}
	return c
}

func TestDefault(t *testing.T) {
	want := &Config{
		Fulcio:           "https://fulcio.sigstore.dev",
		Rekor:            "https://rekor.sigstore.dev",
		RekorMode:        gitsign.Offline,
		RekorVersion:     1,
		ClientID:         "sigstore",
		Issuer:           "https://oauth2.sigstore.dev/auth",
		Autoclose:        true,
		AutocloseTimeout: 6,
		Timeout:          30 * time.Second,
		Cache:            cache.ModeAuto,
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() = %+v; want %+v", got, want)
	}
	if got := mustParse(t, nil, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(nil, nil) = %+v; want %+v", got, want)
	}
	if a, b := Default(), Default(); a == b {
		t.Error("Default() returned the same pointer twice")
	}
}

func TestKeysAreCaseInsensitive(t *testing.T) {
	c := mustParse(t, z(
		"GITSIGN.REKORMODE=online",
		"GitSign.FulcioRoot=/roots.pem",
		"gitsign.clientid=my-client",
		"USER.Email=alice@example.com",
		"gitsign.CertificateIdentity=a@example.com",
		"gitsign.certificateidentity=b@example.com",
		"gitsign.sub.rekorMode=garbage", // a subsection: a different key
		"gitsign.x=ignored",             // unknown keys are ignored
	), nil)
	want := Default()
	want.RekorMode = gitsign.Online
	want.FulcioRoot = "/roots.pem"
	want.ClientID = "my-client"
	want.CommitterEmail = "alice@example.com"
	want.CertificateIdentity = []string{"a@example.com", "b@example.com"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse = %+v; want %+v", c, want)
	}
	// Environment variable names are exact.
	if got := mustParse(t, nil, env("gitsign_fulcio_url=https://x")).Fulcio; got != "https://fulcio.sigstore.dev" {
		t.Errorf("lower-case variable name was used: Fulcio = %q", got)
	}
}

func TestLastWins(t *testing.T) {
	tests := []struct {
		name string
		git  []byte
		get  func(*Config) any
		want any
	}{
		{"string", z("gitsign.fulcio=https://a", "GITSIGN.FULCIO=https://b"), func(c *Config) any { return c.Fulcio }, "https://b"},
		{"string emptied", z("gitsign.fulcio=https://a", "gitsign.fulcio="), func(c *Config) any { return c.Fulcio }, ""},
		{"bool bare then false", z("gitsign.matchCommitter", "gitsign.matchcommitter=no"), func(c *Config) any { return c.MatchCommitter }, false},
		{"int", z("gitsign.autocloseTimeout=1", "gitsign.autocloseTimeout=9"), func(c *Config) any { return c.AutocloseTimeout }, 9},
		// Only the value that takes effect is checked.
		{"invalid overridden", z("gitsign.rekorVersion=7", "gitsign.rekorVersion=2"), func(c *Config) any { return c.RekorVersion }, 2},
		{"bare string overridden", z("gitsign.issuer", "gitsign.issuer=https://i"), func(c *Config) any { return c.Issuer }, "https://i"},
	}
	for _, tt := range tests {
		if got := tt.get(mustParse(t, tt.git, nil)); got != tt.want {
			t.Errorf("%s: got %#v; want %#v", tt.name, got, tt.want)
		}
	}
	// An invalid git config value overridden by the environment is unused.
	if got := mustParse(t, z("gitsign.timeout=soon"), env("GITSIGN_TIMEOUT=2s")).Timeout; got != 2*time.Second {
		t.Errorf("Timeout = %v; want 2s", got)
	}
}

func TestPolicyKeysKeepEveryValue(t *testing.T) {
	c := mustParse(t, z(
		"gitsign.certificateIdentity=alice@example.com",
		"gitsign.certificateOIDCIssuer=https://accounts.google.com",
		"gitsign.certificateidentity=bob@example.com",
		"gitsign.certificateIdentityRegexp=^.*@example\\.com$",
		"gitsign.certificateOIDCIssuerRegexp=^https://github\\.com/login/oauth$",
		"gitsign.certificateOIDCIssuer=https://github.com/login/oauth",
		"gitsign.certificateIdentity=",
		"gitsign.certificateIdentity=multi\nline",
	), nil)
	want := map[string][2][]string{
		"CertificateIdentity":         {c.CertificateIdentity, {"alice@example.com", "bob@example.com", "", "multi\nline"}},
		"CertificateIdentityRegexp":   {c.CertificateIdentityRegexp, {`^.*@example\.com$`}},
		"CertificateOIDCIssuer":       {c.CertificateOIDCIssuer, {"https://accounts.google.com", "https://github.com/login/oauth"}},
		"CertificateOIDCIssuerRegexp": {c.CertificateOIDCIssuerRegexp, {`^https://github\.com/login/oauth$`}},
	}
	for name, gw := range want {
		if !reflect.DeepEqual(gw[0], gw[1]) {
			t.Errorf("%s = %q; want %q", name, gw[0], gw[1])
		}
	}
	if d := mustParse(t, nil, nil); d.CertificateIdentity != nil || d.CertificateOIDCIssuerRegexp != nil {
		t.Errorf("unset policy keys are not nil: %q, %q", d.CertificateIdentity, d.CertificateOIDCIssuerRegexp)
	}
}

func TestBooleanSpellings(t *testing.T) {
	tests := []struct {
		value string // "<bare>" for a git config key without a value
		want  bool
	}{
		{"<bare>", true},
		{"true", true}, {"TRUE", true}, {"True", true}, {"yes", true}, {"Yes", true},
		{"on", true}, {"ON", true}, {"1", true},
		{"false", false}, {"FALSE", false}, {"no", false}, {"No", false},
		{"off", false}, {"Off", false}, {"0", false}, {"", false},
	}
	for _, tt := range tests {
		gitZ := z("gitsign.matchCommitter=" + tt.value)
		if tt.value == "<bare>" {
			gitZ = z("gitsign.matchCommitter")
		}
		if got := mustParse(t, gitZ, nil).MatchCommitter; got != tt.want {
			t.Errorf("git config gitsign.matchCommitter %q: MatchCommitter = %v; want %v", tt.value, got, tt.want)
		}
		if tt.value == "<bare>" {
			continue
		}
		// The opposite in git config, to see the variable win.
		c := mustParse(t, z("gitsign.autoclose="+map[bool]string{true: "no", false: "yes"}[tt.want]),
			env("SIGSTORE_AUTOCLOSE="+tt.value))
		if c.Autoclose != tt.want {
			t.Errorf("SIGSTORE_AUTOCLOSE=%q: Autoclose = %v; want %v", tt.value, c.Autoclose, tt.want)
		}
	}
}

func TestValueSpellings(t *testing.T) {
	tests := []struct {
		git  string
		get  func(*Config) any
		want any
	}{
		{"gitsign.rekorMode=ONLINE", func(c *Config) any { return c.RekorMode }, gitsign.Online},
		{"gitsign.rekorMode=Offline", func(c *Config) any { return c.RekorMode }, gitsign.Offline},
		{"gitsign.timeout=1m30s", func(c *Config) any { return c.Timeout }, 90 * time.Second},
		{"gitsign.timeout=30", func(c *Config) any { return c.Timeout }, 30 * time.Second},
		{"gitsign.timeout=600", func(c *Config) any { return c.Timeout }, 10 * time.Minute},
		{"gitsign.timeout=10m", func(c *Config) any { return c.Timeout }, 10 * time.Minute},
		{"gitsign.timeout=1ms", func(c *Config) any { return c.Timeout }, time.Millisecond},
		{"gitsign.cache=KEYRING", func(c *Config) any { return c.Cache }, cache.ModeKeyring},
		{"gitsign.cache=Off", func(c *Config) any { return c.Cache }, cache.ModeOff},
		{"gitsign.cache=agent", func(c *Config) any { return c.Cache }, cache.ModeAgent},
		{"gitsign.cache=auto", func(c *Config) any { return c.Cache }, cache.ModeAuto},
		{"gitsign.autocloseTimeout=1", func(c *Config) any { return c.AutocloseTimeout }, 1},
		{"user.name=Alice\nLiddell", func(c *Config) any { return c.CommitterName }, "Alice\nLiddell"},
	}
	for _, p := range []string{"", "interactive", "device", "filesystem", "envvar", "github-actions",
		"buildkite-agent", "spiffe", "google-workload-identity", "google-impersonate"} {
		tests = append(tests, struct {
			git  string
			get  func(*Config) any
			want any
		}{"gitsign.tokenProvider=" + p, func(c *Config) any { return c.TokenProvider }, p})
	}
	for _, tt := range tests {
		if got := tt.get(mustParse(t, z(tt.git), nil)); got != tt.want {
			t.Errorf("%q: got %#v; want %#v", tt.git, got, tt.want)
		}
	}
}

func TestEnableSigstoreGoIsIgnored(t *testing.T) {
	c := mustParse(t, z("gitsign.enableSigstoreGo=not-a-bool", "gitsign.enablesigstorego"),
		env("GITSIGN_ENABLE_SIGSTORE_GO=whatever"))
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Parse = %+v; want Default()", c)
	}
}

func TestSplitEntries(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []entry
	}{
		{"empty", "", nil},
		{"one", "gitsign.fulcio\nhttps://f\x00", []entry{{key: "gitsign.fulcio", value: "https://f"}}},
		{"newline in value", "user.name\nA\nB\n\x00k\nv\x00", []entry{{key: "user.name", value: "A\nB\n"}, {key: "k", value: "v"}}},
		{"bare", "gitsign.autoclose\x00", []entry{{key: "gitsign.autoclose", bare: true}}},
		{"empty value", "gitsign.rekor\n\x00", []entry{{key: "gitsign.rekor"}}},
		{"no final NUL", "a\n1\x00b\n2", []entry{{key: "a", value: "1"}, {key: "b", value: "2"}}},
		{"empty entries", "\x00\x00a\n1\x00\x00", []entry{{key: "a", value: "1"}}},
	}
	for _, tt := range tests {
		if got := splitEntries([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: splitEntries(%q) = %+v; want %+v", tt.name, tt.in, got, tt.want)
		}
	}
}
