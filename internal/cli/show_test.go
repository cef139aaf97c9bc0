package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/inspect"
	"github.com/gitsign-dev/gitsign/verify"
)

var updateShow = flag.Bool("update", false, "rewrite the golden files in testdata/show")

// showVectors are the objects gitsign show is checked on: real ones from
// the public instance (testdata/realworld) and ones the local stack signed
// (testdata/show/README.md says how). rev is what the test asks for, ""
// for the object id.
var showVectors = []struct {
	name, file, typ, rev string
}{
	{"realworld", "../../testdata/realworld/commits/200ca8647599a02ce268818bb428eeb686e8d99f.commit", "commit", ""},
	{"online", "../../testdata/realworld/online/023cf429a61e375b1afeca0b685c69b83395ffdb.commit", "commit", ""},
	{"tag", "../../testdata/realworld/tags/v0.17.0.tag", "tag", "v0.17.0"},
	{"workflow", "testdata/show/workflow.commit", "commit", ""},
	{"rekor-v2", "testdata/show/rekor-v2.commit", "commit", ""},
}

// runShowCmd runs gitsign show with args and returns exit code, stdout
// and stderr.
func runShowCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"show"}, args...), streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
	return code, stdout.String(), stderr.String()
}

// TestShowGolden: gitsign show's text and JSON for each vector, loaded
// into a fresh repository byte for byte, are the golden files in
// testdata/show (go test -run TestShowGolden -update rewrites them).
func TestShowGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "show"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, v := range showVectors {
		if files[v.name], err = filepath.Abs(v.file); err != nil {
			t.Fatal(err)
		}
	}
	hermeticRepo(t, gitobj.SHA1)
	for _, v := range showVectors {
		t.Run(v.name, func(t *testing.T) {
			id := runGit(t, "hash-object", "-t", v.typ, "-w", "--literally", files[v.name])
			rev := id
			if v.rev != "" {
				runGit(t, "update-ref", "refs/tags/"+v.rev, id)
				rev = v.rev
			}
			for _, form := range []struct {
				ext  string
				args []string
			}{{"txt", []string{rev}}, {"json", []string{"--json", rev}}} {
				code, out, errs := runShowCmd(form.args...)
				if code != 0 || errs != "" {
					t.Fatalf("gitsign show %s: exit %d\n%s", strings.Join(form.args, " "), code, errs)
				}
				path := filepath.Join(golden, v.name+"."+form.ext)
				if *updateShow {
					if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test -run TestShowGolden -update writes it)", err)
				}
				if out != string(want) {
					t.Errorf("gitsign show %s differs from %s:\n%s", strings.Join(form.args, " "), path, out)
				}
			}
			checkShowJSON(t, id, v.typ, rev)
		})
	}
}

