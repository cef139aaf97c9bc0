package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
)

// A source is the value that takes effect for one setting: the last git
// config entry for its key, or an environment variable.
type source struct {
	name  string // documented git config key, or environment variable
	value string
	bare  bool // a git config key listed without "= value"
}

// A setting is a single-valued Config field and where it comes from.
type setting struct {
	key string   // git config key as documented
	env []string // environment variables, lowest precedence first
	set func(c *Config, s source) error
}

// both returns SIGSTORE_x then GITSIGN_x: GITSIGN wins.
func both(x string) []string { return []string{"SIGSTORE_" + x, "GITSIGN_" + x} }

// keyRekor is checked by Parse to choose the Rekor default.
const keyRekor = "gitsign.rekor"

var settings = []setting{
	{"gitsign.fulcio", both("FULCIO_URL"), str(func(c *Config) *string { return &c.Fulcio })},
	// SIGSTORE_ROOT_FILE is the reference's older name; it has the
	// lowest precedence of the variables.
	{"gitsign.fulcioRoot", append([]string{"SIGSTORE_ROOT_FILE"}, both("FULCIO_ROOT")...), str(func(c *Config) *string { return &c.FulcioRoot })},
	{keyRekor, both("REKOR_URL"), str(func(c *Config) *string { return &c.Rekor })},
	{"gitsign.rekorMode", []string{"GITSIGN_REKOR_MODE"}, setRekorMode},
	{"gitsign.rekorVersion", both("REKOR_VERSION"), setRekorVersion},
	{"gitsign.clientID", both("OIDC_CLIENT_ID"), str(func(c *Config) *string { return &c.ClientID })},
	{"gitsign.clientSecretFile", both("OIDC_CLIENT_SECRET_FILE"), str(func(c *Config) *string { return &c.ClientSecretFile })},
	{"gitsign.redirectURL", both("OIDC_REDIRECT_URL"), str(func(c *Config) *string { return &c.RedirectURL })},
	{"gitsign.issuer", both("OIDC_ISSUER"), str(func(c *Config) *string { return &c.Issuer })},
	{"gitsign.logPath", []string{"GITSIGN_LOG"}, str(func(c *Config) *string { return &c.LogPath })},
	{"gitsign.urlOpener", []string{"GITSIGN_URL_OPENER"}, str(func(c *Config) *string { return &c.URLOpener })},
	{"gitsign.connectorID", both("CONNECTOR_ID"), str(func(c *Config) *string { return &c.ConnectorID })},
	{"gitsign.tokenProvider", both("TOKEN_PROVIDER"), setTokenProvider},
	{"gitsign.tokenFile", []string{"GITSIGN_TOKEN_FILE"}, str(func(c *Config) *string { return &c.TokenFile })},
	{"gitsign.timestampServerURL", both("TIMESTAMP_SERVER_URL"), str(func(c *Config) *string { return &c.TimestampURL })},
	{"gitsign.timestampCertChain", both("TIMESTAMP_CERT_CHAIN"), str(func(c *Config) *string { return &c.TimestampCertChain })},
	{"gitsign.trustedRoot", both("TRUSTED_ROOT"), str(func(c *Config) *string { return &c.TrustedRoot })},
	{"gitsign.matchCommitter", []string{"GITSIGN_MATCH_COMMITTER"}, boolean(func(c *Config) *bool { return &c.MatchCommitter })},
	{"gitsign.insecureIgnoreSCT", []string{"GITSIGN_INSECURE_IGNORE_SCT"}, boolean(func(c *Config) *bool { return &c.InsecureIgnoreSCT })},
	{"gitsign.autoclose", both("AUTOCLOSE"), boolean(func(c *Config) *bool { return &c.Autoclose })},
	{"gitsign.autocloseTimeout", both("AUTOCLOSE_TIMEOUT"), setAutocloseTimeout},
	{"gitsign.timeout", both("TIMEOUT"), setTimeout},
	{"gitsign.credentialCache", []string{"GITSIGN_CREDENTIAL_CACHE"}, str(func(c *Config) *string { return &c.CredentialCache })},
	{"gitsign.cache", []string{"GITSIGN_CACHE"}, setCache},
	{"gitsign.allowedSignersFile", nil, str(func(c *Config) *string { return &c.AllowedSignersFile })},
	{"gitsign.receive.log", nil, str(func(c *Config) *string { return &c.ReceiveLog })},
	{"user.name", nil, str(func(c *Config) *string { return &c.CommitterName })},
	{"user.email", nil, str(func(c *Config) *string { return &c.CommitterEmail })},
}

// envSettings are set only by the environment: no git config key names
// them (their key is empty), and they are read after settings.
var envSettings = []setting{
	{"", []string{"SIGSTORE_REKOR_PUBLIC_KEY"}, str(func(c *Config) *string { return &c.RekorPublicKeyFile })},
	{"", []string{"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE"}, str(func(c *Config) *string { return &c.CTLogPublicKeyFile })},
	{"", []string{"TUF_ROOT"}, str(func(c *Config) *string { return &c.TUFRoot })},
}

