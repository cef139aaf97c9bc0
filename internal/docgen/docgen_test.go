package docgen

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/gitsign-dev/gitsign/internal/cli"
)

var date = time.Date(2026, time.November, 29, 12, 0, 0, 0, time.UTC)

// pages lists the man page every available command should get.
func pages(c *cobra.Command) []string {
	out := []string{strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
			out = append(out, pages(sub)...)
		}
	}
	return out
}

func TestManPageForEveryCommand(t *testing.T) {
	dir := t.TempDir()
	if err := Man(dir, date, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	want := []string{AllowedSignersName}
	for _, root := range Commands() {
		want = append(want, pages(root)...)
	}
	for _, must := range []string{"gitsign.1", "gitsign-verify.1", "gitsign-verify-tag.1", "gitsign-initialize.1",
		"gitsign-cache.1", "gitsign-cache-status.1", "gitsign-version.1", "gitsign-completion.1",
		"gitsign-completion-bash.1", "gitsign-credential-cache.1"} {
		if !slices.Contains(want, must) {
			t.Errorf("no command for %s", must)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("pages %v; want %v", got, want)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "gitsign.1"))
	if !bytes.Contains(page, []byte(`.TH "GITSIGN" "1" "Nov 2026" "gitsign v1.2.3" "gitsign manual"`)) {
		t.Errorf("gitsign.1 header:\n%.300s", page)
	}
	if bytes.Contains(page, []byte("Auto generated")) {
		t.Error("gitsign.1 carries cobra's generation stamp")
	}

	// The same tree, the same pages.
	again := t.TempDir()
	if err := Man(again, date, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	for _, name := range got {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(again, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// plain approximates the text of a roff page: requests dropped, font and
// character escapes undone, whitespace collapsed.
func plain(roff string) string {
	var b strings.Builder
	for line := range strings.Lines(roff) {
		if strings.HasPrefix(line, ".") {
			if _, rest, ok := strings.Cut(strings.TrimSpace(line), " "); ok && (strings.HasPrefix(line, ".B ") || strings.HasPrefix(line, ".I ")) {
				b.WriteString(rest + " ")
			}
			continue
		}
		b.WriteString(line + " ")
	}
	s := b.String()
	s = regexp.MustCompile(`\\f(\[[A-Z]*\]|\(..|.)`).ReplaceAllString(s, "")
	s = strings.NewReplacer(`\-`, "-", `\(aq`, "'", `\(dq`, `"`, `\(ga`, "`", `\(ti`, "~", `\(ha`, "^", `\e`, `\`, `\&`, "", `\(rs`, `\`, `\ `, " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// TestVerifyPageMatchesHelp: every flag `gitsign verify --help` lists is in
// gitsign-verify.1, with the same words.
func TestVerifyPageMatchesHelp(t *testing.T) {
	dir := t.TempDir()
	if err := Man(dir, date, ""); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "gitsign-verify.1"))
	if err != nil {
		t.Fatal(err)
	}
	text := plain(string(page))

	root := cli.NewRootCommand()
	var help bytes.Buffer
	root.SetOut(&help)
	root.SetArgs([]string{"verify", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	_, flags, ok := strings.Cut(help.String(), "\nFlags:\n")
	if !ok {
		t.Fatalf("no flags in verify --help:\n%s", help.String())
	}
	flagLine := regexp.MustCompile(`^\s+(?:-\w, )?--([\w-]+)(?: \w+)?\s{2,}(.*?)(?: \(default .*\))?$`)
	n := 0
	for line := range strings.Lines(flags) {
		line = strings.TrimRight(line, "\n")
		if strings.TrimSpace(line) == "" {
			break
		}
		m := flagLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("cannot read the help line %q", line)
			continue
		}
		n++
		for _, want := range []string{"--" + m[1], strings.Join(strings.Fields(m[2]), " ")} {
			if !strings.Contains(text, want) {
				t.Errorf("gitsign-verify.1 lacks %q (from %q)", want, line)
			}
		}
	}
	if n < 3 {
		t.Errorf("only %d flags read from verify --help:\n%s", n, flags)
	}
	if verify, _, err := root.Find([]string{"verify"}); err != nil || !strings.Contains(text, strings.Join(strings.Fields(verify.Short), " ")) {
		t.Errorf("gitsign-verify.1 lacks the short description: %v\n%s", err, text)
	}
}

// TestHelpTextSurvivesMarkdown: help text written for a terminal comes out
// of the man page as written, not as Markdown markup.
func TestHelpTextSurvivesMarkdown(t *testing.T) {
	in := "Set gitsign.* keys or GITSIGN_TOKEN_FILE and SIGSTORE_* variables; a <b> & [x](y) `z` | w ~~v~~.\n" +
		"1. not a list\n# not a heading\n- not an item\n\nRun:\n  git config --add gitsign.x '*_y_*'\n  gitsign verify HEAD\nThen done."
	c := &cobra.Command{Use: "probe", Short: "a *probe*", Long: in}
	prepare(c)
	var buf bytes.Buffer
	if err := doc.GenMan(c, &doc.GenManHeader{Date: &date}, &buf); err != nil {
		t.Fatal(err)
	}
	text := plain(buf.String())
	for _, want := range []string{
		"Set gitsign.* keys or GITSIGN_TOKEN_FILE and SIGSTORE_* variables; a <b> & [x](y) `z` | w ~~v~~.",
		"1. not a list # not a heading - not an item",
		"git config --add gitsign.x '*_y_*' gitsign verify HEAD",
		"a *probe*",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(buf.String(), "\n.EX\ngit config --add gitsign.x '*_y_*'\ngitsign verify HEAD\n.EE\n") {
		t.Errorf("the indented commands are not kept as lines:\n%s", buf.String())
	}
}

func TestDate(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	ctx := context.Background()
	if d, err := Date(ctx, env("SOURCE_DATE_EPOCH", "1764374400"), t.TempDir()); err != nil || !d.Equal(time.Unix(1764374400, 0)) {
		t.Errorf("SOURCE_DATE_EPOCH: %v, %v", d, err)
	}
	if _, err := Date(ctx, env("SOURCE_DATE_EPOCH", "yesterday"), t.TempDir()); err == nil {
		t.Error("a malformed SOURCE_DATE_EPOCH is accepted")
	}
	if d, err := Date(ctx, env(), t.TempDir()); err != nil || !d.Equal(FixedDate) {
		t.Errorf("outside git: %v, %v", d, err)
	}
	repo := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_COMMITTER_DATE=@1700000000 +0000", "GIT_AUTHOR_DATE=@1700000000 +0000")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v %s", args, err, out)
		}
	}
	git("init", "-q")
	git("-c", "user.name=a", "-c", "user.email=a@x", "commit", "-q", "--allow-empty", "-m", "x")
	if d, err := Date(ctx, env(), repo); err != nil || !d.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("last commit: %v, %v", d, err)
	}
}

func TestCompletions(t *testing.T) {
	dir := t.TempDir()
	if err := Completions(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gitsign", "gitsign-credential-cache"} {
		for _, sh := range Shells {
			b, err := os.ReadFile(filepath.Join(dir, name+"."+sh.Suffix))
			if err != nil || !bytes.Contains(b, []byte(name)) {
				t.Errorf("%s.%s: %v, %d bytes", name, sh.Suffix, err, len(b))
			}
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	out, err := exec.Command("bash", "-c", `source "$1" && complete -p gitsign`, "bash", filepath.Join(dir, "gitsign.bash")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "gitsign") {
		t.Errorf("bash: %v %s", err, out)
	}
}