// checkShowJSON: the JSON document names the object, and every suggested
// allowed-signers line reads back, with allowedsigners.Parse, as a rule
// for exactly this identity and issuer (and, on the second line, the
// source repository and ref the certificate names).
func checkShowJSON(t *testing.T, id, typ, rev string) {
	t.Helper()
	_, out, _ := runShowCmd("--json", rev)
	var doc struct {
		Object, Type   string
		AllowedSigners []string
		inspect.Description
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if doc.Object != id || doc.Type != typ || doc.Identity == "" || doc.Issuer == "" {
		t.Errorf("object %s %s, identity %q from %q", doc.Type, doc.Object, doc.Identity, doc.Issuer)
	}
	if len(doc.AllowedSigners) == 0 {
		t.Fatal("no allowed-signers line")
	}
	if doc.AllowedSigners[0] != allowedsigners.Line(doc.Identity, doc.Issuer) {
		t.Errorf("first line %q", doc.AllowedSigners[0])
	}
	var ci map[string]string
	json.Unmarshal(jsonField(t, out, "claims"), &ci)
	wantLines := 1
	if ci["source-repository-uri"] != "" {
		wantLines = 2
	}
	if len(doc.AllowedSigners) != wantLines {
		t.Fatalf("%d allowed-signers lines, want %d: %q", len(doc.AllowedSigners), wantLines, doc.AllowedSigners)
	}
	f, err := allowedsigners.Parse([]byte(strings.Join(doc.AllowedSigners, "\n")+"\n"), "suggested")
	if err != nil || len(f.Rules) != wantLines {
		t.Fatalf("the suggested lines do not parse: %v", err)
	}
	rules := f.Rules
	for i, r := range rules {
		if r.Identity != doc.Identity || r.Issuer != doc.Issuer || r.IdentityRegexp != "" || r.IssuerRegexp != "" {
			t.Errorf("line %d accepts %q/%q from %q/%q", i+1, r.Identity, r.IdentityRegexp, r.Issuer, r.IssuerRegexp)
		}
		if i == 1 && (r.Claims.SourceRepositoryURI != ci["source-repository-uri"] || r.Claims.SourceRepositoryRef != ci["source-repository-ref"] || r.Claims.SourceRepositoryRef == "") {
			t.Errorf("line 2 pins %+v, want the source repository %q at %q", r.Claims, ci["source-repository-uri"], ci["source-repository-ref"])
		}
	}
}

// TestShowSuggestionVerifies: the allowed-signers line gitsign show
// suggests for a real signature is a policy that accepts it, checked by
// the verifier against the public-good trusted root built into gitsign.
func TestShowSuggestionVerifies(t *testing.T) {
	file, err := filepath.Abs(showVectors[0].file)
	if err != nil {
		t.Fatal(err)
	}
	hermeticRepo(t, gitobj.SHA1)
	id := runGit(t, "hash-object", "-t", "commit", "-w", "--literally", file)
	_, out, _ := runShowCmd("--json", id)
	var doc struct{ AllowedSigners []string }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.AllowedSigners) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	f, err := allowedsigners.Parse([]byte(doc.AllowedSigners[0]+"\n"), "suggested")
	if err != nil {
		t.Fatal(err)
	}
	rules := f.Rules
	tm, _, err := verify.LoadTrust(verify.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(tm, verify.Options{Policy: verify.Policy{Rules: rules}})
	if err != nil {
		t.Fatal(err)
	}
	objects, err := gitrepo.ReadObjects(context.Background(), []string{id})
	if err != nil {
		t.Fatal(err)
	}
	payload, sig, err := objects[0].Split()
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.Background(), payload, sig, func() (string, error) { return id, nil })
	if err != nil || !res.PolicyChecked || res.Rule != "suggested:1" {
		t.Fatalf("the suggested line: %+v, %v", res, err)
	}
}

// jsonField returns one top-level field of a JSON object.
func jsonField(t *testing.T, doc, name string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}

// TestShowResolution: a tag name shows the tag, REV^{commit} the commit
// it points at, HEAD by default; a lightweight tag, an unsigned commit, a
// tree and a name git does not know are refused, each with one error line.
func TestShowResolution(t *testing.T) {
	tagFile, err := filepath.Abs("../../testdata/realworld/tags/v0.17.0.tag")
	if err != nil {
		t.Fatal(err)
	}
	commitFile, err := filepath.Abs("testdata/show/workflow.commit")
	if err != nil {
		t.Fatal(err)
	}
	hermeticRepo(t, gitobj.SHA1)
	unsigned := runGit(t, "rev-parse", "HEAD")
	commit := runGit(t, "hash-object", "-t", "commit", "-w", "--literally", commitFile)
	// The real tag names an object this repository lacks, which git
	// does not mind.
	tag := runGit(t, "hash-object", "-t", "tag", "-w", "--literally", tagFile)
	runGit(t, "update-ref", "refs/tags/v0.17.0", tag)
	runGit(t, "tag", "light", commit)
	runGit(t, "update-ref", "refs/heads/main", commit)

	for _, c := range []struct {
		args       []string
		code       int
		out, error string
	}{
		{nil, 0, "object: " + commit + "\ntype: commit\n", ""},
		{[]string{"v0.17.0"}, 0, "object: " + tag + "\ntype: tag\n", ""},
		{[]string{"tags/v0.17.0"}, 0, "object: " + tag + "\ntype: tag\n", ""},
		{[]string{"light^{commit}"}, 0, "object: " + commit + "\ntype: commit\n", ""},
		{[]string{"light"}, 1, "", "gitsign: error: tag light is a lightweight tag: it has no signature of its own\ngitsign: hint: show the commit it names: gitsign show 'light^{commit}'\n"},
		{[]string{unsigned}, 1, "", "gitsign: error: commit " + unsigned + " is not signed\n"},
		{[]string{"HEAD^{tree}"}, 1, "", "gitsign: error: HEAD^{tree} is a tree, not a commit or tag\n"},
		{[]string{"nope"}, 1, "", "gitsign: error: nope is not a commit or tag in this repository\n"},
		{[]string{"--", "--output=x"}, 1, "", "gitsign: error: --output=x is not a commit or tag in this repository\n"},
		{[]string{"a", "b"}, 2, "", "gitsign: error: gitsign show takes at most one revision, got 2 arguments\ngitsign: hint: usage: gitsign show [REVISION] [flags]\n"},
	} {
		code, out, errs := runShowCmd(c.args...)
		if code != c.code || !strings.HasPrefix(out, c.out) || errs != c.error {
			t.Errorf("gitsign show %q: exit %d, stdout %q, stderr %q; want exit %d, stdout starting %q, stderr %q", c.args, code, firstLines(out), errs, c.code, c.out, c.error)
		}
	}
	if _, err := os.Stat("x"); err == nil {
		t.Error("a revision became git's --output option")
	}
}

