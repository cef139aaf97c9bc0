package config

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Origins of a [Setting]'s value.
const (
	// OriginDefault is gitsign's built-in default.
	OriginDefault = "default"
	// OriginGitConfig is a git config key (any scope, `git -c` included).
	OriginGitConfig = "git config"
	// OriginEnv is an environment variable.
	OriginEnv = "environment"
)

// Hidden stands for a value that is never shown: a token, a secret, or a
// variable gitsign does not know, which could hold either.
const Hidden = "(set, not shown)"

// A Setting is one setting as gitsign sees it, for diagnostics such as
// `gitsign version`. It is a read-only view: nothing reads it back.
type Setting struct {
	// Name is the documented git config key (e.g. "gitsign.fulcio"), or
	// the variable for what only the environment sets (e.g.
	// "SIGSTORE_ID_TOKEN").
	Name string `json:"name"`
	// Value is the value in effect, or the rejected one when Problem is
	// set; Hidden for secrets. A multi-valued key gives one Setting per
	// value.
	Value string `json:"value"`
	// Origin is OriginDefault, OriginGitConfig or OriginEnv.
	Origin string `json:"origin"`
	// From is the git config key or environment variable that set Value;
	// empty for a default.
	From string `json:"from,omitempty"`
	// Problem says why Value is not used (an invalid value, which makes
	// every signature fail, or a variable gitsign ignores); empty if it
	// is.
	Problem string `json:"problem,omitempty"`
}

// Describe lists the settings that apply in the current directory and
// where each comes from, reading git config as [Load] does and the
// process environment. It fails only if git config cannot be read.
func Describe(ctx context.Context) ([]Setting, error) {
	out, err := gitConfigList(ctx)
	if err != nil {
		return nil, err
	}
	return DescribeFrom(out, os.Environ()), nil
}

