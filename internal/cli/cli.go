// Package cli is gitsign's command line: the gpgsm-compatible interface git
// uses (gitsign --status-fd=2 -bsau KEY to sign) and gitsign's own
// subcommands.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = ""

// version returns the build's version.
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks a mistake in the command line (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// streams are the process's standard streams (tests swap them).
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Main runs gitsign with args and returns the exit code.
func Main(args []string) int {
	return run(args, streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
}

func run(args []string, s streams) int {
	root := newRoot(s)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != errReported {
			fmt.Fprintf(s.err, "gitsign: error: %s\n", printable.String(ee.err.Error()))
		}
		return ee.code
	}
	fmt.Fprintf(s.err, "gitsign: error: %s\n", printable.String(err.Error()))
	return 1
}

// errReported means the error was already shown to the person.
var errReported = errors.New("reported")

func newRoot(s streams) *cobra.Command {
	o := &gpgOptions{}
	root := &cobra.Command{
		Use:   "gitsign",
		Short: "Keyless git commit and tag signing with Sigstore",
		Long: `gitsign signs git commits and tags keylessly with Sigstore.

Set it up in a repository (or with --global):
  git config gpg.x509.program gitsign
  git config gpg.format x509
  git config commit.gpgsign true     # and tag.gpgsign true

git then runs it as: gitsign --status-fd=2 -bsau <key>  (payload on stdin,
signature on stdout). Each signature gets an OIDC login (browser, device or
an ambient token), an ephemeral key, a Fulcio certificate, an entry in the
Rekor transparency log embedded in the signature (GITSIGN_REKOR_MODE=offline,
the default) and, when GITSIGN_TIMESTAMP_SERVER_URL is set, an RFC 3161
timestamp. With gitsign-credential-cache running, one login serves every
signature until the certificate nears its end.

git verifies through the same program (gitsign --status-fd=1 --verify SIG -):
git verify-commit, git verify-tag and git log --show-signature check the
signature offline and, when gitsign.certificateIdentity and
gitsign.certificateOIDCIssuer are set, who signed. gitsign verify and
gitsign verify-tag do the same for revisions, ranges and tags.`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args, s)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetIn(s.in)
	o.register(root)
	root.AddCommand(newVersionCommand(s), newVerifyCommand(s), newVerifyTagCommand(s), newInitializeCommand(s))
	root.AddCommand(newCacheCommand(s))
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}

func newVersionCommand(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print gitsign's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintf(s.out, "gitsign version %s\n", version())
		},
	}
}
