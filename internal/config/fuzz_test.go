package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/gitsign"
)

// joinEntries is the inverse of splitEntries: it encodes entries the way
// `git config -z --list` prints them.
func joinEntries(entries []entry) []byte {
	var b []byte
	for _, e := range entries {
		b = append(b, e.key...)
		if !e.bare {
			b = append(b, '\n')
			b = append(b, e.value...)
		}
		b = append(b, 0)
	}
	return b
}

// fuzzSeeds are real `git config -z --list` outputs and edge cases.
var fuzzSeeds = []string{
	"",
	// git 2.39 in a fresh repository after `git config gitsign.rekorMode online`.
	"core.repositoryformatversion\n0\x00core.filemode\ntrue\x00core.bare\nfalse\x00" +
		"core.logallrefupdates\ntrue\x00gitsign.rekormode\nonline\x00",
	// A multi-line value, a bare key and an empty value, as git lists them.
	"gitsign.certificateidentity\na\nb\x00gitsign.matchcommitter\x00gitsign.rekor\n\x00",
	"user.name\nAlice\x00user.email\nalice@example.com\x00gitsign.fulcio\nhttps://fulcio.example\x00" +
		"gitsign.rekorversion\n2\x00gitsign.timeout\n1m\x00gitsign.autoclosetimeout\n3\x00",
	"gitsign.certificateoidcissuer\nhttps://accounts.google.com\x00gitsign.certificateoidcissuer\nhttps://github.com/login/oauth\x00",
	"GITSIGN.TOKENPROVIDER\nsecret-token\x00",
	"gitsign.rekorversion\n3\x00",
	"gitsign.timeout\n601\x00",
	"gitsign.autoclose\nmaybe\x00",
	"gitsign.fulcio\x00",
	"\x00\x00gitsign.issuer\nhttps://i\x00\x00",
	"gitsign.logpath\n/tmp/log", // no final NUL
	"\ngitsign.rekormode\nonline\x00",
}

// FuzzParse checks that the -z splitter and Parse agree with themselves:
// re-encoding the split entries gives back the same entries and the same
// Config (or the same error); every error is an *Error with the value
// redacted for token and secret keys; and every Config returned is valid.
func FuzzParse(f *testing.F) {
	if len(fuzzSeeds) == 0 {
		f.Fatal("no seeds")
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	lookup := env("SIGSTORE_OIDC_ISSUER=https://issuer.example")
	f.Fuzz(func(t *testing.T, data []byte) {
		entries := splitEntries(data)
		for _, e := range entries {
			if strings.ContainsAny(e.key, "\n\x00") || strings.Contains(e.value, "\x00") {
				t.Fatalf("splitEntries(%q): bad entry %+v", data, e)
			}
			if e.key == "" && e.bare {
				t.Fatalf("splitEntries(%q): empty bare entry", data)
			}
		}
		enc := joinEntries(entries)
		if again := splitEntries(enc); !reflect.DeepEqual(again, entries) {
			t.Fatalf("split(join(split(%q))) = %+v; want %+v", data, again, entries)
		}

		// The unknown keys are gitsign's, read by no setting, each once,
		// and a suggestion is always a key some setting reads.
		seen := map[string]bool{}
		for _, u := range UnknownKeys(data) {
			k := lowerASCII(u.Key)
			if !strings.HasPrefix(k, "gitsign.") || seen[k] || settingByKey[k] != nil || multiByKey[k] != nil {
				t.Fatalf("UnknownKeys(%q) lists %q", data, u.Key)
			}
			seen[k] = true
			if s := lowerASCII(u.Suggestion); s != "" && settingByKey[s] == nil && multiByKey[s] == nil {
				t.Fatalf("UnknownKeys(%q) suggests %q for %q, which no setting reads", data, u.Suggestion, u.Key)
			}
		}

		c1, err1 := Parse(data, lookup)
		c2, err2 := Parse(enc, lookup)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Parse(%q) error %v, but re-encoded %q gives %v", data, err1, enc, err2)
		}
		if err1 != nil {
			var e1, e2 *Error
			if !errors.As(err1, &e1) || !errors.As(err2, &e2) {
				t.Fatalf("errors are not *Error: %T %v, %T %v", err1, err1, err2, err2)
			}
			if *e1 != *e2 {
				t.Fatalf("Parse(%q) = %+v; re-encoded gives %+v", data, e1, e2)
			}
			if c1 != nil {
				t.Fatalf("Parse(%q) returned a Config with an error", data)
			}
			if sensitive(e1.Key) && !e1.noValue && e1.Value != redacted {
				t.Fatalf("error for %s not redacted: %+v", e1.Key, e1)
			}
			return
		}
		if !reflect.DeepEqual(c1, c2) {
			t.Fatalf("Parse(%q) = %+v; re-encoded gives %+v", data, c1, c2)
		}
		checkValid(t, c1)
	})
}

// checkValid fails if c holds a value Parse should have rejected.
func checkValid(t *testing.T, c *Config) {
	t.Helper()
	if c.RekorMode != gitsign.Offline && c.RekorMode != gitsign.Online {
		t.Fatalf("RekorMode = %v", c.RekorMode)
	}
	if c.RekorVersion != 1 && c.RekorVersion != 2 {
		t.Fatalf("RekorVersion = %d", c.RekorVersion)
	}
	if c.AutocloseTimeout <= 0 {
		t.Fatalf("AutocloseTimeout = %d", c.AutocloseTimeout)
	}
	if c.Timeout <= 0 || c.Timeout > maxTimeout {
		t.Fatalf("Timeout = %v", c.Timeout)
	}
	if c.TokenProvider != "" && !slices.Contains(tokenProviders, c.TokenProvider) {
		t.Fatalf("TokenProvider = %q", c.TokenProvider)
	}
	if c.Issuer != "https://issuer.example" {
		t.Fatalf("Issuer = %q; the environment must win over git config", c.Issuer)
	}
}
