package docgen

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// cobra/doc reads a command's Long text as Markdown, but gitsign's help
// texts are written for a terminal: "gitsign.*" or GITSIGN_X would turn
// into emphasis, and indented command lines would be run together into a
// paragraph. markdown and escapeMarkdown rewrite them so that the man page
// says what --help says.

// markdown turns a help text into Markdown: runs of lines indented by at
// least two spaces (examples, commands) become code blocks kept verbatim;
// everything else is escaped text, its paragraphs as in the original.
func markdown(text string) string {
	var b strings.Builder
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); {
		if !indented(lines[i]) {
			b.WriteString(escapeMarkdown(lines[i]) + "\n")
			i++
			continue
		}
		b.WriteString("\n```\n")
		for ; i < len(lines) && indented(lines[i]); i++ {
			b.WriteString(strings.TrimPrefix(lines[i], "  ") + "\n")
		}
		b.WriteString("```\n\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func indented(line string) bool {
	return strings.TrimSpace(line) != "" && (strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "\t"))
}

// escapeMarkdown escapes what Markdown would read as markup in one line
// of plain text: emphasis, code, links, HTML, entities and tables
// anywhere, and headings, lists, block quotes and definitions at the
// start of the line.
func escapeMarkdown(line string) string {
	var b strings.Builder
	for i, r := range line {
		switch {
		case strings.ContainsRune("\\`*_[]<>|~&", r):
			b.WriteByte('\\')
		case i == 0 && strings.ContainsRune("#+-:=", r):
			b.WriteByte('\\')
		case r == '.' && i > 0 && strings.Trim(line[:i], "0123456789") == "":
			b.WriteByte('\\') // "1." would start a numbered list
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapeFlags rewrites the usage of every flag in the tree under c once:
// Markdown escaped, and without the backquotes that name a flag's value
// for pflag (`PATH`), which --help does not show either.
func escapeFlags(c *cobra.Command, done map[*pflag.Flag]bool) {
	for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
		fs.VisitAll(func(f *pflag.Flag) {
			if !done[f] {
				done[f] = true
				f.Usage = escapeMarkdown(strings.ReplaceAll(f.Usage, "`", ""))
			}
		})
	}
	for _, sub := range c.Commands() {
		escapeFlags(sub, done)
	}
}
