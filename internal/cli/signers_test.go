package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/verify"
)

// TestIsRevPath: the rule that tells REV:PATH from a path depends only on
// the value.
func TestIsRevPath(t *testing.T) {
	for v, want := range map[string]bool{
		"origin/main:.gitsigners":   true,
		"main:.gitsigners":          true,
		"HEAD~1:sub/.gitsigners":    true,
		"v1.0:a:b":                  true,
		"sub/a:b":                   true,
		".gitsigners":               false,
		"sub/.gitsigners":           false,
		"./origin/main:.gitsigners": false,
		"../a:b":                    false,
		"/etc/a:b":                  false,
		":.gitsigners":              false,
		":0:.gitsigners":            false,
	} {
		if got := isRevPath(v); got != want {
			t.Errorf("isRevPath(%q) = %v", v, got)
		}
	}
}

// TestReadAllowedSigners: a file from the top of the work tree (from a
// subdirectory too), the same file in a revision, and the refusals.
func TestReadAllowedSigners(t *testing.T) {
	dir := hermeticRepo(t, gitobj.SHA1)
	ctx := context.Background()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".gitsigners", "# committed\nalice@example.com https://accounts.google.com\n")
	write("sub/dir/keep", "")
	runGit(t, "add", ".gitsigners", "sub")
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "signers")
	write(".gitsigners", "# edited, not committed\nalice@example.com https://accounts.google.com\nmallory@example.com https://accounts.google.com\n")

	origins := func(value string) string {
		t.Helper()
		f, err := readAllowedSigners(ctx, value)
		if err != nil {
			t.Fatalf("%s: %v", value, err)
		}
		var out []string
		for _, r := range f.Rules {
			out = append(out, r.Origin+" "+r.Identity)
		}
		return strings.Join(out, "; ")
	}
	if got := origins(".gitsigners"); got != ".gitsigners:2 alice@example.com; .gitsigners:3 mallory@example.com" {
		t.Errorf("the working file: %s", got)
	}
	if got := origins("main:.gitsigners"); got != "main:.gitsigners:2 alice@example.com" {
		t.Errorf("the committed file: %s", got)
	}
	if got := origins(filepath.Join(dir, ".gitsigners")); !strings.HasSuffix(got, ".gitsigners:3 mallory@example.com") {
		t.Errorf("an absolute path: %s", got)
	}
	t.Chdir(filepath.Join(dir, "sub", "dir"))
	if got := origins(".gitsigners"); got != ".gitsigners:2 alice@example.com; .gitsigners:3 mallory@example.com" {
		t.Errorf("from a subdirectory: %s", got)
	}
	if got := origins("HEAD:.gitsigners"); got != "HEAD:.gitsigners:2 alice@example.com" {
		t.Errorf("REV:PATH from a subdirectory: %s", got)
	}
	t.Chdir(dir)

	write("a:b", "bob@example.com https://accounts.google.com\n")
	if got := origins("./a:b"); got != "./a:b:1 bob@example.com" {
		t.Errorf("a path with a colon: %s", got)
	}
	write("big", "alice@example.com https://accounts.google.com\n"+strings.Repeat("#", allowedsigners.MaxSize))
	runGit(t, "add", "big")
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "big")

	pwned := filepath.Join(dir, "pwned")
	for value, want := range map[string]string{
		"main:nope":                      "allowed signers main:nope: git knows no such file",
		"nobranch:.gitsigners":           "allowed signers nobranch:.gitsigners: git knows no such file",
		"a:b":                            "allowed signers a:b: git knows no such file",
		"main:sub":                       "allowed signers main:sub: a tree, not a file",
		"main:big":                       "allowed signers main:big: larger than 1048576 bytes",
		"big":                            "allowed signers big: larger than 1048576 bytes",
		"missing":                        "allowed signers missing: open " + filepath.Join(dir, "missing") + ": no such file or directory",
		"--output=" + pwned + ":x":       "git knows no such file",
		"--output=" + pwned + "..HEAD:x": "git knows no such file",
	} {
		_, err := readAllowedSigners(ctx, value)
		var se *signersError
		if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), want) && !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want %q", value, err, want)
		}
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("a value became a git option")
	}
	write("bad", "alice@example.com\n")
	var pe *allowedsigners.ParseError
	if _, err := readAllowedSigners(ctx, "bad"); !errors.As(err, &pe) || err.Error() != "bad:1: missing the issuer: a rule is IDENTITY ISSUER [OPTIONS]" {
		t.Errorf("a malformed file: %v", err)
	}
}

