package docgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/config"
)

// TestConfigMarkdownUpToDate: the committed docs/configuration.md is what
// the settings table gives now.
func TestConfigMarkdownUpToDate(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join("..", "..", ConfigMarkdownPath))
	if err != nil {
		t.Fatalf("%v (make docs writes it)", err)
	}
	if string(committed) != ConfigMarkdown() {
		t.Errorf("%s is stale: run make docs (go run ./hack/gendocs -config-md %s) and commit it",
			ConfigMarkdownPath, ConfigMarkdownPath)
	}
}

// TestConfigMarkdownListsEverySetting: every key and variable has its
// row, with its default.
func TestConfigMarkdownListsEverySetting(t *testing.T) {
	md := ConfigMarkdown()
	rows := make(map[string]string)
	header := ""
	for line := range strings.Lines(md) {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		if strings.HasSuffix(line, " | meaning |\n") {
			header = line
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) != len(strings.Split(header, " | ")) {
			t.Errorf("row with %d cells under %q: %s", len(cells), header, line)
		}
		rows[cells[0]+" | "+cells[1]] = line
	}
	docs := config.Documented()
	if len(rows) != len(docs) {
		t.Errorf("%d rows for %d settings", len(rows), len(docs))
	}
	for _, d := range docs {
		found := false
		for k, line := range rows {
			if (d.Key == "" || strings.Contains(k, "`"+d.Key+"`")) && strings.Contains(k, strings.Join(quoteAll(d.Env), ", ")) {
				found = true
				if d.Default != "" && !strings.Contains(line, "`"+d.Default+"`") {
					t.Errorf("%s: row lacks the default %q: %s", d.Name(), d.Default, line)
				}
			}
		}
		if !found {
			t.Errorf("no row for %s", d.Name())
		}
	}
}

func quoteAll(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, "`"+v+"`")
	}
	return out
}

// manPages writes the man pages to a new directory and returns it.
func manPages(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := Man(dir, date, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sections returns the titles of a page's sections, in order.
func sections(page string) []string {
	var out []string
	for line := range strings.Lines(page) {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), ".SH "); ok {
			out = append(out, strings.Trim(t, `"`))
		}
	}
	return out
}

// hasSections reports whether page has want, in that order, with SEE
// ALSO last.
func hasSections(t *testing.T, name, page string, want ...string) {
	t.Helper()
	got := sections(page)
	i := 0
	for _, s := range got {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("%s: sections %q; want %q in that order", name, got, want)
	}
	if len(got) == 0 || got[len(got)-1] != "SEE ALSO" {
		t.Errorf("%s: sections %q do not end with SEE ALSO", name, got)
	}
}

