package cli

// This file is the one way gitsign shows an error, in the style of age:
//
//	gitsign: error: <what went wrong, one line>
//	gitsign: hint: <what the person can do about it, one line>
//
// with zero or more hints. Library packages return typed errors and hold
// no command-line wording; hints.go maps those types to hints naming the
// flags, git config keys and environment variables that matter. Text from
// outside (servers, certificates, git) is escaped by package printable on
// every line.

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/internal/suggest"
)

// exitError carries a process exit code, and hints for the person,
// through cobra.
type exitError struct {
	code  int
	err   error
	hints []string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// hint adds a hint line and returns e.
func (e *exitError) hint(format string, args ...any) *exitError {
	e.hints = append(e.hints, fmt.Sprintf(format, args...))
	return e
}

// usageError marks a mistake in the command line (exit 2), reported before
// any work is done.
func usageError(format string, args ...any) *exitError {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// errReported means the error was already shown to the person.
var errReported = errors.New("reported")

// report shows err the one way (see the top of this file) on w and
// returns the exit code: the exitError's, else 1.
func report(w io.Writer, err error) int {
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == errReported {
			return code
		}
	}
	fmt.Fprintf(w, "gitsign: error: %s\n", printable.String(errorLine(err)))
	for _, h := range hintsOf(err) {
		fmt.Fprintf(w, "gitsign: hint: %s\n", printable.String(h))
	}
	return code
}

// errorLine is what err's line says: a request that failed (an
// *httpx.Failure, which names the service and the URL) says it alone,
// without the layers of context around it that repeat the URL.
func errorLine(err error) string {
	var f *httpx.Failure
	if errors.As(err, &f) {
		return f.Error()
	}
	return err.Error()
}

// hintsOf returns the hints for err: those attached along its chain, then
// those for the typed errors it wraps (hints.go), each once.
func hintsOf(err error) []string {
	var out []string
	add := func(hs ...string) {
		for _, h := range hs {
			if h != "" && !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	for e := err; e != nil; {
		if ee, ok := e.(*exitError); ok {
			add(ee.hints...)
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	add(knownHints(err)...)
	return out
}

// notHere are the reference implementation's commands gitsign does not
// have, and why.
var notHere = map[string]string{
	"debug": "sigstore/gitsign's hidden debug command (debug token: an identity token's claims) is not in gitsign; " +
		"gitsign doctor checks the issuer, and GITSIGN_LOG shows whose token signed",
}

// unknownCommand is a word where cmd expects one of its subcommands.
func unknownCommand(cmd *cobra.Command, word string) *exitError {
	var e *exitError
	if cmd.HasParent() {
		e = usageError("unknown command %s for %s", printable.Quote(word), printable.Quote(cmd.CommandPath()))
	} else {
		e = usageError("unknown command %s", printable.Quote(word))
	}
	if why, ok := notHere[word]; ok && !cmd.HasParent() {
		return e.hint("%s", why)
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	best := ""
	for _, s := range cmd.SuggestionsFor(word) {
		if best == "" || suggest.Distance(word, s) < suggest.Distance(word, best) {
			best = s
		}
	}
	if best != "" {
		e.hint("did you mean %s?", printable.Quote(best))
	}
	return e
}

// flagError turns pflag's complaints (an unknown flag, a flag without its
// value, a value that does not parse) into usage errors, with a guess at
// the flag meant when one is close.
func flagError(cmd *cobra.Command, err error) error {
	e := &exitError{code: 2, err: err}
	var invalid *pflag.InvalidValueError
	if errors.As(err, &invalid) {
		// Not pflag's words, which end in strconv's ("strconv.ParseInt:
		// parsing "abc": invalid syntax").
		f := invalid.GetFlag()
		e.err = fmt.Errorf("--%s takes %s, not %s", f.Name, flagValueKind(f), printable.Quote(invalid.GetValue()))
	}
	var unknown interface{ GetSpecifiedName() string }
	if errors.As(err, &unknown) && strings.HasPrefix(err.Error(), "unknown flag") {
		if s := closestFlag(cmd, unknown.GetSpecifiedName()); s != "" {
			e.hint("did you mean %s?", printable.Quote("--"+s))
		}
	}
	return e
}

// flagValueKind says what a flag's value must be.
func flagValueKind(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "int", "int64", "uint", "uint64":
		if f.Name == "status-fd" {
			return "a file descriptor number"
		}
		return "a whole number"
	case "bool":
		return "true or false"
	case "duration":
		return "a duration (e.g. 30s)"
	}
	return "a " + f.Value.Type()
}

// closestFlag returns the long flag of cmd nearest to name (at most 2
// edits away, or name starts it), or "".
func closestFlag(cmd *cobra.Command, name string) string {
	best, bestDist := "", 3
	seen := map[string]bool{}
	try := func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		d := suggest.Distance(name, f.Name)
		if len(name) >= 3 && strings.HasPrefix(f.Name, name) {
			d = min(d, 1)
		}
		if d < bestDist || d == bestDist && f.Name < best {
			best, bestDist = f.Name, d
		}
	}
	cmd.Flags().VisitAll(try)
	cmd.InheritedFlags().VisitAll(try)
	return best
}

// prepare gives every command of root the same manners: wrong words and
// argument counts are usage errors (exit 2) with a hint, and `gitsign help
// TOPIC` refuses an unknown topic instead of printing help and exiting 0.
// It runs after the whole tree is built.
func prepare(root *cobra.Command) {
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				return unknownCommand(target, rest[0])
			}
			return target.Help()
		},
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Args = checkedArgs(c.Args)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// checkedArgs wraps a command's argument check so that every complaint is
// a usage error (exit 2). A command with subcommands whose check has no
// words of its own for the mistake (or no check) calls a stray word an
// unknown command, with a guess; a complaint in cobra's words gets a hint
// naming how to call the command. A nil check otherwise accepts any
// arguments, as cobra does.
func checkedArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		var err error
		if check != nil {
			err = check(cmd, args)
		}
		var ee *exitError
		switch {
		case err != nil && errors.As(err, &ee):
			return err
		case cmd.HasAvailableSubCommands() && cmd.HasParent() && len(args) > 0 && (check == nil || err != nil):
			return unknownCommand(cmd, args[0])
		case err != nil:
			return usageError("%v", err).hint("usage: %s", cmd.UseLine())
		}
		return nil
	}
}

// quoteAll shows words a person typed, each quoted as printable.Quote
// does, separated by spaces.
func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = printable.Quote(w)
	}
	return strings.Join(q, " ")
}