// TestVerifyFlagsPolicy: which policy gitsign verify uses, and how the
// claim flags join it.
func TestVerifyFlagsPolicy(t *testing.T) {
	dir := hermeticRepo(t, gitobj.SHA1)
	if err := os.WriteFile(filepath.Join(dir, ".gitsigners"), []byte("a@x https://i\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfgIDs := &config.Config{CertificateIdentity: []string{"c@x"}, CertificateOIDCIssuer: []string{"https://c"}}
	cfgFile := &config.Config{AllowedSignersFile: ".gitsigners"}
	flags := func(args ...string) *verifyFlags {
		t.Helper()
		f := &verifyFlags{}
		cmd := &cobra.Command{Use: "verify"}
		f.register(cmd)
		if err := cmd.Flags().Parse(args); err != nil {
			t.Fatal(err)
		}
		return f
	}
	repo := "--certificate-github-workflow-repository"
	for _, tc := range []struct {
		name string
		args []string
		cfg  *config.Config
		want verify.Policy
	}{
		{"flags with claims", []string{"--certificate-identity", "f@x", "--certificate-oidc-issuer", "https://f", repo, "acme/app", "--certificate-github-workflow-ref", "refs/heads/main"}, cfgIDs,
			verify.Policy{Identities: []string{"f@x"}, Issuers: []string{"https://f"}, Claims: certificate.Extensions{GithubWorkflowRepository: "acme/app", GithubWorkflowRef: "refs/heads/main"}}},
		{"config rules with claim flags", []string{repo, "acme/app", "--certificate-github-workflow-trigger", "push", "--certificate-github-workflow-sha", "abc", "--certificate-github-workflow-name", "release"}, cfgIDs,
			verify.Policy{Identities: []string{"c@x"}, Issuers: []string{"https://c"}, Claims: certificate.Extensions{GithubWorkflowRepository: "acme/app", GithubWorkflowTrigger: "push", GithubWorkflowSHA: "abc", GithubWorkflowName: "release"}}},
		{"config rules", nil, cfgIDs, verify.Policy{Identities: []string{"c@x"}, Issuers: []string{"https://c"}}},
		{"config file", nil, cfgFile, verify.Policy{Rules: []verify.Rule{{Identity: "a@x", Issuer: "https://i", Origin: ".gitsigners:1"}}}},
		{"flags over the config file", []string{"--certificate-identity", "f@x", "--certificate-oidc-issuer", "https://f"}, cfgFile, verify.Policy{Identities: []string{"f@x"}, Issuers: []string{"https://f"}}},
		{"--allowed-signers over config rules", []string{"--allowed-signers", ".gitsigners"}, cfgIDs, verify.Policy{Rules: []verify.Rule{{Identity: "a@x", Issuer: "https://i", Origin: ".gitsigners:1"}}}},
	} {
		got, file, err := flags(tc.args...).policy(ctx, tc.cfg)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
		if (file != nil) != (len(tc.want.Rules) > 0) || file != nil && !reflect.DeepEqual(file.Rules, tc.want.Rules) {
			t.Errorf("%s: the file is %+v", tc.name, file)
		}
	}
	_, _, err := flags(repo, "acme/app").policy(ctx, cfgFile)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || err.Error() != "--certificate-github-workflow-repository cannot be combined with gitsign.allowedSignersFile: give the claim as an option of the file's lines (github-workflow-repository=VALUE)" {
		t.Errorf("claim flags with the config file: %v", err)
	}
	_, _, err = flags().policy(ctx, &config.Config{AllowedSignersFile: ".gitsigners", CertificateOIDCIssuerRegexp: []string{"x"}})
	if !errors.Is(err, errConfigPolicyConflict) {
		t.Errorf("config file and config rules: %v", err)
	}
}
