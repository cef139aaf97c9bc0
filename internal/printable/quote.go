package printable

// Quote returns s between double quotes, escaped as String escapes it:
// the way gitsign shows a value a person typed (a flag's value, a
// setting, a revision, a rule) in a message. Unlike Go's strconv.Quote it
// leaves quotes, backslashes and printable Unicode in s as they are, so
// the value reads as it was typed; only what String escapes is escaped.
func Quote(s string) string {
	return `"` + String(s) + `"`
}
