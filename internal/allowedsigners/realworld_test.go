package allowedsigners

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/verify"
)

// The real-world vectors (testdata/realworld) are signed by
// billy@chainguard.dev with a Google account and verified offline with
// the built-in public-good root. These tests write allowed-signers files
// and verify the vectors through them.

const realworld = "../../testdata/realworld"

// signed is a real signed object.
type signed struct{ payload, sig []byte }

func realVector(t testing.TB, path, typ string) signed {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	payload, sig, err := gitobj.Split(typ, raw)
	if err != nil {
		t.Fatal(err)
	}
	return signed{payload, sig}
}

func realCommit(t testing.TB) signed {
	return realVector(t, filepath.Join(realworld, "commits", "200ca8647599a02ce268818bb428eeb686e8d99f.commit"), "commit")
}

func realTag(t testing.TB) signed {
	return realVector(t, filepath.Join(realworld, "tags", "v0.17.0.tag"), "tag")
}

// verifyWith parses file and verifies s against it with the built-in root.
func verifyWith(t *testing.T, file string, s signed) (*verify.Result, error) {
	t.Helper()
	f, err := Parse([]byte(file), ".gitsigners")
	if err != nil {
		t.Fatalf("parsing %q: %v", file, err)
	}
	rules := f.Rules
	tm, src, err := verify.LoadTrust(verify.TrustOptions{}) // no TUF cache: the built-in root
	if err != nil || !strings.Contains(src, "built into gitsign") {
		t.Fatalf("trust: %v (%s)", err, src)
	}
	v, err := verify.New(tm, verify.Options{Policy: verify.Policy{Rules: rules}})
	if err != nil {
		t.Fatal(err)
	}
	return v.Verify(context.Background(), s.payload, s.sig, func() (string, error) { return "", errors.New("not needed") })
}

// accepted fails unless file accepts s by the rule on line origin.
func accepted(t *testing.T, file string, s signed, origin string) *verify.Result {
	t.Helper()
	res, err := verifyWith(t, file, s)
	if err != nil {
		t.Errorf("%q refused: %v", file, err)
		return nil
	}
	if !res.PolicyChecked || res.Rule != origin {
		t.Errorf("%q accepted by %q, want %q", file, res.Rule, origin)
	}
	return res
}

// refused fails unless file refuses s as not from whom it allows, with
// want in the error.
func refused(t *testing.T, file string, s signed, want string) {
	t.Helper()
	_, err := verifyWith(t, file, s)
	var ve *verify.Error
	if !errors.As(err, &ve) || ve.Kind != verify.Mismatch || !strings.Contains(err.Error(), want) {
		t.Errorf("%q: %v, want a mismatch saying %q", file, err, want)
	}
}

// TestRealWorldPatterns: exact lines, wildcards over whole values, and
// pairs: a person is accepted only from their own line's issuer.
func TestRealWorldPatterns(t *testing.T) {
	c := realCommit(t)
	accepted(t, "billy@chainguard.dev https://accounts.google.com\n", c, ".gitsigners:1")
	accepted(t, "# people\nalice@example.com https://accounts.google.com\n*@chainguard.dev https://accounts.google.com\n", c, ".gitsigners:3")
	accepted(t, "bill?@chainguard.dev https://accounts.google.co?", c, ".gitsigners:1")
	accepted(t, `"billy@chainguard.dev" https://*.google.com`, c, ".gitsigners:1")
	accepted(t, "* https://accounts.google.com", c, ".gitsigners:1")
	for _, file := range []string{
		"*@chainguard.de https://accounts.google.com",        // a prefix of the value is not the value
		"billy@chainguard https://accounts.google.com",       // nor is an exact prefix
		"billy@chainguard.dev* https://accounts.google.com/", // nor a longer issuer
		"?billy@chainguard.dev https://accounts.google.com",
		`billy\*chainguard.dev https://accounts.google.com`, // an escaped star is a star
		"billy@chainguard.dev https://accounts.google.com.evil",
	} {
		refused(t, file, c, "not accepted by")
	}
	// Two people, two issuers: the pairs, never the crossed combinations.
	crossed := "alice@example.com https://accounts.google.com\nbilly@chainguard.dev https://token.actions.githubusercontent.com\n"
	refused(t, crossed, c, "not accepted by")
	accepted(t, crossed+"billy@chainguard.dev https://accounts.google.com\n", c, ".gitsigners:3")
}

