package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/internal/setup"
)

// newSetupCommand is `gitsign setup`: from installed to signing in one
// command (package setup does the work).
func newSetupCommand(s streams) *cobra.Command {
	var global, local, noAgent, dryRun, undo bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Make git sign every commit and tag with gitsign, and start the credential cache agent",
		Long: `Set git up to sign with this gitsign, in the global git config (--global, the
default) or the current repository's (--local):

  gpg.format=x509  gpg.x509.program=<this gitsign's absolute path>
  commit.gpgsign=true  tag.gpgsign=true

and start the credential cache agent (gitsign-credential-cache, next to gitsign
or in PATH), so that one login serves the signatures of the next minutes: with
systemd user units where a systemd user manager runs (~/.config/systemd/user,
or the Linux packages' own units), with a launchd agent on macOS
(~/Library/LaunchAgents); elsewhere it says how to start it.

Each change is printed. Running it again changes only what is not as it would
make it. What it changed, and the values it replaced, are recorded in
gitsign/setup.json in the user's config directory: --undo restores those
values, stops and removes what it started and wrote, and leaves alone anything
changed since. --dry-run prints the changes and makes none.`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if global && local {
				return usageError("--global and --local cannot be combined")
			}
			ctx := cmd.Context()
			scope := setup.GlobalScope()
			if local {
				var err error
				if scope, err = setup.LocalScope(ctx); err != nil {
					if errors.Is(err, gitrepo.ErrNotRepository) {
						return (&exitError{code: 2, err: fmt.Errorf("--local: %w", err)}).
							hint("or leave out --local to set gitsign up for every repository (the global git config)")
					}
					return err
				}
			}
			program, err := setup.ProgramPath()
			if err != nil {
				return fmt.Errorf("finding this gitsign's path: %w", err)
			}
			statePath, err := setup.DefaultStatePath()
			if err != nil {
				return err
			}
			o := setup.Options{
				Scope: scope, Program: program, Agent: setup.FindAgent(program),
				NoAgent: noAgent, DryRun: dryRun, StatePath: statePath,
				Out: s.out, Warn: setupWarner(s.err),
			}
			if undo {
				n, err := setup.Undo(ctx, o)
				if err != nil {
					return err
				}
				summarize(s.out, n, dryRun, "nothing to undo: gitsign setup changed nothing in "+scope.Name+" that is still as it set it")
				return nil
			}
			if !noAgent {
				cfg, err := loadConfig(ctx)
				if err != nil {
					return err
				}
				o.Socket, o.CacheMode = cfg.CredentialCache, cfg.Cache
			}
			n, err := setup.Run(ctx, o)
			if err != nil {
				return err
			}
			summarize(s.out, n, dryRun, "gitsign is already set up in "+scope.Name+": nothing changed")
			if !dryRun {
				fmt.Fprint(s.out, nextSteps)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&global, "global", false, "change the global git config (the default)")
	f.BoolVar(&local, "local", false, "change the current repository's git config instead of the global one")
	f.BoolVar(&noAgent, "no-agent", false, "leave the credential cache agent alone: neither start nor, with --undo, stop it")
	f.BoolVar(&dryRun, "dry-run", false, "print what would change, and change nothing")
	f.BoolVar(&undo, "undo", false, "revert what gitsign setup changed (in the global git config, or with --local this repository's)")
	return cmd
}

// summarize ends the list of changes: none (unchanged says so), or in a
// dry run, that none was made.
func summarize(w io.Writer, n int, dryRun bool, unchanged string) {
	switch {
	case n == 0:
		fmt.Fprintln(w, printable.String(unchanged))
	case dryRun:
		fmt.Fprintln(w, "dry run: nothing changed")
	}
}

// nextSteps follow a setup: a first signature, and how to check it.
const nextSteps = `next steps:
  git commit -m "..."   sign a commit (the first signature logs you in)
  gitsign show          who signed HEAD, and the allowed-signers line for them
  add that line to .gitsigners and run: git config gitsign.allowedSignersFile .gitsigners
  gitsign verify        check HEAD's signature against .gitsigners
note: the identity you log in with (your email address) is recorded in a public transparency log with each signature
`

// setupWarner shows setup's warnings the one way, with their hints.
func setupWarner(w io.Writer) func(string, ...string) {
	return func(msg string, hints ...string) {
		fmt.Fprintf(w, "gitsign: warning: %s\n", printable.String(msg))
		for _, h := range hints {
			fmt.Fprintf(w, "gitsign: hint: %s\n", printable.String(h))
		}
	}
}
