// Package cli is gitsign's command line: the gpgsm-compatible interface git
// uses (gitsign --status-fd=2 -bsau KEY to sign) and gitsign's own
// subcommands.
package cli

import (
	"io"
	"os"

	"github.com/spf13/cobra"
)

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
	prepare(root) // errors.go: the same manners for every command
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		return report(s.err, err) // errors.go: gitsign: error: ... and hints
	}
	return 0
}

func newRoot(s streams) *cobra.Command {
	o := &gpgOptions{}
	root := &cobra.Command{
		Use:   "gitsign",
		Short: "Keyless git commit and tag signing with Sigstore",
		Long: `gitsign signs git commits and tags keylessly with Sigstore.

Set it up once for your account (gitsign doctor then checks the setup):
  gitsign setup      # gpg.format, gpg.x509.program, commit.gpgsign and
                     # tag.gpgsign in git config, and the credential cache

git then runs it as: gitsign --status-fd=2 -bsau <key>  (payload on stdin,
signature on stdout). Each signature gets an OIDC login (browser, device or
an ambient token), an ephemeral key, a Fulcio certificate, an entry in the
Rekor transparency log embedded in the signature (GITSIGN_REKOR_MODE=offline,
the default) and, when GITSIGN_TIMESTAMP_SERVER_URL is set, an RFC 3161
timestamp. With gitsign-credential-cache running, one login serves every
signature until the certificate nears its end.

git verifies through the same program (gitsign --status-fd=1 --verify SIG -):
git verify-commit, git verify-tag and git log --show-signature check the
signature offline and, when a policy is set (gitsign.allowedSignersFile, or
gitsign.certificateIdentity and gitsign.certificateOIDCIssuer), who signed.
gitsign verify and gitsign verify-tag do the same for revisions, ranges and
tags; gitsign show describes a signature, to write a policy from.`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args, s)
		},
	}
	root.SetFlagErrorFunc(flagError)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetIn(s.in)
	o.register(root)
	root.AddCommand(newVersionCommand(s), newVerifyCommand(s), newVerifyTagCommand(s), newInitializeCommand(s))
	root.AddCommand(newShowCommand(s), newPreReceiveCommand(s))
	root.AddCommand(newAttestCommand(s), newVerifyAttestationCommand(s))
	root.AddCommand(newCacheCommand(s))
	root.AddCommand(newDoctorCommand(s))
	root.AddCommand(newSetupCommand(s))
	root.AddCommand(newCompletionCommand(s)) // completion.go, in place of cobra's default
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}
