package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/config"
)

// gpgOptions are the gpgsm-compatible flags git passes.
type gpgOptions struct {
	sign, detach, armor, verify, version bool
	localUser                            string
	statusFD, includeCerts               int
}

func (o *gpgOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&o.sign, "sign", "s", false, "make a signature")
	f.BoolVarP(&o.detach, "detach-sign", "b", false, "make a detached signature (what git asks for)")
	// The reference's older name. Not cobra's MarkDeprecated: its notice
	// goes to standard output, where git reads the signature.
	f.BoolVar(&o.detach, "detached-sign", false, "same as --detach-sign (deprecated)")
	_ = f.MarkHidden("detached-sign")
	f.BoolVarP(&o.armor, "armor", "a", false, "write the signature PEM-armored (else DER)")
	f.StringVarP(&o.localUser, "local-user", "u", "", "key to sign with (accepted for git; the identity comes from the OIDC login)")
	f.BoolVarP(&o.verify, "verify", "v", false, "verify a signature: --verify SIGFILE [DATAFILE|-]")
	f.IntVar(&o.statusFD, "status-fd", -1, "write GnuPG status lines to this file descriptor")
	f.IntVar(&o.includeCerts, "include-certs", -2, "accepted for gpgsm compatibility; only the signing certificate is included")
	f.BoolVar(&o.version, "version", false, "print gitsign's version and build facts (gitsign version adds the settings)")
}

// testOnlyParsed, when set by a test, receives the parsed flags and
// arguments instead of running the command.
var testOnlyParsed func(o gpgOptions, args []string)

func (o *gpgOptions) run(cmd *cobra.Command, args []string, s streams) error {
	if err := o.check(cmd, args); err != nil {
		return err
	}
	if testOnlyParsed != nil {
		testOnlyParsed(*o, args)
		return nil
	}
	if cmd.Flags().Changed("detached-sign") {
		fmt.Fprintln(s.err, "gitsign: warning: --detached-sign is deprecated: use --detach-sign")
	}
	switch {
	case o.version:
		return printVersion(cmd.Context(), s.out, false, false)
	case o.verify && (o.sign || o.detach):
		return usageError("--verify cannot be combined with --sign or --detach-sign")
	case o.verify:
		return o.runVerify(cmd, args, s)
	case o.sign || o.detach:
		if len(args) > 1 {
			return usageError("sign takes at most one file (the payload), got %d arguments", len(args))
		}
		return o.runSign(cmd, args, s)
	}
	return cmd.Help()
}

// check refuses a command line that names no mode: a word where a
// subcommand belongs is an unknown command (git's own calls always carry
// --sign/-s, --detach-sign/-b or --verify before any file), and flags
// without a mode do nothing. Only a bare "gitsign" prints the help.
func (o *gpgOptions) check(cmd *cobra.Command, args []string) error {
	mode := o.sign || o.detach || o.verify || o.version
	switch {
	case !mode && len(args) > 0:
		return unknownCommand(cmd, args[0])
	case !mode && cmd.Flags().NFlag() > 0:
		return usageError("nothing to do: give --sign (-s) or --detach-sign (-b) to sign, --verify to verify, or a command").
			hint("see gitsign --help")
	case o.version && len(args) > 0:
		return usageError("--version takes no arguments, got %s", quoteAll(args))
	}
	return nil
}

// signalContext is cancelled on SIGINT/SIGTERM so a login can be aborted.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func loadConfig(ctx context.Context) (*config.Config, error) {
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return cfg, nil
}

// readPayload reads the data to sign from the named file or standard input.
func readPayload(args []string, in io.Reader) ([]byte, error) {
	if len(args) == 1 && args[0] != "-" {
		b, err := os.ReadFile(args[0])
		if err != nil {
			return nil, fmt.Errorf("reading the payload: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(in, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("reading the payload from standard input: %w", err)
	}
	if len(b) > maxPayload {
		return nil, fmt.Errorf("payload is larger than %d bytes", maxPayload)
	}
	return b, nil
}

// maxPayload bounds what gitsign reads to sign; git objects that large are
// not commits or tags anyone writes by hand.
const maxPayload = 64 << 20
