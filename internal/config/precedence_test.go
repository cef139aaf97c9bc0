package config

import (
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
)

// A layered setting: its git config key, its environment variables
// (lowest precedence first), one raw value per layer (git, then each
// variable), and the field's value with no layer set (want[0]) and with
// layer i on top (want[i+1]).
type layered struct {
	key    string
	env    []string
	values []string
	get    func(*Config) any
	want   []any
	isStr  bool
}

func strSetting(key string, envs []string, def string, get func(*Config) string) layered {
	l := layered{key: key, env: envs, get: func(c *Config) any { return get(c) }, want: []any{def}, isStr: true}
	l.values = append(l.values, "git:"+key)
	for _, e := range envs {
		l.values = append(l.values, "env:"+e)
	}
	for _, v := range l.values {
		l.want = append(l.want, v)
	}
	return l
}

func pair(x string) []string { return []string{"SIGSTORE_" + x, "GITSIGN_" + x} }

var layeredSettings = []layered{
	strSetting("gitsign.fulcio", pair("FULCIO_URL"), "https://fulcio.sigstore.dev", func(c *Config) string { return c.Fulcio }),
	strSetting("gitsign.fulcioRoot", []string{"SIGSTORE_ROOT_FILE", "SIGSTORE_FULCIO_ROOT", "GITSIGN_FULCIO_ROOT"}, "", func(c *Config) string { return c.FulcioRoot }),
	strSetting("gitsign.rekor", pair("REKOR_URL"), "https://rekor.sigstore.dev", func(c *Config) string { return c.Rekor }),
	strSetting("gitsign.clientID", pair("OIDC_CLIENT_ID"), "sigstore", func(c *Config) string { return c.ClientID }),
	strSetting("gitsign.clientSecretFile", pair("OIDC_CLIENT_SECRET_FILE"), "", func(c *Config) string { return c.ClientSecretFile }),
	strSetting("gitsign.redirectURL", pair("OIDC_REDIRECT_URL"), "", func(c *Config) string { return c.RedirectURL }),
	strSetting("gitsign.issuer", pair("OIDC_ISSUER"), "https://oauth2.sigstore.dev/auth", func(c *Config) string { return c.Issuer }),
	strSetting("gitsign.logPath", []string{"GITSIGN_LOG"}, "", func(c *Config) string { return c.LogPath }),
	strSetting("gitsign.urlOpener", []string{"GITSIGN_URL_OPENER"}, "", func(c *Config) string { return c.URLOpener }),
	strSetting("gitsign.connectorID", pair("CONNECTOR_ID"), "", func(c *Config) string { return c.ConnectorID }),
	strSetting("gitsign.tokenFile", []string{"GITSIGN_TOKEN_FILE"}, "", func(c *Config) string { return c.TokenFile }),
	strSetting("gitsign.timestampServerURL", pair("TIMESTAMP_SERVER_URL"), "", func(c *Config) string { return c.TimestampURL }),
	strSetting("gitsign.timestampCertChain", pair("TIMESTAMP_CERT_CHAIN"), "", func(c *Config) string { return c.TimestampCertChain }),
	strSetting("gitsign.trustedRoot", pair("TRUSTED_ROOT"), "", func(c *Config) string { return c.TrustedRoot }),
	strSetting("gitsign.credentialCache", []string{"GITSIGN_CREDENTIAL_CACHE"}, "", func(c *Config) string { return c.CredentialCache }),
	strSetting("gitsign.allowedSignersFile", nil, "", func(c *Config) string { return c.AllowedSignersFile }),
	strSetting("user.name", nil, "", func(c *Config) string { return c.CommitterName }),
	strSetting("user.email", nil, "", func(c *Config) string { return c.CommitterEmail }),
	{
		key: "gitsign.tokenProvider", env: pair("TOKEN_PROVIDER"),
		values: []string{"device", "filesystem", "envvar"},
		get:    func(c *Config) any { return c.TokenProvider },
		want:   []any{"", "device", "filesystem", "envvar"},
	},
	{
		key: "gitsign.rekorMode", env: []string{"GITSIGN_REKOR_MODE"},
		values: []string{"online", "offline"},
		get:    func(c *Config) any { return c.RekorMode },
		want:   []any{gitsign.Offline, gitsign.Online, gitsign.Offline},
	},
	{
		key: "gitsign.cache", env: []string{"GITSIGN_CACHE"},
		values: []string{"keyring", "off"},
		get:    func(c *Config) any { return c.Cache },
		want:   []any{cache.ModeAuto, cache.ModeKeyring, cache.ModeOff},
	},
	{
		key: "gitsign.rekorVersion", env: pair("REKOR_VERSION"),
		values: []string{"2", "1", "2"},
		get:    func(c *Config) any { return c.RekorVersion },
		want:   []any{1, 2, 1, 2},
	},
	{
		key: "gitsign.matchCommitter", env: []string{"GITSIGN_MATCH_COMMITTER"},
		values: []string{"true", "false"},
		get:    func(c *Config) any { return c.MatchCommitter },
		want:   []any{false, true, false},
	},
	{
		key: "gitsign.autoclose", env: pair("AUTOCLOSE"),
		values: []string{"false", "yes", "off"},
		get:    func(c *Config) any { return c.Autoclose },
		want:   []any{true, false, true, false},
	},
	{
		key: "gitsign.autocloseTimeout", env: pair("AUTOCLOSE_TIMEOUT"),
		values: []string{"10", "20", "30"},
		get:    func(c *Config) any { return c.AutocloseTimeout },
		want:   []any{6, 10, 20, 30},
	},
	{
		key: "gitsign.timeout", env: pair("TIMEOUT"),
		values: []string{"5s", "1m", "45"},
		get:    func(c *Config) any { return c.Timeout },
		want:   []any{30 * time.Second, 5 * time.Second, time.Minute, 45 * time.Second},
	},
}

