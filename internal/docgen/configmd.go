package docgen

import (
	"strings"

	"github.com/gitsign-dev/gitsign/internal/config"
)

// ConfigMarkdownPath is where the configuration reference is committed,
// from the top of the source tree.
const ConfigMarkdownPath = "docs/configuration.md"

// ConfigMarkdown returns the configuration reference, docs/configuration.md:
// the precedence, then one table row per setting from internal/config's
// table, the one Parse reads.
func ConfigMarkdown() string {
	var b strings.Builder
	b.WriteString("# Configuration\n\n")
	b.WriteString("<!-- Generated from internal/config by `make docs` (go run ./hack/gendocs -config-md " +
		ConfigMarkdownPath + "): edit the settings' docs there, not this file. -->\n\n")
	b.WriteString(escapeMarkdown(Precedence) + "\n\n")
	b.WriteString("The same reference is in the CONFIGURATION and ENVIRONMENT sections of `man gitsign`; " +
		"`gitsign version` shows the value each setting has where it runs, and where it came from.\n\n")
	b.WriteString("| git config | environment | value | default | meaning |\n|---|---|---|---|---|\n")
	for _, d := range config.Documented() {
		if d.Key == "" {
			continue
		}
		row(&b, d)
	}
	b.WriteString("\n## Set only by the environment\n\n")
	b.WriteString("These have no git config key.\n\n")
	b.WriteString("| environment | value | default | meaning |\n|---|---|---|---|\n")
	for _, d := range config.Documented() {
		if d.Key == "" {
			row(&b, d)
		}
	}
	return b.String()
}

// row writes one setting as a table row; one without a git config key
// has no cell for it.
func row(b *strings.Builder, d config.Doc) {
	key := ""
	if d.Key != "" {
		key = code(d.Key)
		if d.Multi {
			key += " (multi-valued)"
		}
	}
	var env []string
	for _, v := range d.Env {
		env = append(env, code(v))
	}
	def := ""
	if d.Default != "" {
		def = code(d.Default)
	}
	if d.DefaultNote != "" {
		if def != "" {
			def += " "
		}
		note := escapeMarkdown(d.DefaultNote)
		if d.Default != "" {
			note = "(" + note + ")"
		}
		def += note
	}
	cells := []string{strings.Join(env, ", "), escapeMarkdown(d.Kind), def, escapeMarkdown(d.Text)}
	if d.Key != "" {
		cells = append([]string{key}, cells...)
	}
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// code is s as inline code, which a table cell may hold as long as s has
// no backquote or '|' (the tests check the docs have none).
func code(s string) string { return "`" + s + "`" }
