package config

import (
	"reflect"
	"strings"
	"testing"
)

// gitZ renders key/value pairs as `git config -z --list` does; a value of
// "\x00bare" stands for a key listed without a value.
func gitZ(kv ...string) []byte {
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		b.WriteString(kv[i])
		if kv[i+1] != "\x00bare" {
			b.WriteString("\n" + kv[i+1])
		}
		b.WriteByte(0)
	}
	return []byte(b.String())
}

func TestSuggestKey(t *testing.T) {
	for key, want := range map[string]string{
		// git lists keys lowered; any case means the same key.
		"gitsign.allowedsignerfile": "gitsign.allowedSignersFile",
		"gitsign.allowedSignerFile": "gitsign.allowedSignersFile",
		// The environment variable's style: GITSIGN_FULCIO_URL.
		"gitsign.fulcioURL":        "gitsign.fulcio",
		"gitsign.fulcio-url":       "gitsign.fulcio",
		"gitsign.oidcIssuer":       "gitsign.issuer",
		"gitsign.oidcClientId":     "gitsign.clientID",
		"gitsign.rekorurl":         "gitsign.rekor",
		"gitsign.trustedroots":     "gitsign.trustedRoot",
		"gitsign.timestampServer":  "gitsign.timestampServerURL",
		"gitsign.receive.exmpt":    "gitsign.receive.exempt",
		"gitsign.certificateIdent": "gitsign.certificateIdentity",
		"gitsign.x":                "",
		"gitsign.colour":           "",
		"gitsign.somethingElse":    "",
		"user.name":                "", // not gitsign's section
	} {
		if got := SuggestKey(key); got != want {
			t.Errorf("SuggestKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestSuggestVariable(t *testing.T) {
	for name, want := range map[string]string{
		"GITSIGN_FULCIO":          "GITSIGN_FULCIO_URL",
		"GITSIGN_REKOR_URI":       "GITSIGN_REKOR_URL",
		"SIGSTORE_IDTOKEN":        "SIGSTORE_ID_TOKEN",
		"GITSIGN_LOCAL_TSA_CHAIN": "",
	} {
		if got := SuggestVariable(name); got != want {
			t.Errorf("SuggestVariable(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestUnknownKeys: only gitsign.* keys that nothing reads, each once, in
// git's order; known keys in any case, multi-valued keys, the key gitsign
// accepts and ignores, and other sections are not listed.
func TestUnknownKeys(t *testing.T) {
	z := gitZ(
		"core.editor", "vi",
		"gpg.fulcioURL", "x", // another section's business
		"gitsign.fulcio", "https://fulcio.example",
		"gitsign.allowedsignerfile", ".gitsigners",
		"gitsign.CertificateIdentity", "a@example.com",
		"gitsign.enablesigstorego", "true",
		"gitsign.fulciourl", "https://typo.example",
		"gitsign.allowedsignerfile", "again",
		"gitsign.bogus", "\x00bare",
	)
	got := UnknownKeys(z)
	want := []UnknownKey{
		{Key: "gitsign.allowedsignerfile", Suggestion: "gitsign.allowedSignersFile"},
		{Key: "gitsign.fulciourl", Suggestion: "gitsign.fulcio"},
		{Key: "gitsign.bogus"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnknownKeys = %+v\nwant %+v", got, want)
	}
	if got := UnknownKeys(gitZ("gitsign.fulcio", "x", "user.email", "a@b")); got != nil {
		t.Errorf("UnknownKeys of known keys = %+v, want none", got)
	}
	if p := want[0].Problem(); p != "not a gitsign setting: ignored; did you mean gitsign.allowedSignersFile?" {
		t.Errorf("Problem = %q", p)
	}
	if p := want[2].Problem(); p != "not a gitsign setting: ignored" {
		t.Errorf("Problem = %q", p)
	}
}

// TestDescribeUnknownKey: gitsign version lists an unknown key with its
// guess, and never its value, which might be a misspelt secret.
func TestDescribeUnknownKey(t *testing.T) {
	ss := DescribeFrom(gitZ("gitsign.clientsecret", "hunter2", "gitsign.allowedsignerfile", "x"), nil)
	s := one(t, ss, "gitsign.clientsecret")
	if s.Value != Hidden || s.Origin != OriginGitConfig || s.Problem != "not a gitsign setting: ignored" {
		t.Errorf("unknown key described as %+v", s)
	}
	s = one(t, ss, "gitsign.allowedsignerfile")
	if !strings.HasSuffix(s.Problem, "did you mean gitsign.allowedSignersFile?") {
		t.Errorf("unknown key described as %+v", s)
	}
	for _, s := range ss {
		if strings.Contains(s.Value, "hunter2") {
			t.Errorf("a value of an unknown key is shown: %+v", s)
		}
	}
}

// TestProblems: invalid values first, then unknown keys, then unknown
// variables, with their guesses; a variable accepted and ignored on
// purpose is no problem, and nothing set is none either.
func TestProblems(t *testing.T) {
	if p := Problems(nil, nil); len(p) != 0 {
		t.Fatalf("Problems of nothing = %+v", p)
	}
	z := gitZ("gitsign.fulciourl", "x", "gitsign.rekorVersion", "3")
	env := []string{"GITSIGN_FULCIO=y", "GITSIGN_ENABLE_SIGSTORE_GO=1", "GITSIGN_TIMEOUT=forever", "HOME=/h"}
	got := Problems(z, env)
	want := []Problem{
		{Kind: Invalid, Name: "gitsign.rekorVersion", Message: `invalid value "3" for gitsign.rekorVersion: must be 1 or 2`},
		{Kind: Invalid, Name: "GITSIGN_TIMEOUT", Message: `invalid value "forever" for GITSIGN_TIMEOUT: must be a duration such as "30s" or "1m", or whole seconds`},
		{Kind: UnknownGitKey, Name: "gitsign.fulciourl", Message: "not a gitsign setting: ignored", Suggestion: "gitsign.fulcio"},
		{Kind: UnknownVariable, Name: "GITSIGN_FULCIO", Message: "not a gitsign setting: ignored", Suggestion: "GITSIGN_FULCIO_URL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Problems =\n%+v\nwant\n%+v", got, want)
	}
}

func TestGitValue(t *testing.T) {
	z := gitZ("gpg.format", "openpgp", "commit.gpgsign", "\x00bare", "GPG.Format", "x509", "tag.gpgsign", "Off")
	if v, bare, found := GitValue(z, "gpg.FORMAT"); v != "x509" || bare || !found {
		t.Errorf("GitValue(gpg.format) = %q, %v, %v; want the last entry, x509", v, bare, found)
	}
	if _, _, found := GitValue(z, "gpg.x509.program"); found {
		t.Error("GitValue found a key that is not listed")
	}
	for _, c := range []struct {
		key      string
		want, ok bool
	}{{"commit.gpgsign", true, true}, {"tag.gpgsign", false, true}} {
		v, bare, _ := GitValue(z, c.key)
		if b, ok := GitBool(v, bare); b != c.want || ok != c.ok {
			t.Errorf("GitBool of %s = %v, %v; want %v, %v", c.key, b, ok, c.want, c.ok)
		}
	}
	if _, ok := GitBool("maybe", false); ok {
		t.Error(`GitBool("maybe") is ok`)
	}
}