// TestRealWorldWindows: valid-after and valid-before are judged at the
// time the log proves, on both sides of each bound, to the second and to
// the day.
func TestRealWorldWindows(t *testing.T) {
	c := realCommit(t)
	res := accepted(t, "billy@chainguard.dev https://accounts.google.com", c, ".gitsigners:1")
	if res == nil {
		t.FailNow()
	}
	logged := res.Time.UTC()
	if logged.Nanosecond() != 0 {
		t.Fatalf("logged time %v has a fraction of a second", logged)
	}
	at := func(t time.Time) string { return t.Format("20060102150405") }
	day := func(t time.Time) string { return t.Format("20060102") }
	minute := func(t time.Time) string { return t.Format("200601021504") }
	line := func(opts string) string { return "billy@chainguard.dev https://accounts.google.com " + opts }
	sec := time.Second
	for _, opts := range []string{
		"valid-after=" + at(logged),
		"valid-before=" + at(logged.Add(sec)),
		"valid-after=" + at(logged.Add(-sec)) + ",valid-before=" + at(logged.Add(sec)),
		"valid-after=" + day(logged),
		"valid-before=" + day(logged.AddDate(0, 0, 1)),
		"valid-after=" + minute(logged),
		`valid-after="` + at(logged) + `"`,
	} {
		accepted(t, line(opts), c, ".gitsigners:1")
	}
	for _, opts := range []string{
		"valid-after=" + at(logged.Add(sec)),
		"valid-before=" + at(logged),
		"valid-before=" + day(logged),
		"valid-after=" + day(logged.AddDate(0, 0, 1)),
		"valid-after=" + at(logged.AddDate(-2, 0, 0)) + ",valid-before=" + at(logged.AddDate(-1, 0, 0)),
	} {
		refused(t, line(opts), c, "outside the validity window of the rules that name it (.gitsigners:1)")
	}
	// A later line with an open window still accepts, and says so.
	accepted(t, line("valid-before="+at(logged))+"\n"+line("valid-after="+at(logged)), c, ".gitsigners:2")
}

// TestRealWorldObjects: objects= limits a line to commits or tags.
func TestRealWorldObjects(t *testing.T) {
	c, tag := realCommit(t), realTag(t)
	line := "billy@chainguard.dev https://accounts.google.com objects="
	refused(t, line+"tag", c, "no rule of the identity policy covers commit objects")
	accepted(t, line+"tag", tag, ".gitsigners:1")
	refused(t, line+"commit", tag, "no rule of the identity policy covers tag objects")
	accepted(t, line+"commit", c, ".gitsigners:1")
	accepted(t, line+`"commit,tag"`, c, ".gitsigners:1")
	accepted(t, line+`"tag,commit"`, tag, ".gitsigners:1")
	accepted(t, line+"tag\nbilly@chainguard.dev https://accounts.google.com objects=commit", c, ".gitsigners:2")
}

// TestRealWorldClaims: a claim the certificate does not carry refuses it
// (a person's certificate carries no CI claims), for every claim option.
func TestRealWorldClaims(t *testing.T) {
	c := realCommit(t)
	for _, o := range ClaimOptions {
		refused(t, "billy@chainguard.dev https://accounts.google.com "+o.Name+"=x", c, "not accepted by")
	}
	refused(t, "billy@chainguard.dev https://accounts.google.com objects=commit,source-repository-uri=https://github.com/sigstore/gitsign", c, "not accepted by")
}
