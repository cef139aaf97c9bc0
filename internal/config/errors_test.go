package config

import (
	"errors"
	"strings"
	"testing"
)

func TestInvalidValues(t *testing.T) {
	const (
		notBool    = "must be a boolean (true, yes, on, 1 or false, no, off, 0)"
		notVersion = "must be 1 or 2"
		notMode    = `must be "offline" or "online"`
		notSeconds = "must be a whole number of seconds greater than 0"
		notDur     = `must be a duration such as "30s" or "1m", or whole seconds`
		outOfRange = "must be greater than 0 and at most 10m0s"
		bareReason = "only boolean keys may be given without a value"
		notCache   = `must be "auto", "agent", "keyring" or "off"`
	)
	tests := []struct {
		git    []byte
		env    func(string) (string, bool)
		key    string
		value  string
		reason string
	}{
		{z("gitsign.autoclose=maybe"), nil, "gitsign.autoclose", "maybe", notBool},
		{z("gitsign.matchCommitter=2"), nil, "gitsign.matchCommitter", "2", notBool},
		{nil, env("SIGSTORE_AUTOCLOSE=maybe"), "SIGSTORE_AUTOCLOSE", "maybe", notBool},
		{nil, env("GITSIGN_AUTOCLOSE=enabled"), "GITSIGN_AUTOCLOSE", "enabled", notBool},
		{nil, env("GITSIGN_MATCH_COMMITTER=y"), "GITSIGN_MATCH_COMMITTER", "y", notBool},
		{z("gitsign.rekorVersion=3"), nil, "gitsign.rekorVersion", "3", notVersion},
		{z("GITSIGN.REKORVERSION=v2"), nil, "gitsign.rekorVersion", "v2", notVersion},
		{nil, env("SIGSTORE_REKOR_VERSION=0"), "SIGSTORE_REKOR_VERSION", "0", notVersion},
		{nil, env("GITSIGN_REKOR_VERSION=3"), "GITSIGN_REKOR_VERSION", "3", notVersion},
		{nil, env("GITSIGN_REKOR_VERSION="), "GITSIGN_REKOR_VERSION", "", notVersion},
		{z("gitsign.rekorMode=sometimes"), nil, "gitsign.rekorMode", "sometimes", notMode},
		{z("gitsign.rekorMode="), nil, "gitsign.rekorMode", "", notMode},
		{nil, env("GITSIGN_REKOR_MODE=upload"), "GITSIGN_REKOR_MODE", "upload", notMode},
		{z("gitsign.cache=memory"), nil, "gitsign.cache", "memory", notCache},
		{nil, env("GITSIGN_CACHE="), "GITSIGN_CACHE", "", notCache},
		{z("gitsign.cache"), nil, "gitsign.cache", "", bareReason},
		{z("gitsign.autocloseTimeout=six"), nil, "gitsign.autocloseTimeout", "six", notSeconds},
		{z("gitsign.autocloseTimeout=0"), nil, "gitsign.autocloseTimeout", "0", notSeconds},
		{nil, env("SIGSTORE_AUTOCLOSE_TIMEOUT=-1"), "SIGSTORE_AUTOCLOSE_TIMEOUT", "-1", notSeconds},
		{nil, env("GITSIGN_AUTOCLOSE_TIMEOUT=2.5"), "GITSIGN_AUTOCLOSE_TIMEOUT", "2.5", notSeconds},
		{z("gitsign.timeout=fast"), nil, "gitsign.timeout", "fast", notDur},
		{nil, env("GITSIGN_TIMEOUT="), "GITSIGN_TIMEOUT", "", notDur},
		{nil, env("SIGSTORE_TIMEOUT=5 s"), "SIGSTORE_TIMEOUT", "5 s", notDur},
		{z("gitsign.timeout=0"), nil, "gitsign.timeout", "0", outOfRange},
		{z("gitsign.timeout=0s"), nil, "gitsign.timeout", "0s", outOfRange},
		{z("gitsign.timeout=-5s"), nil, "gitsign.timeout", "-5s", outOfRange},
		{z("gitsign.timeout=11m"), nil, "gitsign.timeout", "11m", outOfRange},
		{z("gitsign.timeout=601"), nil, "gitsign.timeout", "601", outOfRange},
		{nil, env("GITSIGN_TIMEOUT=99999999999999999999999"), "GITSIGN_TIMEOUT", "99999999999999999999999", outOfRange},
		{z("gitsign.fulcio"), nil, "gitsign.fulcio", "", bareReason},
		{z("gitsign.rekorVersion"), nil, "gitsign.rekorVersion", "", bareReason},
		{z("gitsign.timeout"), nil, "gitsign.timeout", "", bareReason},
		{z("user.email"), nil, "user.email", "", bareReason},
		{z("gitsign.certificateOIDCIssuer"), nil, "gitsign.certificateOIDCIssuer", "", bareReason},
	}
	for _, tt := range tests {
		c, err := Parse(tt.git, tt.env)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %+v, %v; want *Error for %s", tt.git, c, err, tt.key)
			continue
		}
		if c != nil {
			t.Errorf("Parse(%q) returned a Config with an error", tt.git)
		}
		if e.Key != tt.key || e.Value != tt.value || e.Reason != tt.reason {
			t.Errorf("Parse(%q) error = {Key:%q Value:%q Reason:%q}; want {%q %q %q}",
				tt.git, e.Key, e.Value, e.Reason, tt.key, tt.value, tt.reason)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, " for "+tt.key+": ") {
			t.Errorf("error %q is not one line naming %s", msg, tt.key)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		git  []byte
		env  func(string) (string, bool)
		want string
	}{
		{nil, env("GITSIGN_REKOR_VERSION=3"), `invalid value "3" for GITSIGN_REKOR_VERSION: must be 1 or 2`},
		{z("gitsign.rekorMode=on\nline"), nil, `invalid value "on\x0aline" for gitsign.rekorMode: must be "offline" or "online"`},
		{z("gitsign.issuer"), nil, "missing value for gitsign.issuer: only boolean keys may be given without a value"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.git, tt.env)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error = %v; want %s", tt.git, err, tt.want)
		}
	}
}