func firstLines(s string) string {
	lines := strings.SplitAfterN(s, "\n", 3)
	return strings.Join(lines[:min(2, len(lines))], "")
}

// TestShowRefusesForeignSignature: a commit signed with another program
// is not described, with a hint naming what it is.
func TestShowRefusesForeignSignature(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	raw := "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@b> 1 +0000\ncommitter a <a@b> 1 +0000\n" +
		"gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nmsg\n"
	if err := os.WriteFile("pgp.commit", []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	id := runGit(t, "hash-object", "-t", "commit", "-w", "--literally", "pgp.commit")
	code, out, errs := runShowCmd(id)
	want := "gitsign: error: cannot describe the signature of commit " + id + ": signature: an OpenPGP signature, not a gitsign signature (X.509 CMS)\n" +
		"gitsign: hint: it is an OpenPGP signature, not a gitsign signature: git verify-commit checks it with gpg.format set accordingly\n"
	if code != 1 || out != "" || errs != want {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestSuggestionsQuoting: claim values with commas, blanks, quotes and
// backslashes are quoted so that the line reads back as exactly those
// values; a value no line can hold gets no pinned line, and an identity
// none can hold no line at all.
func TestSuggestionsQuoting(t *testing.T) {
	d := &inspect.Description{
		Signer: inspect.Signer{Identity: "https://ci.example.test/a b@refs/*", Issuer: "https://issuer.example.test"},
		Claims: inspect.Claims{
			{Name: "source-repository-uri", Value: `https://example.test/a, b "c" \d`},
			{Name: "source-repository-ref", Value: "refs/heads/main"},
		},
	}
	lines := suggestions(d)
	want := `"https://ci.example.test/a b@refs/\\*" https://issuer.example.test source-repository-uri="https://example.test/a, b \"c\" \\d",source-repository-ref=refs/heads/main`
	if len(lines) != 2 || lines[1] != want {
		t.Fatalf("got %q\nwant second line %s", lines, want)
	}
	f, err := allowedsigners.Parse([]byte(strings.Join(lines, "\n")), "suggested")
	if err != nil || len(f.Rules) != 2 {
		t.Fatalf("%v", err)
	}
	r := f.Rules[1]
	if r.Identity != d.Identity || r.Issuer != d.Issuer || r.Claims.SourceRepositoryURI != d.Claims[0].Value || r.Claims.SourceRepositoryRef != "refs/heads/main" {
		t.Errorf("read back as %+v", r)
	}

	d.Claims[1].Value = "refs/heads/\x1b[31m"
	if lines := suggestions(d); len(lines) != 1 {
		t.Errorf("a control character pinned: %q", lines)
	}
	d.Identity = "alice\u202e@example.test"
	if lines := suggestions(d); len(lines) != 0 {
		t.Errorf("an identity with a bidirectional control suggested: %q", lines)
	}
}

// TestShowEscapes: text from the certificate cannot reach the terminal
// raw or start a line of its own.
func TestShowEscapes(t *testing.T) {
	d := &inspect.Description{
		Signer: inspect.Signer{Identity: "alice\x1b[2J\n@example.test", IdentityType: inspect.Email, Issuer: "https://issuer\u202e.example.test"},
		Claims: inspect.Claims{{Name: "1.3.6.1.4.1.57264.1.99", Value: "x\ry"}}, Mode: inspect.Online,
	}
	var b bytes.Buffer
	if err := writeShown(&b, shown{Object: "abc", Type: "commit", Description: d, AllowedSigners: suggestions(d)}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"identity: alice\\x1b[2J\\x0a@example.test\n", "issuer: https://issuer\\u202e.example.test\n", "1.3.6.1.4.1.57264.1.99: x\\x0dy\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\r\u202e") || strings.Count(out, "\n") != 12 || strings.Contains(out, "allowed-signers") {
		t.Errorf("unescaped text, a line too many, or a suggestion:\n%s", out)
	}
}