// DescribeFrom lists the settings that the output of `git config -z
// --list` and environ (as from [os.Environ]) give, in a fixed order: every
// gitsign.* setting (its default when nothing sets it), then the
// verification policy keys, then any gitsign.* key no setting reads (see
// [UnknownKeys]; ignored, its value hidden), then the variables gitsign reads that have no
// git config key, when set, then any other GITSIGN_* or SIGSTORE_*
// variable, which gitsign ignores. Unlike [Parse], an invalid value is not
// an error: it is listed with a Problem. Token and secret values are
// Hidden; paths of key and secret files are shown.
func DescribeFrom(gitConfigZ []byte, environ []string) []Setting {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	lookupEnv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	last := make(map[string]source)
	policy := make(map[string][]string)
	for _, e := range splitEntries(gitConfigZ) {
		k := lowerASCII(e.key)
		if m, ok := multiByKey[k]; ok {
			policy[m.key] = append(policy[m.key], e.value)
		} else if s, ok := settingByKey[k]; ok {
			last[k] = source{name: s.key, value: e.value, bare: e.bare}
		}
	}

	var out []Setting
	c := Default()
	rekorSet := false
	for i := range settings {
		s := &settings[i]
		if !strings.HasPrefix(s.key, "gitsign.") {
			continue // user.name and user.email: not gitsign's to show
		}
		d := Setting{Name: s.key, Origin: OriginDefault}
		if src, ok := s.pick(last, lookupEnv); ok {
			d.Origin, d.From = OriginGitConfig, src.name
			if src.name != s.key {
				d.Origin = OriginEnv
			}
			if err := s.set(c, src); err != nil {
				d.Value, d.Problem = src.value, err.Error()
			} else if s.key == keyRekor {
				rekorSet = true
			}
		}
		out = append(out, d)
	}
	if c.RekorVersion == 2 && !rekorSet {
		c.Rekor = defaultRekorV2
	}
	for i := range out {
		if out[i].Problem == "" {
			out[i].Value = shownValues[out[i].Name](c)
		}
		safe := out[i].Problem == "" && notSecret[out[i].Name]
		if out[i].Value != "" && !safe && secretName(out[i].Name, out[i].From) {
			out[i].Value = Hidden
		}
	}

	for _, m := range multis {
		if len(policy[m.key]) == 0 {
			out = append(out, Setting{Name: m.key, Origin: OriginDefault})
		}
		for _, v := range policy[m.key] {
			out = append(out, Setting{Name: m.key, Value: v, Origin: OriginGitConfig, From: m.key})
		}
	}
	out = append(out, unknownKeySettings(gitConfigZ)...)

	known := make(map[string]bool)
	for _, s := range settings {
		for _, name := range s.env {
			known[name] = true
		}
	}
	for _, v := range envOnly {
		known[v.name] = true
		val, ok := env[v.name]
		if !ok {
			continue
		}
		d := Setting{Name: v.name, Value: val, Origin: OriginEnv, From: v.name, Problem: v.problem}
		if v.secret || !v.path && secretName(v.name) {
			d.Value = Hidden
		}
		out = append(out, d)
	}
	var unknown []string
	for k := range env {
		if (strings.HasPrefix(k, "GITSIGN_") || strings.HasPrefix(k, "SIGSTORE_")) && !known[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		out = append(out, Setting{Name: k, Value: Hidden, Origin: OriginEnv, From: k, Problem: problemUnknown})
	}
	return out
}

// envOnly are the variables gitsign reads that no git config key sets.
var envOnly = []struct {
	name    string
	secret  bool   // never shown
	path    bool   // a file path: shown even if the name says KEY
	problem string // why it is not used, if it is not
}{
	{name: "SIGSTORE_ID_TOKEN", secret: true},
	{name: "SIGSTORE_REKOR_PUBLIC_KEY", path: true},
	{name: "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", path: true},
	{name: "TUF_ROOT", path: true},
	{name: "GITSIGN_IAM_CREDENTIALS_URL"},
	{name: "GITSIGN_ENABLE_SIGSTORE_GO", problem: "accepted and ignored: gitsign has one signing and verification path"},
}

// notSecret are the settings whose names say TOKEN or SECRET but whose
// valid values are a file path or a provider name, which are shown.
var notSecret = map[string]bool{"gitsign.tokenProvider": true, "gitsign.tokenFile": true, "gitsign.clientSecretFile": true}

// secretName reports whether any of names says TOKEN, SECRET or KEY, in
// any case: such values are hidden unless known to be safe.
func secretName(names ...string) bool {
	for _, n := range names {
		if sensitive(n) || strings.Contains(strings.ToUpper(n), "KEY") {
			return true
		}
	}
	return false
}

// shownValues render each gitsign.* setting's value from a Config.
var shownValues = map[string]func(c *Config) string{
	"gitsign.fulcio":             func(c *Config) string { return c.Fulcio },
	"gitsign.fulcioRoot":         func(c *Config) string { return c.FulcioRoot },
	keyRekor:                     func(c *Config) string { return c.Rekor },
	"gitsign.rekorMode":          func(c *Config) string { return c.RekorMode.String() },
	"gitsign.rekorVersion":       func(c *Config) string { return strconv.Itoa(c.RekorVersion) },
	"gitsign.clientID":           func(c *Config) string { return c.ClientID },
	"gitsign.clientSecretFile":   func(c *Config) string { return c.ClientSecretFile },
	"gitsign.redirectURL":        func(c *Config) string { return c.RedirectURL },
	"gitsign.issuer":             func(c *Config) string { return c.Issuer },
	"gitsign.logPath":            func(c *Config) string { return c.LogPath },
	"gitsign.urlOpener":          func(c *Config) string { return c.URLOpener },
	"gitsign.connectorID":        func(c *Config) string { return c.ConnectorID },
	"gitsign.tokenProvider":      func(c *Config) string { return c.TokenProvider },
	"gitsign.tokenFile":          func(c *Config) string { return c.TokenFile },
	"gitsign.timestampServerURL": func(c *Config) string { return c.TimestampURL },
	"gitsign.timestampCertChain": func(c *Config) string { return c.TimestampCertChain },
	"gitsign.trustedRoot":        func(c *Config) string { return c.TrustedRoot },
	"gitsign.matchCommitter":     func(c *Config) string { return strconv.FormatBool(c.MatchCommitter) },
	"gitsign.insecureIgnoreSCT":  func(c *Config) string { return strconv.FormatBool(c.InsecureIgnoreSCT) },
	"gitsign.autoclose":          func(c *Config) string { return strconv.FormatBool(c.Autoclose) },
	"gitsign.autocloseTimeout":   func(c *Config) string { return strconv.Itoa(c.AutocloseTimeout) },
	"gitsign.timeout":            func(c *Config) string { return c.Timeout.String() },
	"gitsign.credentialCache":    func(c *Config) string { return c.CredentialCache },
	"gitsign.cache":              func(c *Config) string { return string(c.Cache) },
	"gitsign.allowedSignersFile": func(c *Config) string { return c.AllowedSignersFile },
	"gitsign.receive.log":        func(c *Config) string { return c.ReceiveLog },
}
