package docgen

import (
	"fmt"
	"strings"
	"time"
)

// roff builds man page text from plain text: every string given to it is
// escaped, so that help and doc texts need no markup of their own.
type roff struct{ b strings.Builder }

// escapeRoff escapes plain text for a roff text line: backslashes and
// hyphens (so that options copy as typed), and a leading '.' or '\”
// that would start a request. Runs of whitespace become one space.
func escapeRoff(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// bold and italic escape s and set it in that font.
func bold(s string) string   { return `\fB` + escapeRoff(s) + `\fR` }
func italic(s string) string { return `\fI` + escapeRoff(s) + `\fR` }

// header starts a page as cobra/doc does for section 1, so that every
// page has the same header.
func (r *roff) header(title, section string, date time.Time, source string) {
	fmt.Fprintf(&r.b, ".nh\n.TH %q %q %q %q %q\n.nh\n", strings.ToUpper(title), section, date.Format("Jan 2006"), source, "gitsign manual")
}

// section starts a section.
func (r *roff) section(title string) { fmt.Fprintf(&r.b, "\n.SH %q\n", title) }

// para writes a paragraph of plain text.
func (r *roff) para(text string) { r.b.WriteString(".PP\n" + escapeRoff(text) + "\n") }

// paraRaw writes a paragraph already in roff (from bold, italic and
// escapeRoff).
func (r *roff) paraRaw(text string) { r.b.WriteString(".PP\n" + text + "\n") }

// item writes a tagged paragraph: tag, already in roff, then the
// paragraphs of plain text indented under it.
func (r *roff) item(tag string, paras ...string) {
	r.b.WriteString(".TP\n" + tag + "\n")
	for i, p := range paras {
		if i > 0 {
			r.b.WriteString(".IP\n")
		}
		r.b.WriteString(escapeRoff(p) + "\n")
	}
}

// facts ends the current paragraph with lines of plain text, one below
// the other.
func (r *roff) facts(lines ...string) {
	if len(lines) == 0 {
		return
	}
	r.b.WriteString(".IP\n")
	for i, l := range lines {
		if i > 0 {
			r.b.WriteString(".br\n")
		}
		r.b.WriteString(escapeRoff(l) + "\n")
	}
}

// example writes lines verbatim, as an example block.
func (r *roff) example(lines ...string) {
	r.b.WriteString(".PP\n.RS 4\n.EX\n")
	for _, l := range lines {
		l = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(l)
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		r.b.WriteString(l + "\n")
	}
	r.b.WriteString(".EE\n.RE\n")
}

func (r *roff) String() string { return r.b.String() }