// layers returns the git config and environment with the given layers
// set (0 = git config, i = l.env[i-1]) to the given raw values.
func (l layered) layers(set map[int]string) ([]byte, func(string) (string, bool)) {
	var gitZ []byte
	var pairs []string
	for i, v := range set {
		if i == 0 {
			gitZ = z(l.key + "=" + v)
		} else {
			pairs = append(pairs, l.env[i-1]+"="+v)
		}
	}
	return gitZ, env(pairs...)
}

func TestPrecedence(t *testing.T) {
	for _, l := range layeredSettings {
		t.Run(l.key, func(t *testing.T) {
			if got := l.get(mustParse(t, nil, nil)); got != l.want[0] {
				t.Errorf("default = %#v; want %#v", got, l.want[0])
			}
			for top := range l.values {
				// Layer top alone, then every layer up to top.
				alone := map[int]string{top: l.values[top]}
				stacked := map[int]string{}
				for i := 0; i <= top; i++ {
					stacked[i] = l.values[i]
				}
				for name, set := range map[string]map[int]string{"alone": alone, "stacked": stacked} {
					gitZ, lookup := l.layers(set)
					if got := l.get(mustParse(t, gitZ, lookup)); got != l.want[top+1] {
						t.Errorf("layer %d %s (git %q, set %v) = %#v; want %#v", top, name, gitZ, set, got, l.want[top+1])
					}
				}
				// A set-but-empty variable overrides every layer below it.
				if l.isStr && top > 0 {
					stacked[top] = ""
					gitZ, lookup := l.layers(stacked)
					if got := l.get(mustParse(t, gitZ, lookup)); got != "" {
						t.Errorf("empty %s over lower layers = %#v; want \"\"", l.env[top-1], got)
					}
				}
			}
		})
	}
}

func TestEmptyEnvOverrides(t *testing.T) {
	c := mustParse(t, z("gitsign.autoclose=true", "gitsign.matchCommitter=true", "gitsign.tokenProvider=device"),
		env("GITSIGN_AUTOCLOSE=", "GITSIGN_MATCH_COMMITTER=", "GITSIGN_TOKEN_PROVIDER="))
	if c.Autoclose || c.MatchCommitter {
		t.Errorf("empty boolean variables: Autoclose = %v, MatchCommitter = %v; want false, false", c.Autoclose, c.MatchCommitter)
	}
	if c.TokenProvider != "" {
		t.Errorf("empty GITSIGN_TOKEN_PROVIDER: TokenProvider = %q; want \"\"", c.TokenProvider)
	}
}

func TestRekorDefaultFollowsVersion(t *testing.T) {
	tests := []struct {
		name string
		git  []byte
		env  func(string) (string, bool)
		want string
	}{
		{"v1 default", nil, nil, "https://rekor.sigstore.dev"},
		{"v2 from git config", z("gitsign.rekorVersion=2"), nil, "https://log2025-1.rekor.sigstore.dev"},
		{"v2 from env", nil, env("SIGSTORE_REKOR_VERSION=2"), "https://log2025-1.rekor.sigstore.dev"},
		{"v2 with git config URL", z("gitsign.rekorVersion=2", "gitsign.rekor=https://rekor.example"), nil, "https://rekor.example"},
		{"v2 with env URL", z("gitsign.rekorVersion=2"), env("SIGSTORE_REKOR_URL=https://r.example"), "https://r.example"},
		{"v2 with empty env URL", nil, env("GITSIGN_REKOR_VERSION=2", "GITSIGN_REKOR_URL="), ""},
		{"v2 overridden back to 1", z("gitsign.rekorVersion=2"), env("GITSIGN_REKOR_VERSION=1"), "https://rekor.sigstore.dev"},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.git, tt.env).Rekor; got != tt.want {
			t.Errorf("%s: Rekor = %q; want %q", tt.name, got, tt.want)
		}
	}
}