// A bad value for a setting checked earlier is reported first, whatever
// the order of the input.
func TestFirstErrorIsStable(t *testing.T) {
	for _, gitZ := range [][]byte{
		z("gitsign.timeout=never", "gitsign.rekorVersion=9"),
		z("gitsign.rekorVersion=9", "gitsign.timeout=never"),
	} {
		_, err := Parse(gitZ, env("GITSIGN_AUTOCLOSE=maybe"))
		var e *Error
		if !errors.As(err, &e) || e.Key != "gitsign.rekorVersion" {
			t.Errorf("Parse(%q) error = %v; want the one for gitsign.rekorVersion", gitZ, err)
		}
	}
}

func TestRedaction(t *testing.T) {
	const secret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.sig"
	tests := []struct {
		git []byte
		env func(string) (string, bool)
		key string
	}{
		{z("gitsign.tokenProvider=" + secret), nil, "gitsign.tokenProvider"},
		{z("GITSIGN.TOKENPROVIDER=" + secret), nil, "gitsign.tokenProvider"},
		{nil, env("SIGSTORE_TOKEN_PROVIDER=" + secret), "SIGSTORE_TOKEN_PROVIDER"},
		{nil, env("GITSIGN_TOKEN_PROVIDER=" + secret), "GITSIGN_TOKEN_PROVIDER"},
		{z("gitsign.tokenFile"), nil, "gitsign.tokenFile"},
		{z("gitsign.clientSecretFile"), nil, "gitsign.clientSecretFile"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.git, tt.env)
		var e *Error
		if !errors.As(err, &e) || e.Key != tt.key {
			t.Errorf("Parse(%q) error = %v; want *Error for %s", tt.git, err, tt.key)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(e.Value, secret) {
			t.Errorf("error for %s leaks the value: %q (Value %q)", tt.key, msg, e.Value)
		}
		if e.Value != "<redacted>" && !e.noValue {
			t.Errorf("error for %s: Value = %q; want <redacted>", tt.key, e.Value)
		}
	}
	_, err := Parse(nil, env("GITSIGN_TOKEN_PROVIDER=nope"))
	if want := "invalid value <redacted> for GITSIGN_TOKEN_PROVIDER: must be empty (automatic) or one of "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v; want prefix %q", err, want)
	}

	// An Error built by hand is redacted too.
	for _, key := range []string{"SIGSTORE_ID_TOKEN", "gitsign.clientSecret", "my_secret_file"} {
		msg := (&Error{Key: key, Value: secret, Reason: "bad"}).Error()
		if want := "invalid value <redacted> for " + key + ": bad"; msg != want {
			t.Errorf("Error() = %q; want %q", msg, want)
		}
	}
	if msg := (&Error{Key: "gitsign.fulcio", Value: "x", Reason: "bad"}).Error(); msg != `invalid value "x" for gitsign.fulcio: bad` {
		t.Errorf("non-sensitive key redacted: %q", msg)
	}
}