// TestGitsignPageListsEverySetting: gitsign(1) documents every git config
// key and every variable, with its default, the exit codes and the files.
func TestGitsignPageListsEverySetting(t *testing.T) {
	dir := manPages(t)
	b, err := os.ReadFile(filepath.Join(dir, "gitsign.1"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	hasSections(t, "gitsign.1", page, "NAME", "SYNOPSIS", "DESCRIPTION", "CONFIGURATION", "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO")
	section := func(title string) string {
		_, rest, _ := strings.Cut(page, ".SH \""+title+"\"\n")
		rest, _, _ = strings.Cut(rest, "\n.SH ")
		return plain(rest)
	}
	configuration, environment, files := section("CONFIGURATION"), section("ENVIRONMENT"), section("FILES")
	for _, d := range config.Documented() {
		if d.Key != "" && !strings.Contains(configuration, d.Key+" ("+d.Kind+") "+d.Text) {
			t.Errorf("CONFIGURATION lacks %s and its text", d.Key)
		}
		if d.Key != "" && d.Default != "" && !strings.Contains(configuration, "Default: "+d.Default) {
			t.Errorf("CONFIGURATION lacks the default of %s", d.Key)
		}
		for _, v := range d.Env {
			if !strings.Contains(environment, v) || d.Key != "" && !strings.Contains(configuration, v) {
				t.Errorf("%s (%s) is not in ENVIRONMENT and CONFIGURATION", v, d.Name())
			}
		}
		if d.Key == "" && !strings.Contains(environment, d.Text) {
			t.Errorf("ENVIRONMENT lacks the text of %s", d.Name())
		}
	}
	for _, f := range []string{"~/.sigstore/tuf", "~/.cache/gitsign/cache.sock", ".gitsigners", "GITSIGN_LOG", "service gitsign"} {
		if !strings.Contains(files, f) {
			t.Errorf("FILES lacks %s", f)
		}
	}
	status := section("EXIT STATUS")
	for _, code := range []string{"0 Success.", "1 Failure", "2 A mistake in the command line"} {
		if !strings.Contains(status, code) {
			t.Errorf("EXIT STATUS lacks %q: %s", code, status)
		}
	}
	_, see, _ := strings.Cut(page, "\n.SH SEE ALSO\n")
	if see = plain(see); !strings.Contains(see, "gitsign-allowed-signers(5)") || !strings.Contains(see, "gitsign-verify(1)") {
		t.Errorf("SEE ALSO: %s", see)
	}
}

// TestSubcommandSections: every page given extra sections exists and has
// them, so that a renamed command cannot lose them unnoticed.
func TestSubcommandSections(t *testing.T) {
	dir := manPages(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%v", err)
		}
		return string(b)
	}
	for name, codes := range exitStatus {
		page := read(name + ".1")
		hasSections(t, name, page, "EXIT STATUS")
		text := plain(page)
		for _, c := range codes {
			if !strings.Contains(text, c[0]+" "+c[1]) {
				t.Errorf("%s: EXIT STATUS lacks %q", name, c[0]+" "+c[1])
			}
		}
	}
	for name, refs := range seeAlso {
		_, see, _ := strings.Cut(read(name+".1"), "\n.SH SEE ALSO\n")
		see = plain(see)
		for _, ref := range refs {
			if !strings.Contains(see, ref) {
				t.Errorf("%s: SEE ALSO lacks %s: %s", name, ref, see)
			}
		}
	}
	if text := plain(read("gitsign-verify.1")); !strings.Contains(text, "nothing to verify") {
		t.Error("gitsign-verify.1 does not say an empty range exits 1")
	}
	agent := read("gitsign-credential-cache.1")
	hasSections(t, "gitsign-credential-cache.1", agent, "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "SECURITY")
	for _, want := range []string{"GITSIGN_CREDENTIAL_CACHE", "LISTEN_FDS", "--systemd-socket-activation", "~/.cache/gitsign/cache.sock", "SO_PEERCRED", "gitsign-credential-cache.socket"} {
		if !strings.Contains(plain(agent), want) {
			t.Errorf("gitsign-credential-cache.1 lacks %s", want)
		}
	}
}

// TestAllowedSignersPage: the format page states the bounds and options
// the parser enforces, and its example is a file the parser accepts.
func TestAllowedSignersPage(t *testing.T) {
	dir := manPages(t)
	b, err := os.ReadFile(filepath.Join(dir, AllowedSignersName))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.HasPrefix(page, ".nh\n.TH \"GITSIGN-ALLOWED-SIGNERS\" \"5\" \"Nov 2026\" \"gitsign v1.2.3\" \"gitsign manual\"\n") {
		t.Errorf("header:\n%.200s", page)
	}
	hasSections(t, AllowedSignersName, page, "NAME", "SYNOPSIS", "DESCRIPTION", "FORMAT", "PATTERNS", "OPTIONS", "LIMITS", "ERRORS", "WHERE IT IS READ", "EXAMPLES")
	text := plain(page)
	for _, want := range []string{
		"at most 1 MiB and 10,000 lines",
		"at most 1,024 bytes", "at most 16 wildcards", "at most 256 such patterns, together at most 16 KiB",
		"from 1970 through 2099",
		"valid-after=", "valid-before=", "objects=commit",
		"REV:PATH", "HEAD:.gitsigners", "gitsign.allowedSignersFile", "--allowed-signers",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q", AllowedSignersName, want)
		}
	}
	for _, c := range allowedsigners.ClaimOptions {
		if !strings.Contains(text, c.Name) {
			t.Errorf("%s lacks the claim option %s", AllowedSignersName, c.Name)
		}
	}
	example := strings.Join(allowedSignersExample, "\n") + "\n"
	f, err := allowedsigners.Parse([]byte(example), "example")
	if err != nil {
		t.Fatalf("the page's example does not parse: %v", err)
	}
	if len(f.Rules) != 4 {
		t.Errorf("the example has %d rules, want 4", len(f.Rules))
	}
	// The example is on the page as written.
	if !strings.Contains(page, ".EX\n"+strings.ReplaceAll(strings.ReplaceAll(example, `\`, `\e`), "-", `\-`)+".EE\n") {
		t.Errorf("the example is not on the page verbatim")
	}
}

// TestPagesRender: groff formats every page without a warning, when it is
// installed (groff-base; hack/install-test-deps installs it).
func TestPagesRender(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("no groff")
	}
	dir := manPages(t)
	pages, _ := filepath.Glob(filepath.Join(dir, "*.[0-9]"))
	if len(pages) < 10 {
		t.Fatalf("only %d pages", len(pages))
	}
	for _, p := range pages {
		out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", p).CombinedOutput()
		if err != nil || len(out) != 0 {
			t.Errorf("%s: %v\n%s", filepath.Base(p), err, out)
		}
	}
}

// TestEscapeRoff: text cannot start a request or carry an escape.
func TestEscapeRoff(t *testing.T) {
	for in, want := range map[string]string{
		".gitsigners is read":    `\&.gitsigners is read`,
		"'quoted' start":         `\&'quoted' start`,
		`a \fB b`:                `a \efB b`,
		"--socket  and\n  more":  `\-\-socket and more`,
		"gitsign.cache=keyring.": "gitsign.cache=keyring.",
	} {
		if got := escapeRoff(in); got != want {
			t.Errorf("escapeRoff(%q) = %q, want %q", in, got, want)
		}
	}
}