// A multi is a multi-valued git config key: every value is kept, in order.
type multi struct {
	key   string
	field func(c *Config) *[]string
}

var multis = []multi{
	{"gitsign.certificateIdentity", func(c *Config) *[]string { return &c.CertificateIdentity }},
	{"gitsign.certificateIdentityRegexp", func(c *Config) *[]string { return &c.CertificateIdentityRegexp }},
	{"gitsign.certificateOIDCIssuer", func(c *Config) *[]string { return &c.CertificateOIDCIssuer }},
	{"gitsign.certificateOIDCIssuerRegexp", func(c *Config) *[]string { return &c.CertificateOIDCIssuerRegexp }},
	{"gitsign.receive.exempt", func(c *Config) *[]string { return &c.ReceiveExempt }},
	{"gitsign.receive.protect", func(c *Config) *[]string { return &c.ReceiveProtect }},
}

// tokenProviders are the accepted TokenProvider values: the reference's
// provider names plus "" (automatic), "interactive" and "device".
var tokenProviders = []string{
	"interactive", "device", "filesystem", "envvar", "github-actions",
	"buildkite-agent", "spiffe", "google-workload-identity", "google-impersonate",
}

func str(field func(*Config) *string) func(*Config, source) error {
	return func(c *Config, s source) error {
		if s.bare {
			return missingValue(s.name)
		}
		*field(c) = s.value
		return nil
	}
}

func boolean(field func(*Config) *bool) func(*Config, source) error {
	return func(c *Config, s source) error {
		if s.bare {
			*field(c) = true
			return nil
		}
		b, ok := parseBool(s.value)
		if !ok {
			return newError(s.name, s.value, "must be a boolean (true, yes, on, 1 or false, no, off, 0)")
		}
		*field(c) = b
		return nil
	}
}

// parseBool accepts git's boolean words in any case. The empty string is
// false, as in git (`git config --type=bool` and git's own GIT_* variables).
func parseBool(v string) (b, ok bool) {
	switch lowerASCII(v) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0", "":
		return false, true
	}
	return false, false
}

func setRekorMode(c *Config, s source) error {
	if s.bare {
		return missingValue(s.name)
	}
	switch lowerASCII(s.value) {
	case "offline":
		c.RekorMode = gitsign.Offline
		return nil
	case "online":
		c.RekorMode = gitsign.Online
		return nil
	}
	return newError(s.name, s.value, `must be "offline" or "online"`)
}

func setCache(c *Config, s source) error {
	if s.bare {
		return missingValue(s.name)
	}
	switch m := cache.Mode(lowerASCII(s.value)); m {
	case cache.ModeAuto, cache.ModeAgent, cache.ModeKeyring, cache.ModeOff:
		c.Cache = m
		return nil
	}
	return newError(s.name, s.value, `must be "auto", "agent", "keyring" or "off"`)
}

func setRekorVersion(c *Config, s source) error {
	if s.bare {
		return missingValue(s.name)
	}
	switch s.value {
	case "1":
		c.RekorVersion = 1
	case "2":
		c.RekorVersion = 2
	default:
		return newError(s.name, s.value, "must be 1 or 2")
	}
	return nil
}

func setTokenProvider(c *Config, s source) error {
	if s.bare {
		return missingValue(s.name)
	}
	if s.value == "" {
		c.TokenProvider = ""
		return nil
	}
	for _, p := range tokenProviders {
		if s.value == p {
			c.TokenProvider = p
			return nil
		}
	}
	return newError(s.name, s.value, "must be empty (automatic) or one of "+strings.Join(tokenProviders, ", "))
}

func setAutocloseTimeout(c *Config, s source) error {
	if s.bare {
		return missingValue(s.name)
	}
	n, err := strconv.Atoi(s.value)
	if err != nil || n <= 0 {
		return newError(s.name, s.value, "must be a whole number of seconds greater than 0")
	}
	c.AutocloseTimeout = n
	return nil
}

func setTimeout(c *Config, s source) error {
	if s.bare {
		return missingValue(s.name)
	}
	d, ok := parseTimeout(s.value)
	if !ok {
		return newError(s.name, s.value, `must be a duration such as "30s" or "1m", or whole seconds`)
	}
	if d <= 0 || d > maxTimeout {
		return newError(s.name, s.value, "must be greater than 0 and at most "+maxTimeout.String())
	}
	c.Timeout = d
	return nil
}

// parseTimeout accepts a Go duration or a plain number of seconds. A
// number of seconds too large to represent comes back as maxTimeout+1s,
// so that it is reported as out of range rather than as malformed.
func parseTimeout(v string) (time.Duration, bool) {
	if v != "" && strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxTimeout/time.Second) {
			return maxTimeout + time.Second, true
		}
		return time.Duration(n) * time.Second, true
	}
	d, err := time.ParseDuration(v)
	return d, err == nil
}

// lowerASCII lowers ASCII letters only, as git does for the section and
// name of a key; other bytes are compared exactly.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
